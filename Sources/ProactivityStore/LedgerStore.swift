import Foundation
import Logging
import PostgresNIO

/// Keeps the worker's ledgers bounded: deletes rows older than the retention in small
/// batches (each its own short transaction, so no long lock), and counts what remains.
public struct LedgerStore: Sendable {
    /// A table that grows with every tick, and the column that says how old a row is.
    public enum Table: String, Sendable, CaseIterable {
        case alertsSent = "worker_alerts_sent"
        case ticksCompleted = "worker_ticks_completed"
        case jobEvents = "worker_job_events"

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

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Deletes the rows of `table` older than `cutoff`, `batch` at a time.
    /// - Returns: the rows deleted.
    public func prune(_ table: Table, olderThan cutoff: Date, batch: Int = 5_000) async throws -> Int {
        var total = 0
        while true {
            // Table and column names are the enum's constants; the values are bound.
            let query = PostgresQuery(
                unsafeSQL: """
                    WITH gone AS (
                        DELETE FROM \(table.rawValue) WHERE ctid IN (
                            SELECT ctid FROM \(table.rawValue) WHERE \(table.timeColumn) < $1 LIMIT $2)
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

    /// The planner's estimate of each table's rows (`pg_class.reltuples`): cheap, no scan.
    public func estimatedRows() async throws -> [Table: Int] {
        var rows: [Table: Int] = [:]
        for try await (name, count) in try await client.query(
            "SELECT relname::text, greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = ANY(ARRAY[to_regclass('worker_alerts_sent'), to_regclass('worker_ticks_completed'), to_regclass('worker_job_events')])"
        ).decode((String, Int64).self) {
            if let table = Table(rawValue: name) { rows[table] = Int(count) }
        }
        return rows
    }
}
