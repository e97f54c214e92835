import AsyncAlgorithms
import Foundation
import Logging
import Observability
import ProactivityStore
import ServiceLifecycle

/// Keeps the worker's ledgers bounded: at start and every `interval`, adds the alert
/// ledger's day partitions from yesterday to `daysAhead` days ahead, drops the ones past
/// `retention`, deletes older rows from `worker_ticks_completed`, `worker_job_events` and
/// the ledger's default partition (in small batches), and reports each table's rows.
///
/// Safe for dedupe: an alert row is needed only while its item can still fall in a
/// window (its due time plus the catch-up grace), and the retention is refused below the
/// longest window plus grace.
struct LedgerPruner: Service {
    let store: LedgerRetention
    let retention: TimeInterval
    var interval: Duration = .seconds(600)
    /// How many days ahead the alert ledger's partitions exist (rows due later wait in
    /// its default partition until their day's is added).
    var daysAhead = 3
    let metrics: EngineMetrics
    /// Holds the pruner until the database carries this build's migrations (the
    /// worker's own wait says so).
    let migrations: MigrationWait
    let logger: Logger

    func run() async {
        guard await migrations.run() else { return }
        await pruneOnce(now: Date())
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await pruneOnce(now: Date())
        }
    }

    /// One pass over the tables; a failure is logged and the next pass tries again.
    func pruneOnce(now: Date) async {
        let cutoff = now.addingTimeInterval(-retention)
        do {
            // Not before the cutoff: a day added there would be dropped again at once.
            try await store.alertLedger.addPartitions(
                from: max(now.addingTimeInterval(-86_400), cutoff), through: now.addingTimeInterval(86_400 * Double(daysAhead)))
        } catch {
            logger.warning("ledger_partitions_not_added", metadata: ["error": "\(DatabaseError.describe(error))"])
        }
        // Each table on its own: a partition whose lock was not obtained in time does
        // not keep the others from being pruned.
        for table in LedgerRetention.Table.allCases {
            do {
                let deleted = try await store.prune(table, olderThan: cutoff)
                metrics.ledger(table.rawValue, pruned: deleted)
                if deleted > 0 {
                    logger.info("ledger_pruned", metadata: ["table": "\(table.rawValue)", "rows": .stringConvertible(deleted)])
                }
            } catch {
                logger.warning("ledger_prune_failed", metadata: ["table": "\(table.rawValue)", "error": "\(DatabaseError.describe(error))"])
            }
        }
        do {
            for (table, rows) in try await store.estimatedRows() { metrics.ledger(table.rawValue, rows: rows) }
        } catch {
            logger.warning("ledger_rows_unknown", metadata: ["error": "\(DatabaseError.describe(error))"])
        }
    }
}
