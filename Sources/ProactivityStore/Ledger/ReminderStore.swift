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
    /// At most this many of a window's ledger keys are read into PostgreSQL's hash for an
    /// overlapping tick (see ``forEachDuePage(job:tick:pageSize:_:)``).
    let coveredKeysLimit: Int
    /// Held by each window's cursor, which holds a pooled connection while it runs.
    private let cursors: Permits
    /// Each job query's payload column (by the query's text).
    private let shapes = QueryShapes()

    /// The default ``coveredKeysLimit``: a million keys, about 130 MB of the PostgreSQL
    /// backend that runs the tick (measured: 127 MB of anonymous memory for a million),
    /// for as long as its cursor runs. A hashed subplan never spills to disk, so without
    /// a limit a window of 10 million alerted items would take over a gigabyte per tick.
    public static let defaultCoveredKeysLimit = 1_000_000

    /// Rows of a window's first page, at most: the first alerts leave after a short FETCH
    /// while the full pages that follow are read. (The big window of `bench pipeline`:
    /// first alert 57-58 ms with a first page of 2,000 rows, 32-33 ms with 200.)
    public static let firstPageSize = 200

    /// - Parameters:
    ///   - coveredKeysLimit: at most this many ledger keys of a window held in
    ///     PostgreSQL's memory by a tick; a positive number.
    ///   - cursorLimit: windows read at once through this store and its copies, at most;
    ///     a positive number below the pool's connections
    ///     (``DatabaseSettings/windowCursorLimit``), so that what a tick does beside its
    ///     cursor always finds a connection.
    ///   - windowsWaiting: told how many windows wait for a cursor each time that changes.
    public init(
        client: PostgresClient, logger: Logger, coveredKeysLimit: Int = Self.defaultCoveredKeysLimit,
        cursorLimit: Int = DatabaseSettings.defaultMaximumConnections - DatabaseSettings.connectionsBesideCursors,
        windowsWaiting: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        precondition(coveredKeysLimit > 0, "coveredKeysLimit must be positive")
        self.client = client
        self.logger = logger
        self.coveredKeysLimit = coveredKeysLimit
        cursors = Permits(limit: cursorLimit, waitersChanged: windowsWaiting)
    }

    /// Whether this tick was completed before (a duplicate or a redelivery).
    public func isCompleted(tickId: String) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM worker_ticks_completed WHERE tick_id = \(tickId)")
        for try await _ in rows { return true }
        return false
    }

    /// What one run of a job's query read for a window.
    public struct WindowRows: Sendable, Equatable {
        /// Rows handed over in pages.
        public var handedOver = 0
        /// Rows the ledger already had when the cursor opened, counted in PostgreSQL and
        /// never sent (the part of the window an earlier, overlapping tick alerted).
        public var alreadyInLedger = 0
        /// Every row the job's SQL returned for the window and shard.
        public var total: Int { handedOver + alreadyInLedger }

        public init(handedOver: Int = 0, alreadyInLedger: Int = 0) {
            self.handedOver = handedOver
            self.alreadyInLedger = alreadyInLedger
        }
    }

    /// Runs a job's query for a tick's window and shard and hands its rows over in pages
    /// of up to `pageSize`, in due order, as PostgreSQL finds them: the first page (at most
    /// ``firstPageSize`` rows) leaves while the query still runs, and memory holds two
    /// pages (the one handed over and the next, fetched meanwhile). Which of them were alerted before is for
    /// ``AlertLedger/unsent(_:job:window:)`` to say, page by page.
    ///
    /// Where the ledger already holds rows of this window (an earlier tick's window
    /// overlapped it), the rows it has up to its latest due time are counted in
    /// PostgreSQL and not sent (``JobQuery/cursor(named:window:shard:shardCount:payload:ledgerEnd:coveredKeysLimit:)``),
    /// so the overlapping windows of a sliding schedule read their alerted part for
    /// nothing in the worker. PostgreSQL holds that part's ledger keys in a hash while
    /// the cursor runs, at most ``coveredKeysLimit`` of them; where the window's ledger
    /// holds more, the rows of the others come to the worker for the page lookup, as in
    /// a window no tick covered: slower, but within a bounded memory.
    ///
    /// The rows come from a cursor (`job_<name>`, see ``JobQuery/cursorName(forJob:)``)
    /// planned for its first rows (`cursor_tuple_fraction` 0.01), a FETCH per page, the
    /// next asked for while a page is decoded: planned for all its rows, a window whose
    /// due times lie scattered in the table would be sorted whole before its first row.
    /// (One `FETCH ALL` is no stream: PostgreSQL fills a FETCH's whole result before
    /// sending it.)
    ///
    /// The job's `statement_timeout` bounds each FETCH, and the whole run is checked
    /// against it between pages.
    /// - Returns: what was read.
    /// - Throws: ``JobQueryError`` when the query lacks a standard column;
    ///   ``JobQueryTimeout`` when the pages together outlast the statement timeout;
    ///   database errors.
    @discardableResult
    public func forEachDuePage(
        job: JobDefinition, tick: TickMessage, pageSize: Int, _ body: ([DueItem]) async throws -> Void
    ) async throws -> WindowRows {
        let query = JobQuery(job: job)
        let window = (start: tick.windowStart, end: tick.windowEnd)
        // The job's SQL is outside code: it runs read-only (a volatile function cannot
        // change data) and within its statement timeout.
        return try await cursors.withPermit {
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SET TRANSACTION READ ONLY", logger: logger)
                try await connection.query(
                    "SELECT set_config('statement_timeout', \(String(job.statementTimeoutSeconds * 1000)), true), set_config('cursor_tuple_fraction', '0.01', true)",
                    logger: logger)
                let payload = try await payloadColumn(query, window: window, on: connection)
                let ledgerEnd = try await Self.latestLedgerDue(of: job, in: window, on: connection, logger: logger)
                let cursor = JobQuery.cursorName(forJob: job.name)
                let declare = query.cursor(
                    named: cursor, window: window, shard: tick.shard, shardCount: tick.shardCount, payload: payload,
                    ledgerEnd: ledgerEnd, coveredKeysLimit: coveredKeysLimit)
                if ledgerEnd == nil {
                    try await connection.query(declare, logger: logger)
                } else {
                    // Planned with room for the covered keys' hash, whatever the day partitions'
                    // statistics say: a plan without it would compare every row with every key.
                    // Only the planning sees the setting; the job's own hash joins run within
                    // the usual memory when the rows are fetched.
                    try await Self.planned(with: ("hash_mem_multiplier", "1000"), declare, on: connection, logger: logger)
                }
                let deadline = ContinuousClock.now + .seconds(job.statementTimeoutSeconds)
                @Sendable func fetch(_ rows: Int) async throws -> PostgresRowSequence {
                    try await connection.query(PostgresQuery(unsafeSQL: "FETCH FORWARD \(rows) FROM \(cursor)"), logger: logger)
                }
                var page: [DueItem] = []
                page.reserveCapacity(pageSize)
                var read = WindowRows()
                // Rows of the covered part: all of them (the last row says) and those sent.
                var covered = (total: 0, handedOver: 0)
                var asked = min(pageSize, Self.firstPageSize)
                var rows = try await fetch(asked)
                while true {
                    // The next page is asked for at once: PostgreSQL computes it while this one is decoded.
                    async let following = fetch(pageSize)
                    // Cell by cell rather than as one tuple (a generic tuple type costs a
                    // metadata lookup per row).
                    var fetched = 0
                    for try await row in rows {
                        fetched += 1
                        var cells = row.makeIterator()
                        guard let itemId = cells.next(), let userId = cells.next(), let title = cells.next(), let dueAt = cells.next(),
                            let payload = cells.next(), let coveredCell = cells.next()
                        else { throw JobQueryError(jobName: job.name, missingColumns: ["(the wrapped query returned too few columns)"]) }
                        // NULL on every row of a fresh window: asked without decoding.
                        if coveredCell.bytes != nil {
                            if itemId.bytes == nil && dueAt.bytes == nil {
                                covered.total = try coveredCell.decode(Int.self)
                                continue
                            }
                            covered.handedOver += 1
                        }
                        page.append(
                            DueItem(
                                itemId: try itemId.decode(String.self), userId: try userId.decode(String.self),
                                title: try title.decode(String?.self) ?? "", dueAt: try dueAt.decode(Date.self),
                                payloadJSON: try payload.decode(String?.self)))
                    }
                    read.handedOver += page.count
                    let last = fetched < asked
                    if !page.isEmpty { try await body(page) }
                    if last {
                        _ = try await following
                        read.alreadyInLedger = covered.total - covered.handedOver
                        return read
                    }
                    guard ContinuousClock.now < deadline else {
                        throw JobQueryTimeout(jobName: job.name, limit: .seconds(job.statementTimeoutSeconds), rows: read.total)
                    }
                    page.removeAll(keepingCapacity: true)
                    asked = pageSize
                    rows = try await following
                }
            }
        }
    }

    /// The latest due time the ledger holds for `job` within `window`, or nil when it
    /// holds none there (a window no earlier tick overlapped). Two steps of the ledger's
    /// key (job, last due, first due) in the window's day partitions: the latest page
    /// that ends inside the window, and the pages that start inside it and end after it
    /// (a page of a later window that overlapped this one's end), whose due times inside
    /// the window are read from the page itself. Both bound the first due time on both
    /// sides, so that only the window's day partitions are planned and searched.
    private static func latestLedgerDue(
        of job: JobDefinition, in window: (start: Date, end: Date), on connection: PostgresConnection, logger: Logger
    ) async throws -> Date? {
        // The key, never a scan of a day partition whose statistics were taken while it was small.
        var latest: Date?
        let firstDay = AlertLedger.utcDay(of: window.start)
        try await planned(
            with: ("enable_seqscan", "off"),
            """
            SELECT greatest(
                (SELECT max(last_due) FROM worker_alert_pages
                 WHERE job_name = \(job.name) AND last_due >= \(window.start) AND last_due < \(window.end)
                   AND first_due >= \(firstDay) AND first_due < \(window.end)),
                (SELECT max(due) FROM worker_alert_pages p CROSS JOIN LATERAL unnest(p.due_ats) AS due
                 WHERE p.job_name = \(job.name) AND p.last_due >= \(window.end) AND p.first_due < \(window.end) AND p.first_due >= \(firstDay)
                   AND due >= \(window.start) AND due < \(window.end)))
            """, on: connection, logger: logger
        ) { rows in
            for try await value in rows.decode(Date?.self) { latest = value }
        }
        return latest
    }

    /// Runs `statement` with a planner setting changed for it alone (restored to the
    /// session's value right after), and hands its rows to `body`.
    private static func planned(
        with setting: (name: String, value: String), _ statement: PostgresQuery, on connection: PostgresConnection, logger: Logger,
        _ body: (PostgresRowSequence) async throws -> Void = { _ in }
    ) async throws {
        try await connection.query("SELECT set_config(\(setting.name), \(setting.value), true)", logger: logger)
        try await body(try await connection.query(statement, logger: logger))
        try await connection.query(
            "SELECT set_config(name, reset_val, true) FROM pg_settings WHERE name = \(setting.name)", logger: logger)
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
                    _ = try await payloadColumn(JobQuery(job: job), window: (now, now), on: connection)
                }
            } catch {
                if case .unavailable = DatabaseError.kind(of: error) { throw error }
                problems.append("job '\(job.name)': \(DatabaseError.describe(error))")
            }
        }
        return problems
    }

    /// A job's `payload` column (none, JSON by its type, or another type), checking the
    /// standard columns; learned once per query text (a `LIMIT 0` run) and remembered.
    private func payloadColumn(_ query: JobQuery, window: (start: Date, end: Date), on connection: PostgresConnection) async throws
        -> JobQuery.Payload
    {
        if let known = shapes.state.withLock({ $0[query.job.sql] }) { return known }
        let rows = try await connection.query(query.shape(window: window), logger: logger)
        let columns = rows.columns
        for try await _ in rows {}
        let names = Set(columns.map(\.name))
        let missing = JobQuery.requiredColumns.filter { !names.contains($0) }
        guard missing.isEmpty else { throw JobQueryError(jobName: query.job.name, missingColumns: missing) }
        let payload: JobQuery.Payload =
            switch columns.first(where: { $0.name == "payload" })?.dataType {
            case nil: .none
            case .json?, .jsonb?: .json
            case _?: .other
            }
        shapes.state.withLock { $0[query.job.sql] = payload }
        return payload
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

/// Each job query's payload column (by the query's text).
private final class QueryShapes: Sendable {
    let state = Mutex<[String: JobQuery.Payload]>([:])
}
