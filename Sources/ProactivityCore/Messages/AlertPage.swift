/// The alerts of a page written one after another into one buffer, each as its key
/// (the user id), its id and its JSON: what the producer hands to librdkafka as ranges
/// of that buffer, without an array per alert.
public struct AlertPage: Sendable {
    /// Where one alert's parts lie in ``bytes``.
    public struct Alert: Sendable {
        /// The user id, UTF-8: the record key (each user's alerts on one partition).
        public let key: Range<Int>
        /// The alert id (``AlertMessage/id(job:itemId:dueAt:)``), UTF-8.
        public let id: Range<Int>
        /// The alert's JSON (schema `alert.schema.json`, version ``MessageCoding/schemaVersion``).
        public let json: Range<Int>
        /// The item was due before the tick's slot.
        public let late: Bool
    }

    /// Every alert's key, id and JSON, in the order written.
    public internal(set) var bytes: [UInt8] = []
    /// The alerts written, in order.
    public internal(set) var alerts: [Alert] = []
    /// The id being written (reused: ids are written into the JSON escaped, into the
    /// header as they are).
    var id: [UInt8] = []

    /// Starts an empty page with room for `capacity` alerts.
    public init(capacity: Int) {
        alerts.reserveCapacity(capacity)
        id.reserveCapacity(128)
    }

    /// After the first alert: room for `alerts.capacity` of its size and a quarter more,
    /// counting at most 2 KB per alert (one huge first row must not reserve the page
    /// thousands of times over; bigger alerts grow the buffer as they come).
    mutating func reserveAfterFirst() {
        guard alerts.count == 1 else { return }
        bytes.reserveCapacity(min(bytes.count, 2_048) * alerts.capacity * 5 / 4)
    }
}
