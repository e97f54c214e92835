import Foundation

/// Writes the alerts of one tick as JSON bytes, without `Codable`: what the alerts of a
/// tick share (job, severity, tick id, creation time) is formatted once, and each
/// alert's text is written straight into its buffer. Keys are in sorted order, as
/// ``MessageCoding`` writes every message.
public struct AlertWriter: Sendable {
    public let jobName: String
    public let severity: String
    public let tickId: String
    /// Items due before the slot are `late` (caught up after downtime).
    public let slot: Date
    private let createdAt: [UInt8]

    /// Prepares the alerts of `tick` for `job`, created at `createdAt`.
    public init(job: JobDefinition, tick: TickMessage, createdAt: Date) {
        jobName = job.name
        severity = job.severity
        tickId = tick.tickId
        slot = tick.slot
        var created: [UInt8] = []
        Timestamp.append(createdAt, to: &created)
        self.createdAt = created
    }

    /// The deterministic id of the alert for `item` (``AlertMessage/id(job:itemId:dueAt:)``).
    public func alertId(for item: DueItem) -> String {
        AlertMessage.id(job: jobName, itemId: item.itemId, dueAt: item.dueAt)
    }

    /// Whether `item` was due before the tick's slot.
    public func isLate(_ item: DueItem) -> Bool { item.dueAt < slot }

    /// The alert's JSON (schema `alert.schema.json`, version ``MessageCoding/schemaVersion``).
    public func json(for item: DueItem, alertId: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 256 + item.title.utf8.count + (item.payloadJSON?.utf8.count ?? 0))
        writer.raw("{")
        writer.key("alert_id")
        writer.string(alertId)
        writer.raw(",")
        writer.key("created_at")
        writer.raw("\"")
        writer.rawJSON(createdAt)
        writer.raw("\",")
        writer.key("due_at")
        var due: [UInt8] = []
        due.reserveCapacity(24)
        Timestamp.append(item.dueAt, to: &due)
        writer.raw("\"")
        writer.rawJSON(due)
        writer.raw("\",")
        writer.key("item_id")
        writer.string(item.itemId)
        writer.raw(",")
        writer.key("job_name")
        writer.string(jobName)
        writer.raw(",")
        writer.key("late")
        writer.bool(isLate(item))
        if let payload = item.payloadJSON {
            writer.raw(",")
            writer.key("payload")
            writer.rawJSON(payload.utf8)
        }
        writer.raw(",")
        writer.key("schema_version")
        writer.int(MessageCoding.schemaVersion)
        writer.raw(",")
        writer.key("severity")
        writer.string(severity)
        writer.raw(",")
        writer.key("tick_id")
        writer.string(tickId)
        writer.raw(",")
        writer.key("title")
        writer.string(item.title)
        writer.raw(",")
        writer.key("user_id")
        writer.string(item.userId)
        writer.raw("}")
        return writer.bytes
    }
}
