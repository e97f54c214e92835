import Foundation
import Logging
import PostgresNIO
import ProactivityCore
import Synchronization

/// The worker's database work for one tick: stream the job's query in pages and record
/// the tick as completed with its audit row (the pages' alerts are sifted by and
/// recorded in the ``AlertLedger``).
public struct ReminderStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Whether each job query (by its text) has a payload column.
    private let shapes = QueryShapes()

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Whether this tick was completed before (a duplicate or a redelivery).
    public func isCompleted(tickId: String) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM worker_ticks_completed WHERE tick_id = \(tickId)")
        for try await _ in rows { return true }
        return false
    }

    /// Runs a job's query for a tick's window and shard and hands its rows over in pages
    /// of up to `pageSize`, in due order, as PostgreSQL finds them: the first page leaves
    /// while the query still runs, and memory holds two pages (the one handed over and
    /// the next, fetched meanwhile). Which of them were alerted before is for
    /// ``unsent(_:job:tick:)`` to say, page by page.
    ///
    /// The rows come from a cursor (`job_<name>`, see ``JobQuery/cursorName(forJob:)``)
    /// planned for its first rows (`cursor_tuple_fraction` 0.01), a FETCH per page, the
    /// next asked for while a page is decoded. Planned for all its rows, a window whose
    /// due times lie scattered in the table was read with a bitmap scan and sorted whole
    /// before its first row (100,000 rows: about 150 ms more to the first alert). (One
    /// `FETCH ALL` is no stream: PostgreSQL fills a FETCH's whole result before sending it.)
    ///
    /// The job's `statement_timeout` bounds each FETCH, and the whole run is checked
    /// against it between pages.
    /// - Returns: the rows of the window.
    /// - Throws: ``JobQueryError`` when the query lacks a standard column;
    ///   ``JobQueryTimeout`` when the pages together outlast the statement timeout;
    ///   database errors.
    @discardableResult
    public func forEachDuePage(
        job: JobDefinition, tick: TickMessage, pageSize: Int, _ body: ([DueItem]) async throws -> Void
    ) async throws -> Int {
        let query = JobQuery(job: job)
        let window = (start: tick.windowStart, end: tick.windowEnd)
        // The job's SQL is outside code: it runs read-only (a volatile function cannot
        // change data) and within its statement timeout.
        return try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION READ ONLY", logger: logger)
            try await connection.query(
                "SELECT set_config('statement_timeout', \(String(job.statementTimeoutSeconds * 1000)), true), set_config('cursor_tuple_fraction', '0.01', true)",
                logger: logger)
            let hasPayload = try await hasPayloadColumn(query, window: window, on: connection)
            let cursor = JobQuery.cursorName(forJob: job.name)
            try await connection.query(
                query.cursor(named: cursor, window: window, shard: tick.shard, shardCount: tick.shardCount, hasPayload: hasPayload),
                logger: logger)
            let deadline = ContinuousClock.now + .seconds(job.statementTimeoutSeconds)
            @Sendable func fetch() async throws -> PostgresRowSequence {
                try await connection.query(PostgresQuery(unsafeSQL: "FETCH FORWARD \(pageSize) FROM \(cursor)"), logger: logger)
            }
            var page: [DueItem] = []
            page.reserveCapacity(pageSize)
            var total = 0
            var rows = try await fetch()
            while true {
                // The next page is asked for at once: PostgreSQL computes it while this one is decoded.
                async let following = fetch()
                // Cell by cell rather than as one tuple (a generic tuple type costs a
                // metadata lookup per row).
                for try await row in rows {
                    var cells = row.makeIterator()
                    guard let itemId = cells.next(), let userId = cells.next(), let title = cells.next(), let dueAt = cells.next(),
                        let payload = cells.next()
                    else { throw JobQueryError(jobName: job.name, missingColumns: ["(the wrapped query returned too few columns)"]) }
                    page.append(
                        DueItem(
                            itemId: try itemId.decode(String.self), userId: try userId.decode(String.self),
                            title: try title.decode(String?.self) ?? "", dueAt: try dueAt.decode(Date.self),
                            payloadJSON: try payload.decode(String?.self)))
                }
                total += page.count
                let last = page.count < pageSize
                if !page.isEmpty { try await body(page) }
                if last {
                    _ = try await following
                    return total
                }
                guard ContinuousClock.now < deadline else { throw JobQueryTimeout(jobName: job.name, limit: .seconds(job.statementTimeoutSeconds), rows: total) }
                page.removeAll(keepingCapacity: true)
                rows = try await following
            }
        }
    }

    /// What is wrong with each job's query, checked without running it (its plan and
    /// columns, `LIMIT 0`, read-only): a missing table or column, a syntax error, no
    /// standard columns. Empty when every query is sound.
    /// - Throws: when the database cannot be reached (nothing could be checked).
    public func problems(of jobs: [JobDefinition]) async throws -> [String] {
        var problems: [String] = []
        for job in jobs {
            do {
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("SET TRANSACTION READ ONLY", logger: logger)
                    let now = Date()
                    _ = try await hasPayloadColumn(JobQuery(job: job), window: (now, now), on: connection)
                }
            } catch {
                if case .unavailable = DatabaseError.kind(of: error) { throw error }
                problems.append("job '\(job.name)': \(DatabaseError.describe(error))")
            }
        }
        return problems
    }

    /// Whether a job's query has a `payload` column, checking the standard ones; learned
    /// once per query text (a `LIMIT 0` run) and remembered.
    private func hasPayloadColumn(_ query: JobQuery, window: (start: Date, end: Date), on connection: PostgresConnection) async throws -> Bool {
        if let known = shapes.state.withLock({ $0[query.job.sql] }) { return known }
        let rows = try await connection.query(query.shape(window: window), logger: logger)
        let columns = Set(rows.columns.map(\.name))
        for try await _ in rows {}
        let missing = JobQuery.requiredColumns.filter { !columns.contains($0) }
        guard missing.isEmpty else { throw JobQueryError(jobName: query.job.name, missingColumns: missing) }
        let hasPayload = columns.contains("payload")
        shapes.state.withLock { $0[query.job.sql] = hasPayload }
        return hasPayload
    }

    /// The alert ledger in the same database: what this store's windows are sifted by
    /// and their alerts recorded in.
    public var alertLedger: AlertLedger {
        AlertLedger(client: client, logger: logger)
    }

    /// Records, in one transaction, the tick as completed (with its alert count) and its
    /// audit row; its alerts were recorded page by page before.
    public func complete(_ tick: TickMessage, alerts: Int, execution: JobExecution) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query(
                """
                INSERT INTO worker_ticks_completed (tick_id, job_name, slot, alerts)
                VALUES (\(tick.tickId), \(tick.jobName), \(tick.slot), \(alerts))
                ON CONFLICT (tick_id) DO NOTHING
                """, logger: logger)
            try await JobEventStore.insert(execution, on: connection, logger: logger)
        }
    }
}

/// A job's query ran longer than its statement timeout, over all the pages it was read in.
public struct JobQueryTimeout: Error, CustomStringConvertible {
    public let jobName: String
    public let limit: Duration
    public let rows: Int
    public var description: String {
        "canceling the query of job '\(jobName)' due to statement timeout (\(limit) over all its pages; \(rows) rows read)"
    }
}

/// Whether each job query (by its text) has a payload column.
private final class QueryShapes: Sendable {
    let state = Mutex<[String: Bool]>([:])
}
