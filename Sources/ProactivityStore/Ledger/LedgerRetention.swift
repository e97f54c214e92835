import Foundation
import Logging
import PostgresNIO

/// Deletes what is past the retention from the worker's three ledgers, without long locks.
///
/// The alert ledger's day partitions (``AlertLedger``) whose day is past the retention
/// are dropped whole; pages outside every day's partition (a tick for a slot from long
/// ago) wait in its default partition and are deleted in batches once written longer ago
/// than the retention. The alert ledger's figures count alerts, not the pages that hold
/// them. The tick and audit ledgers are deleted from in small batches,
/// each its own short transaction.
public struct LedgerRetention: Sendable {
    /// A table that grows with every tick, and the column that says how old a row is.
    /// The alert ledger goes by the name of its one-row-per-alert view.
    public enum Table: String, Sendable, CaseIterable {
        case alertsSent = "worker_alerts_sent"
        case ticksCompleted = "worker_ticks_completed"
        case jobEvents = "worker_job_events"

        /// Where rows are deleted one batch at a time: the alert ledger's default
        /// partition (its days go whole), the other tables themselves.
        var batchPrunedTable: String {
            switch self {
            case .alertsSent: "worker_alert_pages_default"
            case .ticksCompleted, .jobEvents: rawValue
            }
        }

        /// The age of a row of ``batchPrunedTable``. The alert ledger's default partition
        /// holds pages of slots older than its days: they are kept for the retention after
        /// they were written, so a replayed old tick still finds its recorded pages.
        var timeColumn: String {
            switch self {
            case .alertsSent: "published_at"
            case .ticksCompleted: "completed_at"
            case .jobEvents: "created_at"
            }
        }

        /// What a row of ``batchPrunedTable`` counts for: the alerts of a ledger page, one
        /// row elsewhere.
        var rowWeight: String {
            switch self {
            case .alertsSent: "items"
            case .ticksCompleted, .jobEvents: "1"
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
    /// partitions that end by `cutoff` and the default partition's pages written before it.
    /// - Returns: the rows deleted (for the alert ledger, the alerts).
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
                        RETURNING \(table.rowWeight) AS weight)
                    SELECT count(*)::int, coalesce(sum(weight), 0)::int FROM gone
                    """,
                binds: {
                    var binds = PostgresBindings()
                    binds.append(cutoff)
                    binds.append(batch)
                    return binds
                }())
            var deleted = 0
            for try await (rows, weight) in try await client.query(query, logger: logger).decode((Int, Int).self) {
                deleted = rows
                total += weight
            }
            if deleted < batch { return total }
        }
    }

    /// How many rows each table holds: the planner's estimate for the tick and audit
    /// ledgers (`pg_class.reltuples`, no scan), the alerts of the alert ledger summed from
    /// its key (an index-only scan: a few bytes per page of up to 2,000 alerts).
    public func estimatedRows() async throws -> [Table: Int] {
        var rows: [Table: Int] = [:]
        try await client.withTransaction(logger: logger) { connection in
            // The key, never the pages: a day partition analyzed while small looks cheaper to scan.
            try await connection.query("SET LOCAL enable_seqscan = off", logger: logger)
            for try await (name, count) in try await connection.query(
                """
                SELECT 'worker_alerts_sent', coalesce(sum(items), 0)::bigint FROM worker_alert_pages
                UNION ALL
                SELECT relname::text, greatest(reltuples, 0)::bigint FROM pg_class
                WHERE oid = ANY(ARRAY[to_regclass('worker_ticks_completed'), to_regclass('worker_job_events')])
                """, logger: logger
            ).decode((String, Int64).self) {
                if let table = Table(rawValue: name) { rows[table] = Int(count) }
            }
        }
        return rows
    }
}
