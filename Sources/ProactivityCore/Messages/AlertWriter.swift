import Foundation

/// Writes the alerts of one tick as JSON bytes, without `Codable`: what the alerts of a
/// tick share (job, severity, tick id, creation time) is formatted once, and each
/// alert's text is written straight into its page's buffer (``AlertPage``). Keys are in
/// sorted order, as ``MessageCoding`` writes every message.
public struct AlertWriter: Sendable {
    public let jobName: String
    public let severity: String
    public let tickId: String
    /// Items due before the slot are `late` (caught up after downtime).
    public let slot: Date
    /// What every alert of the tick shares, as JSON text.
    private let createdAt: [UInt8]
    private let jobNameBytes: [UInt8]
    private let jobNameJSON: [UInt8]
    private let severityJSON: [UInt8]
    private let tickIdJSON: [UInt8]

    /// Prepares the alerts of `tick` for `job`, created at `createdAt`.
    public init(job: JobDefinition, tick: TickMessage, createdAt: Date) {
        jobName = job.name
        severity = job.severity
        tickId = tick.tickId
        slot = tick.slot
        func json(_ write: (inout JSONWriter) -> Void) -> [UInt8] {
            var writer = JSONWriter(capacity: 64)
            write(&writer)
            return writer.bytes
        }
        self.createdAt = json { $0.timestamp(createdAt) }
        jobNameBytes = Array(job.name.utf8)
        jobNameJSON = json { $0.string(job.name) }
        severityJSON = json { $0.string(job.severity) }
        tickIdJSON = json { $0.string(tick.tickId) }
    }

    /// One alert, written.
    public struct Written: Sendable {
        /// The alert id (``AlertMessage/id(job:itemId:dueAt:)``), UTF-8.
        public let id: [UInt8]
        /// The alert's JSON (schema `alert.schema.json`, version ``MessageCoding/schemaVersion``).
        public let json: [UInt8]
        /// The item was due before the tick's slot.
        public let late: Bool
    }

    /// Writes the alert for `item` on its own (the hot path writes pages: ``write(_:into:)``).
    public func write(_ item: DueItem) -> Written {
        var page = AlertPage(capacity: 1)
        write(item, into: &page)
        let alert = page.alerts[0]
        return Written(id: Array(page.bytes[alert.id]), json: Array(page.bytes[alert.json]), late: alert.late)
    }

    /// Appends the alert for `item` to `page`: its key, its id, then its JSON, straight
    /// into the page's buffer. The due time is formatted once, for the id and the JSON.
    public func write(_ item: DueItem, into page: inout AlertPage) {
        page.id.removeAll(keepingCapacity: true)
        page.id.append(contentsOf: jobNameBytes)
        page.id.append(UInt8(ascii: ":"))
        page.id.append(contentsOf: item.itemId.utf8)
        page.id.append(UInt8(ascii: "@"))
        let dueAtStart = page.id.count
        Timestamp.append(item.dueAt, to: &page.id)
        let late = item.dueAt < slot

        // The page's buffer is moved into the writer and back (no copy).
        var writer = JSONWriter(capacity: 0)
        swap(&writer.bytes, &page.bytes)
        let keyStart = writer.bytes.count
        writer.bytes.append(contentsOf: item.userId.utf8)
        let idStart = writer.bytes.count
        writer.bytes.append(contentsOf: page.id)
        let jsonStart = writer.bytes.count
        writer.raw("{\"alert_id\":")
        writer.string(utf8: page.id)
        writer.raw(",\"created_at\":")
        writer.rawJSON(createdAt)
        writer.raw(",\"due_at\":\"")
        writer.rawJSON(page.id[dueAtStart...])
        writer.raw("\",\"item_id\":")
        writer.string(item.itemId)
        writer.raw(",\"job_name\":")
        writer.rawJSON(jobNameJSON)
        writer.raw(",\"late\":")
        writer.bool(late)
        if let payload = item.payloadJSON {
            writer.raw(",\"payload\":")
            writer.rawJSON(payload.utf8)
        }
        writer.raw(",\"schema_version\":")
        writer.int(MessageCoding.schemaVersion)
        writer.raw(",\"severity\":")
        writer.rawJSON(severityJSON)
        writer.raw(",\"tick_id\":")
        writer.rawJSON(tickIdJSON)
        writer.raw(",\"title\":")
        writer.string(item.title)
        writer.raw(",\"user_id\":")
        writer.string(item.userId)
        writer.raw("}")
        swap(&writer.bytes, &page.bytes)
        page.alerts.append(
            AlertPage.Alert(key: keyStart..<idStart, id: idStart..<jsonStart, json: jsonStart..<page.bytes.count, late: late))
        page.reserveAfterFirst()
    }
}
