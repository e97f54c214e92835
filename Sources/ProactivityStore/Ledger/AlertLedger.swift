import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// The alert ledger (`worker_alerts_sent`): one row per alert the broker acknowledged,
/// so that a tick run again, redelivered or overlapping another never alerts an item twice.
///
/// It is partitioned by due time, one partition per UTC day (migration 0007): the
/// partitions are added ahead of time (``addPartitions(from:through:)``) and dropped
/// whole once their day is past the retention (``LedgerRetention``); rows of days without
/// a partition wait in its default partition.
public struct AlertLedger: Sendable {
    private let client: PostgresClient
    private let logger: Logger
    /// How long adding or dropping a partition waits for its lock before giving up until
    /// the next pass: while it waits, the ledger's readers and writers queue behind it.
    private let lockTimeout: Duration

    public init(client: PostgresClient, logger: Logger, lockTimeout: Duration = .milliseconds(500)) {
        self.client = client
        self.logger = logger
        self.lockTimeout = lockTimeout
    }

    /// The items of `page` the alert ledger does not have (same job, item and due time),
    /// in their order: those to alert. Looked up with the ledger's latest commits (also
    /// what another run of the tick recorded meanwhile), in a statement of its own per
    /// page, so that its plan is made for the ledger as it is then and never depends on
    /// how the job's SQL was planned.
    ///
    /// The lookup is `worker_alerts_sent_lookup` (migrations 0008 and 0015): one step of
    /// the key over the page's due range first (a page nothing of the job was recorded
    /// for costs that alone), then one primary-key probe per item, never a scan of a day
    /// partition that the window's own pages are being written into. Items due inside the window are looked up only in the window's day
    /// partitions (a lookup over every partition costs PostgreSQL more to plan and to
    /// run the more days the ledger keeps); items the job's SQL returned outside its
    /// window, in the whole ledger, so a sloppy job query does not alert twice.
    public func unsent(_ page: [DueItem], job: JobDefinition, tick: TickMessage) async throws -> [DueItem] {
        guard !page.isEmpty else { return [] }
        var inside: [Int] = []
        var outside: [Int] = []
        for index in page.indices {
            if page[index].dueAt >= tick.windowStart && page[index].dueAt < tick.windowEnd {
                inside.append(index)
            } else {
                outside.append(index)
            }
        }
        var sent = Set<Int>()
        for (indices, window) in [(inside, (tick.windowStart, tick.windowEnd)), (outside, nil)] where !indices.isEmpty {
            var binds = PostgresBindings()
            binds.append(job.name)
            binds.append(indices.map { page[$0].itemId })
            binds.append(indices.map { page[$0].dueAt })
            binds.append(window?.0)
            binds.append(window?.1)
            let lookup = PostgresQuery(unsafeSQL: "SELECT worker_alerts_sent_lookup($1, $2, $3, $4, $5)", binds: binds)
            for try await ordinal in try await client.query(lookup, logger: logger).decode(Int.self) { sent.insert(indices[ordinal - 1]) }
        }
        guard !sent.isEmpty else { return page }
        return page.indices.filter { !sent.contains($0) }.map { page[$0] }
    }

    /// Records alerts as sent (after the broker acknowledged them), one statement per
    /// page: a later run of the tick skips them.
    ///
    /// The page's commit does not wait for its WAL to reach disk (`synchronous_commit`
    /// off): the tick's completion, committed synchronously after the last page, flushes
    /// it. A server crash before that can lose page rows of an uncompleted tick, whose
    /// next run then re-sends those alerts with the same ids: what at-least-once allows.
    public func record(_ alerts: [SentAlert], tick: TickMessage) async throws {
        guard !alerts.isEmpty else { return }
        do {
            try await insert(alerts, tick: tick, onConflict: "")
        } catch where DatabaseError.sqlState(of: error) == "23505" {
            // Rows another run recorded meanwhile (a redelivered tick), or a job returning
            // an item twice: the slower statement that skips them, only then.
            try await insert(alerts, tick: tick, onConflict: "ON CONFLICT DO NOTHING")
        }
    }

