import AsyncAlgorithms
import Foundation
import Logging
import Observability
import ProactivityStore
import ServiceLifecycle

/// Keeps the worker's ledgers bounded: at start and every `interval`, deletes rows older
/// than `retention` from `worker_alerts_sent`, `worker_ticks_completed` and
/// `worker_job_events` (in small batches), and reports each table's rows.
///
/// Safe for dedupe: an alert row is needed only while its item can still fall in a
/// window (its due time plus the catch-up grace), and the retention is refused below the
/// longest window plus grace.
struct LedgerPruner: Service {
    let store: LedgerStore
    let retention: TimeInterval
    var interval: Duration = .seconds(600)
    let metrics: EngineMetrics
    let logger: Logger

    func run() async {
        await pruneOnce(now: Date())
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await pruneOnce(now: Date())
        }
    }

    /// One pass over the tables; a failure is logged and the next pass tries again.
    func pruneOnce(now: Date) async {
        let cutoff = now.addingTimeInterval(-retention)
        do {
            for table in LedgerStore.Table.allCases {
                let deleted = try await store.prune(table, olderThan: cutoff)
                metrics.ledger(table.rawValue, pruned: deleted)
                if deleted > 0 {
                    logger.info("ledger_pruned", metadata: ["table": "\(table.rawValue)", "rows": "\(deleted)"])
                }
            }
            for (table, rows) in try await store.estimatedRows() { metrics.ledger(table.rawValue, rows: rows) }
        } catch {
            logger.warning("ledger_prune_failed", metadata: ["error": "\(DatabaseError.describe(error))"])
        }
    }
}
