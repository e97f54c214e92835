import Foundation
import Logging
import ProactivityCore
import ProactivityStore
import ServiceLifecycle

/// The optional periodic reprocessing routine (off by default; part of the DLQ mirror):
/// every `policy.interval` it replays the rows ``AutoReplayPolicy`` says are due, the
/// way an operator's `dlq replay` does. A replayed message that fails again comes back
/// as a new row carrying its replay count, so the budget holds across failures; a row
/// whose budget is spent is *parked* (``AutoReplayPolicy/isExhausted(errorClass:processed:replays:)``):
/// logged (`dlq_parked`), counted in `proactivity_dlq_parked`, and left to an operator.
public struct DeadLetterAutoReplayer: Service {
    let policy: AutoReplayPolicy
    let store: DeadLetterStore
    let replayer: DeadLetterReplayer
    let logger: Logger

    public init(policy: AutoReplayPolicy, store: DeadLetterStore, replayer: DeadLetterReplayer, logger: Logger) {
        self.policy = policy
        self.store = store
        self.replayer = replayer
        self.logger = logger
    }

    public func run() async throws {
        logger.info(
            "dlq_auto_replay_started",
            metadata: [
                "max_replays": .stringConvertible(policy.maxReplays), "backoff_seconds": .stringConvertible(policy.backoff), "interval_seconds": .stringConvertible(policy.interval),
            ])
        let interval = Duration.seconds(policy.interval)
        await repeatingUntilShutdown(every: interval, wait: { interval }) {
            do {
                try await replayDueRows()
            } catch {
                logger.warning("dlq_auto_replay_failed", metadata: ["error": "\(DatabaseError.describe(error))"])
            }
            return true
        }
    }

    /// Replays every row due now and parks every row whose replays are spent, reading
    /// unprocessed transient rows not parked yet in pages of 500.
    /// - Returns: the ids replayed.
    @discardableResult
    public func replayDueRows(now: Date = Date()) async throws -> [Int64] {
        var replayed: [Int64] = []
        var failed = 0
        let filter = DeadLetterFilter(errorClass: FailureClass.transient.rawValue, processed: false, parked: false)
        try await store.forEachPage(filter) { page in
            let exhausted = page.filter { policy.isExhausted(errorClass: $0.errorClass, processed: $0.processedAt != nil, replays: $0.totalReplays) }
            if !exhausted.isEmpty {
                let parked = try await store.park(ids: exhausted.map(\.id))
                if !parked.isEmpty {
                    logger.warning(
                        "dlq_parked",
                        metadata: [
                            "rows": .stringConvertible(parked.count), "dlq_ids": "\(parked.prefix(20).map(String.init).joined(separator: ","))",
                            "max_replays": .stringConvertible(policy.maxReplays),
                        ])
                }
            }
            let due = page.filter {
                policy.isDue(
                    errorClass: $0.errorClass, processed: $0.processedAt != nil, replays: $0.totalReplays ?? Int.max, createdAt: $0.createdAt, now: now)
            }
            if !due.isEmpty {
                let outcome = try await replayer.replay(due, force: false, dryRun: false)
                replayed += outcome.replayed
                failed += outcome.failed.count
            }
        }
        if !replayed.isEmpty || failed > 0 {
            logger.notice("dlq_auto_replayed", metadata: ["replayed": .stringConvertible(replayed.count), "failed": .stringConvertible(failed)])
        }
        let backlog = try await store.backlog()
        replayer.metrics.dlqBacklog(backlog.unprocessed, parked: backlog.parked)
        return replayed
    }
}
