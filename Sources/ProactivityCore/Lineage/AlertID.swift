import Foundation

/// An alert's id, `job:item@due` (as ``AlertWriter`` writes it on every alert): the job's
/// name (which has no `:`), the item id (any text, `:` and `@` included) and the due time.
public struct AlertID: Sendable, Hashable, CustomStringConvertible {
    public var jobName: String
    public var itemId: String
    public var dueAt: Date

    public init(jobName: String, itemId: String, dueAt: Date) {
        self.jobName = jobName
        self.itemId = itemId
        self.dueAt = dueAt
    }

    /// Text that is not an alert id, with the reason.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Reads `job:item@due`: the job up to the first `:`, the due time after the last `@`.
    /// - Throws: ``Invalid`` naming what is missing.
    public init(parsing text: String) throws(Invalid) {
        let shown = text.count > 100 ? "\(text.prefix(100))…" : text
        guard text.utf8.count <= 4096 else { throw Invalid(description: "'\(shown)' is too long for an alert id") }
        guard let colon = text.firstIndex(of: ":"), let at = text.lastIndex(of: "@"), colon < at else {
            throw Invalid(description: "'\(shown)' is not an alert id (job:item@due, e.g. event-reminder:42@2026-11-25T15:30:00.000Z)")
        }
        let job = String(text[..<colon])
        let item = String(text[text.index(after: colon)..<at])
        guard !job.isEmpty, !item.isEmpty else { throw Invalid(description: "'\(shown)' names no job or no item") }
        guard let due = MessageCoding.parseTimestamp(String(text[text.index(after: at)...])) else {
            throw Invalid(description: "'\(shown)' does not end with a due time (ISO 8601, after the last '@')")
        }
        self.init(jobName: job, itemId: item, dueAt: due)
    }

    public var description: String { "\(jobName):\(itemId)@\(Timestamp.format(dueAt))" }
}
