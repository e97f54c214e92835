import Foundation

/// One reminder for one user about one due item: what notification services consume.
///
/// `alertId` is derived from (job, item, due time): a re-sent alert carries the same
/// id, so consumers drop duplicates by it; a changed due time makes a new alert.
public struct AlertMessage: Sendable, Hashable, Codable {
    public var schemaVersion: Int = MessageCoding.schemaVersion
    public var alertId: String
    public var jobName: String
    public var itemId: String
    public var userId: String
    public var title: String
    public var dueAt: Date
    /// The item was due before its tick's slot: it was missed (downtime) and caught up.
    public var late: Bool
    public var severity: String
    public var payload: JSONValue?
    public var tickId: String
    public var createdAt: Date

    public init(item: DueItem, job: JobDefinition, tick: TickMessage, createdAt: Date) {
        self.alertId = Self.id(job: job.name, itemId: item.itemId, dueAt: item.dueAt)
        self.jobName = job.name
        self.itemId = item.itemId
        self.userId = item.userId
        self.title = item.title
        self.dueAt = item.dueAt
        self.late = item.dueAt < tick.slot
        self.severity = job.severity
        self.payload = item.payload
        self.tickId = tick.tickId
        self.createdAt = createdAt
    }

    /// The deterministic alert id: `job:item@due`.
    public static func id(job: String, itemId: String, dueAt: Date) -> String {
        "\(job):\(itemId)@\(MessageCoding.timestamp(dueAt))"
    }
}

/// A row a reminder query returned: the standard columns.
public struct DueItem: Sendable, Hashable {
    public var itemId: String
    public var userId: String
    public var title: String
    public var dueAt: Date
    public var payload: JSONValue?

    public init(itemId: String, userId: String, title: String, dueAt: Date, payload: JSONValue? = nil) {
        self.itemId = itemId
        self.userId = userId
        self.title = title
        self.dueAt = dueAt
        self.payload = payload
    }
}
