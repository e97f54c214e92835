/// Records for one topic laid out in one buffer: how a hot path hands many messages to
/// ``KafkaProducer/enqueue(_:)-(KafkaProducerBatch)`` without an array per key, value
/// and header.
///
/// Each record has a key, a value and the value of one header of its own (named by the
/// batch), all ranges of ``bytes``, and carries the batch's common headers after it.
public struct KafkaProducerBatch: Sendable {
    /// Where one record's parts lie in ``bytes``.
    public struct Record: Sendable {
        public var key: Range<Int>
        public var value: Range<Int>
        /// The value of the batch's ``headerName`` header.
        public var header: Range<Int>

        public init(key: Range<Int>, value: Range<Int>, header: Range<Int>) {
            self.key = key
            self.value = value
            self.header = header
        }
    }

    public let topic: String
    /// The name of the header each record has a value of its own for.
    public let headerName: String
    /// Headers every record carries after its own.
    public let commonHeaders: [KafkaHeader]
    /// The records' keys, values and header values.
    public let bytes: [UInt8]
    public let records: [Record]

    /// - Precondition: every record's ranges lie within `bytes`.
    public init(topic: String, headerName: String, commonHeaders: [KafkaHeader] = [], bytes: [UInt8], records: [Record]) {
        func inside(_ range: Range<Int>) -> Bool { range.lowerBound >= 0 && range.upperBound <= bytes.count }
        precondition(
            records.allSatisfy { inside($0.key) && inside($0.value) && inside($0.header) }, "a record's range lies outside the batch's bytes")
        self.topic = topic
        self.headerName = headerName
        self.commonHeaders = commonHeaders
        self.bytes = bytes
        self.records = records
    }

    public var count: Int { records.count }
}
