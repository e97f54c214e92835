import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ProactivityStore

/// Replays `worker_dlq` rows: republishes each row's original key, value and headers
/// to its original topic with `dlq.replay.id` and `dlq.replay.count` (replays of the
/// original message so far, across failures) headers, then
/// increments `retry_count` and sets `processed_at`. A row replayed before is skipped
/// unless forced, so replaying is idempotent.
public struct DeadLetterReplayer: Sendable {
    let store: DeadLetterStore
    let producer: KafkaProducer
    let metrics: EngineMetrics
    let logger: Logger

    public init(store: DeadLetterStore, producer: KafkaProducer, metrics: EngineMetrics, logger: Logger) {
        self.store = store
        self.producer = producer
        self.metrics = metrics
        self.logger = logger
    }

    /// What a replay did, row by row.
    public struct Outcome: Sendable, Codable {
        public struct Skipped: Sendable, Codable {
            public var id: Int64
            public var reason: String
        }

        public var replayed: [Int64] = []
        public var skipped: [Skipped] = []
        public var failed: [Skipped] = []
        public var dryRun = false
    }

    /// Replays rows in batches, reporting progress after each.
    public func replay(
        _ rows: [DeadLetterRow], force: Bool, dryRun: Bool, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Outcome {
        var outcome = Outcome(dryRun: dryRun)
        var eligible: [DeadLetterRow] = []
        for row in rows {
            if row.processedAt != nil && !force {
                outcome.skipped.append(.init(id: row.id, reason: "already replayed (retry_count \(row.retryCount)); use force to replay again"))
            } else if row.originTopic == nil {
                outcome.skipped.append(.init(id: row.id, reason: "the record has no origin topic"))
            } else {
                eligible.append(row)
            }
        }
        if dryRun {
            outcome.replayed = eligible.map(\.id)
            return outcome
        }
        for start in stride(from: 0, to: eligible.count, by: 500) {
            let batch = Array(eligible[start..<min(start + 500, eligible.count)])
            let results = await producer.send(batch.map(Self.message))
            for (row, result) in zip(batch, results) {
                switch result {
                case .success:
                    let count = try await store.markReplayed(id: row.id)
                    outcome.replayed.append(row.id)
                    logger.info("dlq_replayed", metadata: ["dlq_id": "\(row.id)", "retry_count": "\(count)", "job_name": "\(row.jobName ?? "unknown")"])
                case .failure(let error):
                    outcome.failed.append(.init(id: row.id, reason: "\(error)"))
                }
            }
            progress(start + batch.count, eligible.count)
        }
        metrics.replayed(result: "replayed", count: outcome.replayed.count)
        metrics.replayed(result: "skipped", count: outcome.skipped.count)
        metrics.replayed(result: "failed", count: outcome.failed.count)
        return outcome
    }

    /// The original record, with replay headers instead of the DLQ context.
    static func message(_ row: DeadLetterRow) -> KafkaProducerMessage {
        var headers = row.headers
            .filter { !$0.name.hasPrefix(DeadLetter.Header.prefix) }
            .map { KafkaHeader(name: $0.name, value: $0.value.flatMap { Data(base64Encoded: $0) }.map { Array($0) }) }
        headers.append(KafkaHeader(name: DeadLetter.Header.replayID, string: String(row.id)))
        headers.append(KafkaHeader(name: DeadLetter.Header.replayCount, string: String(row.totalReplays + 1)))
        return KafkaProducerMessage(topic: row.originTopic ?? "", key: row.key, value: row.value, headers: headers)
    }
}
