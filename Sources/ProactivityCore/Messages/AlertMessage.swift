import Foundation

/// One reminder for one user about one due item: what notification services consume
/// (`topics/schemas/alert.schema.json`). The worker writes it with ``AlertWriter``;
/// this type reads it back.
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

    /// The deterministic alert id: `job:item@due`.
    public static func id(job: String, itemId: String, dueAt: Date) -> String {
        "\(job):\(itemId)@\(Timestamp.format(dueAt))"
    }
}

/// A row a reminder query returned: the standard columns.
public struct DueItem: Sendable, Hashable {
    public var itemId: String
    public var userId: String
    public var title: String
    public var dueAt: Date
    /// The job's `payload` column as the JSON text PostgreSQL wrote (a `json` or `jsonb`
    /// value's text, or a text column checked as JSON), passed into the alert as it is.
    public var payloadJSON: String?

    public init(itemId: String, userId: String, title: String, dueAt: Date, payloadJSON: String? = nil) {
        self.itemId = itemId
        self.userId = userId
        self.title = title
        self.dueAt = dueAt
        self.payloadJSON = payloadJSON
    }
}
