import Foundation
import Logging
import PostgresNIO

/// Deletes what is past the retention from the worker's three ledgers, without long locks.
///
/// The alert ledger's day partitions (``AlertLedger``) whose day is past the retention
/// are dropped whole; rows outside every day's partition (a tick for a slot from long
/// ago) wait in its default partition and are deleted in batches once written longer ago
/// than the retention. The tick and audit ledgers are deleted from in small batches,
/// each its own short transaction.
public struct LedgerRetention: Sendable {
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
    /// The alert ledger, whose day partitions are dropped whole.
    public let alertLedger: AlertLedger

    /// - Parameter lockTimeout: how long adding or dropping one of the alert ledger's
    ///   partitions waits for its lock (``AlertLedger``).
    public init(client: PostgresClient, logger: Logger, lockTimeout: Duration = .milliseconds(500)) {
        self.client = client
        self.logger = logger
        self.alertLedger = AlertLedger(client: client, logger: logger, lockTimeout: lockTimeout)
    }

    /// Deletes the rows of `table` older than `cutoff`: for the alert ledger, the day
    /// partitions that end by `cutoff` and the default partition's rows written before it.
    /// - Returns: the rows deleted.
    /// - Throws: database errors, including a partition's lock not obtained in time
    ///   (the rows deleted until then stay deleted).
    public func prune(_ table: Table, olderThan cutoff: Date, batch: Int = 5_000) async throws -> Int {
        var total = 0
        if table == .alertsSent { total += try await alertLedger.dropPartitions(endingBy: cutoff) }
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
}
