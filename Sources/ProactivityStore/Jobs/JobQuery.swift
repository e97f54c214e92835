import Foundation
import PostgresNIO
import ProactivityCore

/// A job's reminder SQL wrapped for one run: the window bound (`:window_start` → `$1`,
/// `:window_end` → `$2`), the standard columns cast to their types, only the users of
/// the tick's shard (`$3` shards, `$4` this shard; shard = the first 28 bits of
/// md5(user_id), a non-negative number, modulo the shard count: stable across processes
/// and versions), and the rows **in due order**, so every user's alerts are published
/// in due order whatever page they fall in. The rows are read through a cursor planned
/// for its first rows: with an index on the due column they come in index order as
/// PostgreSQL finds them, not after a sort of the whole window.
struct JobQuery {
    /// The columns every job returns; `payload` (jsonb) is optional.
    static let requiredColumns = ["item_id", "user_id", "title", "due_at"]

    let job: JobDefinition

    /// The quoted name of the job's cursor: `job_` and the job's name with every
    /// character but ASCII letters, digits, `-` and `_` replaced by `_`, at most 48 of
    /// them (`pg_stat_activity` shows which job a backend fetches for; a job's name is
    /// free text).
    static func cursorName(forJob name: String) -> String {
        let safe = name.prefix(48).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : "_" }
        return "\"job_" + String(safe) + "\""
    }

    /// The job's SQL with the window placeholders bound.
    var inner: String {
        job.sql
            .replacingOccurrences(of: ":window_start", with: "$1::timestamptz")
            .replacingOccurrences(of: ":window_end", with: "$2::timestamptz")
    }

    /// A query that returns no rows, only the job's column names.
    func shape(window: (start: Date, end: Date)) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(window.start)
        binds.append(window.end)
        return PostgresQuery(unsafeSQL: "SELECT * FROM (\(inner)) AS due LIMIT 0", binds: binds)
    }

    /// The one row of `itemId` due within the millisecond `dueAt` (alert ids carry
    /// milliseconds) in a window, if the job's SQL returns it: user id and title (for `explain`).
    func item(_ itemId: String, dueAt: Date, window: (start: Date, end: Date)) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(window.start)
        binds.append(window.end)
        binds.append(itemId)
        binds.append(dueAt)
        return PostgresQuery(
            unsafeSQL: """
                SELECT due.user_id::text, due.title::text FROM (\(inner)) AS due
                WHERE due.item_id::text = $3 AND due.due_at::timestamptz >= $4::timestamptz
                  AND due.due_at::timestamptz < $4::timestamptz + interval '1 millisecond' LIMIT 1
                """, binds: binds)
    }

    /// Declares the cursor `name` (an SQL identifier, quoted) over the rows of one window and shard: item id, user
    /// id, title, due time, payload as JSON text (NULL when the job has none). Whether
    /// the ledger has them is asked page by page, in a statement of its own
    /// (``ReminderStore/unsent(_:job:tick:)``).
    func cursor(named name: String, window: (start: Date, end: Date), shard: Int, shardCount: Int, hasPayload: Bool) -> PostgresQuery {
        // `::jsonb` validates a text or json payload column (a query whose payload is
        // not JSON fails as the job's SQL) and costs nothing on jsonb.
        let payload = hasPayload ? "due.payload::jsonb::text" : "NULL::text"
        let sql = """
            DECLARE \(name) NO SCROLL CURSOR FOR
            SELECT due.item_id::text, due.user_id::text, due.title::text, due.due_at::timestamptz, \(payload)
            FROM (\(inner)) AS due
            WHERE $3::int = 1 OR mod(('x' || substr(md5(due.user_id::text), 1, 7))::bit(28)::int, $3::int) = $4::int
            ORDER BY due.due_at
            """
        var binds = PostgresBindings()
        binds.append(window.start)
        binds.append(window.end)
        binds.append(shardCount)
        binds.append(shard)
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}

/// A job's query does not return the standard columns.
public struct JobQueryError: Error, CustomStringConvertible {
    public let jobName: String
    public let missingColumns: [String]
    public var description: String {
        "the query of job '\(jobName)' returns no column \(missingColumns.joined(separator: ", ")) (needs item_id, user_id, title, due_at; payload optional)"
    }
}
