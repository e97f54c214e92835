import Foundation
import Logging
import PostgresNIO

/// Keeps the worker's ledgers bounded, without long locks.
///
/// The alert ledger (`worker_alerts_sent`) is partitioned by due time, one partition per
/// UTC day (migration 0007): partitions are added ahead of time and dropped whole once
/// their day is past the retention; rows outside every day's partition (a tick for a
/// slot from long ago) wait in its default partition and are deleted in batches once
/// written longer ago than the retention. The tick and audit ledgers are deleted from in
/// small batches, each its own short transaction.
public struct LedgerStore: Sendable {
    /// A table that grows with every tick, and the column that says how old a row is.
    public enum Table: String, Sendable, CaseIterable {
        case alertsSent = "worker_alerts_sent"
        case ticksCompleted = "worker_ticks_completed"
        case jobEvents = "worker_job_events"

        /// Where rows are deleted one batch at a time: the alert ledger's default
        /// partition (its days go whole), the other tables themselves.
        var batchPrunedTable: String {
            switch self {
            case .alertsSent: "worker_alerts_sent_default"
            case .ticksCompleted, .jobEvents: rawValue
            }
        }

        /// The age of a row of ``batchPrunedTable``. The alert ledger's default partition
        /// holds rows of slots older than its days: they are kept for the retention after
        /// they were written, so a replayed old tick still finds its recorded pages.
        var timeColumn: String {
            switch self {
            case .alertsSent: "published_at"
            case .ticksCompleted: "completed_at"
            case .jobEvents: "created_at"
            }
        }
    }

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

    /// Deletes the rows of `table` older than `cutoff`: for the alert ledger, the day
    /// partitions that end by `cutoff` and the default partition's rows written before it.
    /// - Returns: the rows deleted.
    /// - Throws: database errors, including a partition's lock not obtained in time
    ///   (the rows deleted until then stay deleted).
    public func prune(_ table: Table, olderThan cutoff: Date, batch: Int = 5_000) async throws -> Int {
        var total = 0
        if table == .alertsSent { total += try await dropAlertPartitions(endingBy: cutoff) }
        while true {
            // Table and column names are the enum's constants; the values are bound.
            let query = PostgresQuery(
                unsafeSQL: """
                    WITH gone AS (
                        DELETE FROM \(table.batchPrunedTable) WHERE ctid IN (
                            SELECT ctid FROM \(table.batchPrunedTable) WHERE \(table.timeColumn) < $1 LIMIT $2)
                        RETURNING 1)
                    SELECT count(*)::int FROM gone
                    """,
                binds: {
                    var binds = PostgresBindings()
                    binds.append(cutoff)
                    binds.append(batch)
                    return binds
                }())
            var deleted = 0
            for try await count in try await client.query(query, logger: logger).decode(Int.self) { deleted = count }
            total += deleted
            if deleted < batch { return total }
        }
    }

    /// Adds the alert ledger's partitions of the UTC days from `start` through `end`
    /// that do not exist yet, moving those days' rows out of the default partition.
    /// - Returns: the partitions added.
    /// - Throws: database errors, including a lock not obtained in time (the partitions
    ///   added until then stay).
    @discardableResult
    public func addAlertPartitions(from start: Date, through end: Date) async throws -> Int {
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
    private func dropAlertPartitions(endingBy cutoff: Date) async throws -> Int {
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

    /// The planner's estimate of each table's rows (`pg_class.reltuples`, summed over
    /// the alert ledger's partitions): cheap, no scan.
    public func estimatedRows() async throws -> [Table: Int] {
        var rows: [Table: Int] = [:]
        for try await (name, count) in try await client.query(
            """
            SELECT 'worker_alerts_sent', coalesce(sum(greatest(c.reltuples, 0)), 0)::bigint
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('worker_alerts_sent')
            UNION ALL
            SELECT relname::text, greatest(reltuples, 0)::bigint FROM pg_class
            WHERE oid = ANY(ARRAY[to_regclass('worker_ticks_completed'), to_regclass('worker_job_events')])
            """
        ).decode((String, Int64).self) {
            if let table = Table(rawValue: name) { rows[table] = Int(count) }
        }
        return rows
    }

    /// The start of `date`'s UTC day: the lower bound of its alert ledger partition.
    public static func utcDay(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }
}
