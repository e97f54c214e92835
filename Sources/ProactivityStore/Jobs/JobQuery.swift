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
    /// The columns every job returns; `payload` (JSON) is optional.
    static let requiredColumns = ["item_id", "user_id", "title", "due_at"]

    /// A job's `payload` column, by its type: how it is read as JSON text.
    enum Payload: Sendable, Equatable {
        /// The query has no payload column.
        case none
        /// `json` or `jsonb`: JSON by its type (checked when the value was made), read as
        /// its text.
        case json
        /// Any other type (text): checked by PostgreSQL's JSON parser as it is read, so
        /// a value that is not JSON fails the job's SQL. `::json` checks without building
        /// a `jsonb` value (psql, a million rows of the built-in reminders' payload: 0.27
        /// µs per row against 0.95 for `jsonb_build_object`).
        case other

        /// What the cursor selects for it.
        var expression: String {
            switch self {
            case .none: "NULL::text"
            case .json: "due.payload::text"
            case .other: "due.payload::json::text"
            }
        }
    }

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

    /// Declares the cursor `name` (an SQL identifier, quoted) over the rows of one window
    /// and shard, in due order: item id, user id, title, due time, payload as JSON text
    /// (NULL when the job has none), and `covered` (NULL on every row of a fresh window).
    /// Whether the ledger has a row is asked page by page, in a statement of its own
    /// (``AlertLedger/unsent(_:job:window:)``).
    ///
    /// With `ledgerEnd`, the latest due time the ledger holds for the job in this window
    /// (the part of the window an earlier, overlapping tick covered), rows due up to it
    /// that the ledger already has (as of the cursor's snapshot) are not sent. The rows
    /// of that covered part the ledger lacks (late inserts) come with `covered` 1, and
    /// one last row, every other column NULL, carries in `covered` the number of rows
    /// the covered part holds: the worker knows how many the ledger had without reading
    /// them, and the tick's `due` figure stays the number of rows the job's SQL returned.
    /// Rows due after `ledgerEnd` come as without it, and the page lookup still decides
    /// for every row sent (a concurrent run may have recorded it since).
    ///
    /// PostgreSQL holds the covered part's ledger keys in a hash while the cursor runs
    /// (about 130 bytes a row), at most `coveredKeysLimit` of them: the first its scan
    /// reads, in no particular order (asked in due order, PostgreSQL would walk the
    /// ledger's key and visit the table for every fresh row: a quarter slower over a
    /// million rows). Covered rows beyond them come with `covered` 1 like late inserts,
    /// and the page lookup finds them alerted. It must be planned as one (see
    /// ``ReminderStore/forEachDuePage(job:tick:pageSize:_:)``). The number of covered
    /// rows is a count over the job's SQL again, which an index on the due column makes
    /// a range count: cheaper than keeping every row to count the sifted ones.
    ///
    /// Under the `UNION ALL`, PostgreSQL plans the ordered rows for all of them
    /// (`cursor_tuple_fraction` is not passed down): typically a scan of the window, then
    /// a sort of the rows the ledger lacks. The covered part comes first in due order and
    /// is read whole before any new row, so that is the faster plan for a sliding tick:
    /// planned for its first rows instead (the count as a statement of its own), the
    /// cursor walked the due index and visited the table row by row, and sliding ticks
    /// over 100,000 alerted rows took 263-426 ms instead of 174-262 ms (`bench pipeline`).
    func cursor(
        named name: String, window: (start: Date, end: Date), shard: Int, shardCount: Int, payload: Payload,
        ledgerEnd: Date?, coveredKeysLimit: Int
    ) -> PostgresQuery {
        let payload = payload.expression
        let shardFilter = "($3::int = 1 OR mod(('x' || substr(md5(due.user_id::text), 1, 7))::bit(28)::int, $3::int) = $4::int)"
        var binds = PostgresBindings()
        binds.append(window.start)
        binds.append(window.end)
        binds.append(shardCount)
        binds.append(shard)
        guard let ledgerEnd else {
            return PostgresQuery(
                unsafeSQL: """
                    DECLARE \(name) NO SCROLL CURSOR FOR
                    SELECT due.item_id::text, due.user_id::text, due.title::text, due.due_at::timestamptz, \(payload), NULL::bigint
                    FROM (\(inner)) AS due
                    WHERE \(shardFilter)
                    ORDER BY due.due_at
                    """, binds: binds)
        }
        binds.append(ledgerEnd)
        binds.append(job.name)
        binds.append(coveredKeysLimit)
        binds.append(AlertLedger.utcDay(of: window.start))
        // The ledger's keys of the covered part are unfolded from its pages once into a
        // hash (an uncorrelated IN inside an expression stays a hashed subplan), never
        // probed row by row, and never merged with the rows: many items share a due time.
        // Only the days from the window's start on hold pages that reach into it. The two
        // arrays are unfolded in the select list, in step (the ledger's check keeps them of
        // one length), not by a lateral `unnest(item_ids, due_ats)`, whose function scan
        // first copies each page's rows into a tuplestore: 100,000 keys in 18-35 ms instead
        // of 41-51 (psql). `IS NOT TRUE`: a row whose item id is NULL reaches the worker,
        // which refuses it.
        return PostgresQuery(
            unsafeSQL: """
                DECLARE \(name) NO SCROLL CURSOR FOR
                (SELECT due.item_id::text, due.user_id::text, due.title::text, due.due_at::timestamptz, \(payload),
                        CASE WHEN due.due_at::timestamptz <= $5::timestamptz THEN 1::bigint END
                 FROM (\(inner)) AS due
                 WHERE \(shardFilter)
                   AND (due.due_at::timestamptz <= $5::timestamptz
                        AND (due.item_id::text, due.due_at::timestamptz) IN (
                            SELECT sent.item_id, sent.due_at
                            FROM (SELECT unnest(p.item_ids) AS item_id, unnest(p.due_ats) AS due_at
                                  FROM worker_alert_pages p
                                  WHERE p.job_name = $6::text AND p.last_due >= $1::timestamptz AND p.first_due <= $5::timestamptz
                                    AND p.first_due >= $8::timestamptz) AS sent
                            WHERE sent.due_at >= $1::timestamptz AND sent.due_at <= $5::timestamptz
                            LIMIT $7::bigint)
                       ) IS NOT TRUE
                 ORDER BY due.due_at)
                UNION ALL
                SELECT NULL, NULL, NULL, NULL, NULL, count(*)
                FROM (\(inner)) AS due
                WHERE \(shardFilter) AND due.due_at::timestamptz <= $5::timestamptz
                """, binds: binds)
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