    private func insert(_ alerts: [SentAlert], tick: TickMessage, onConflict: String) async throws {
        var binds = PostgresBindings()
        binds.append(tick.jobName)
        binds.append(tick.tickId)
        binds.append(alerts.map(\.itemId))
        binds.append(alerts.map(\.dueAt))
        let insert = PostgresQuery(
            unsafeSQL: """
                INSERT INTO worker_alerts_sent (job_name, item_id, due_at, tick_id)
                SELECT $1, a.item_id, a.due_at, $2 FROM unnest($3::text[], $4::timestamptz[]) AS a(item_id, due_at)
                \(onConflict)
                """, binds: binds)
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL synchronous_commit = off", logger: logger)
            try await connection.query(insert, logger: logger)
        }
    }

    /// An alert the broker acknowledged: what the ledger keeps of it (its id is
    /// `job:item@due`, ``AlertMessage/id(job:itemId:dueAt:)``).
    public struct SentAlert: Sendable {
        public var itemId: String
        public var dueAt: Date

        public init(itemId: String, dueAt: Date) {
            self.itemId = itemId
            self.dueAt = dueAt
        }
    }

    /// Adds the alert ledger's partitions of the UTC days from `start` through `end`
    /// that do not exist yet, moving those days' rows out of the default partition.
    /// - Returns: the partitions added.
    /// - Throws: database errors, including a lock not obtained in time (the partitions
    ///   added until then stay).
    @discardableResult
    public func addPartitions(from start: Date, through end: Date) async throws -> Int {
        var added = 0
        var day = Self.utcDay(of: start)
        while day <= end {
            let created = try await client.withTransaction(logger: logger) { connection in
                try await setLockTimeout(on: connection)
                for try await created in try await connection.query(
                    "SELECT worker_alerts_sent_add_partition((\(day) AT TIME ZONE 'UTC')::date)", logger: logger
                ).decode(Bool.self) {
                    return created
                }
                return false
            }
            if created {
                added += 1
                logger.info("ledger_partition_added", metadata: ["day": "\(day.formatted(Date.ISO8601FormatStyle().year().month().day()))"])
            }
            day = day.addingTimeInterval(86_400)
        }
        return added
    }

    /// Drops the alert ledger's day partitions whose day ends by `cutoff`, oldest first,
    /// each in its own short transaction. - Returns: the rows they held.
    func dropPartitions(endingBy cutoff: Date) async throws -> Int {
        var partitions: [String] = []
        for try await name in try await client.query(
            """
            SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'worker_alerts_sent'::regclass AND c.relname ~ '^worker_alerts_sent_[0-9]{8}$'
              AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= \(cutoff)
            ORDER BY c.relname
            """, logger: logger
        ).decode(String.self) {
            partitions.append(name)
        }
        var rows = 0
        for partition in partitions {
            // The name comes from the catalog, quoted by regclass, and matched the pattern above.
            rows += try await client.withTransaction(logger: logger) { connection in
                try await setLockTimeout(on: connection)
                var count = 0
                for try await held in try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(partition)"), logger: logger
                ).decode(Int.self) {
                    count = held
                }
                try await connection.query(PostgresQuery(unsafeSQL: "DROP TABLE \(partition)"), logger: logger)
                return count
            }
            logger.info("ledger_partition_dropped", metadata: ["partition": .stringConvertible(partition)])
        }
        return rows
    }

    private func setLockTimeout(on connection: PostgresConnection) async throws {
        let milliseconds = lockTimeout.components.seconds * 1000 + lockTimeout.components.attoseconds / 1_000_000_000_000_000
        try await connection.query("SELECT set_config('lock_timeout', \(String(milliseconds)), true)", logger: logger)
    }

    /// The start of `date`'s UTC day: the lower bound of its alert ledger partition.
    public static func utcDay(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }
}
