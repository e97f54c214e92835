import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ProactivityStore
import Synchronization
import Tracing

/// Replays `worker_dlq` rows: republishes each row's original key, value and headers
/// to its original topic with `dlq.replay.id` and `dlq.replay.count` (replays of the
/// original message so far, across failures) headers, in a `replay` span of the original
/// record's trace (see ``message(_:context:)``), then
/// increments `retry_count` and sets `processed_at`. A row replayed before is skipped
/// unless forced, so replaying is idempotent; rows are claimed before they are
/// published, so concurrent replays (CLI, HTTP, automatic) publish a row once.
///
/// A record's origin is what someone wrote into the DLQ topic: only rows whose origin is
/// one of `allowedTopics` (the engine's own input topics) are replayed, so a forged
/// record cannot be replayed into, say, the alerts topic.
///
/// With a ``ReplayRate``, rows are claimed and published in batches of `rate.burst`
/// paced by a ``ReplayPacer``, so a large replay reaches the workers at that rate
/// instead of all at once.
public struct DeadLetterReplayer: Sendable {
    let store: DeadLetterStore
    let producer: KafkaProducer
    let allowedTopics: Set<String>
    let metrics: EngineMetrics
    let logger: Logger

    public init(store: DeadLetterStore, producer: KafkaProducer, allowedTopics: Set<String>, metrics: EngineMetrics, logger: Logger) {
        self.store = store
        self.producer = producer
        self.allowedTopics = allowedTopics
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

    /// Replays rows in batches (of 500, or `rate.burst` paced at `rate`), reporting
    /// progress after each: rows done so far, and rows to do.
    public func replay(
        _ rows: [DeadLetterRow], force: Bool, dryRun: Bool, rate: ReplayRate? = nil, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> Outcome {
        var pacer = rate.map(ReplayPacer.init)
        return try await replay(rows, force: force, dryRun: dryRun, pacer: &pacer, since: .now, progress: progress)
    }

    private func replay(
        _ rows: [DeadLetterRow], force: Bool, dryRun: Bool, pacer: inout ReplayPacer?, since start: ContinuousClock.Instant,
        progress: @Sendable (Int, Int) -> Void
    ) async throws -> Outcome {
        var outcome = Outcome(dryRun: dryRun)
        var eligible: [DeadLetterRow] = []
        for row in rows {
            if row.processedAt != nil && !force {
                outcome.skipped.append(.init(id: row.id, reason: "already replayed (retry_count \(row.retryCount)); use force to replay again"))
            } else if let topic = row.originTopic, !allowedTopics.contains(topic) {
                outcome.skipped.append(
                    .init(id: row.id, reason: "its origin topic '\(topic)' is not a replay target (DLQ_REPLAY_TOPICS: \(allowedTopics.sorted().joined(separator: ", ")))"))
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
        let batchSize = pacer?.rate.burst ?? 500
        for first in stride(from: 0, to: eligible.count, by: batchSize) {
            let batch = Array(eligible[first..<min(first + batchSize, eligible.count)])
            try await pace(&pacer, batch.count, since: start)
            let failures = Failures()
            let (producer, byID) = (self.producer, Dictionary(uniqueKeysWithValues: batch.map { ($0.id, $0) }))
            let spans = Dictionary(uniqueKeysWithValues: batch.map { ($0.id, Self.replaySpan(of: $0)) })
            let (claimed, retryCounts) = try await store.replayClaimed(ids: batch.map(\.id), force: force) { claimed in
                let rows = claimed.compactMap { byID[$0] }
                var published: [Int64] = []
                let messages = rows.map { Self.message($0, context: spans[$0.id]?.context ?? .topLevel) }
                for (row, result) in zip(rows, await producer.send(messages)) {
                    switch result {
                    case .success: published.append(row.id)
                    case .failure(let error): failures.add(.init(id: row.id, reason: "\(error)"))
                    }
                }
                return published
            }
            for row in batch where !claimed.contains(row.id) {
                outcome.skipped.append(.init(id: row.id, reason: "replayed or being replayed by another request meanwhile"))
            }
            for row in batch {
                guard let count = retryCounts[row.id] else { continue }
                outcome.replayed.append(row.id)
                ServiceContext.withValue(spans[row.id]?.context) {
                    logger.info("dlq_replayed", metadata: ["dlq_id": .stringConvertible(row.id), "retry_count": .stringConvertible(count), "job_name": "\(row.jobName ?? "unknown")"])
                }
            }
            outcome.failed += failures.all
            progress(first + batch.count, eligible.count)
        }
        metrics.replayed(result: "replayed", count: outcome.replayed.count)
        metrics.replayed(result: "skipped", count: outcome.skipped.count)
        metrics.replayed(result: "failed", count: outcome.failed.count)
        return outcome
    }

    /// Rows whose publishing failed, collected inside the claim.
    private final class Failures: Sendable {
        private let state = Mutex<[Outcome.Skipped]>([])
        var all: [Outcome.Skipped] { state.withLock { $0 } }
        func add(_ failure: Outcome.Skipped) { state.withLock { $0.append(failure) } }
    }

    /// Waits until the pacer lets `count` rows go (at once without a rate).
    private func pace(_ pacer: inout ReplayPacer?, _ count: Int, since start: ContinuousClock.Instant) async throws {
        guard var current = pacer else { return }
        let elapsed = (ContinuousClock.now - start) / .seconds(1)
        let wait = current.reserve(count, now: elapsed)
        pacer = current
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
    }

    /// Replays every row `filter` selects, in pages of 500 (its limit is ignored: all
    /// means all), at `rate` when given, reporting the rows handled so far after each
    /// batch.
    public func replayAll(
        matching filter: DeadLetterFilter, force: Bool, dryRun: Bool, rate: ReplayRate? = nil, progress: @Sendable (Int) -> Void = { _ in }
    ) async throws -> Outcome {
        var total = Outcome(dryRun: dryRun)
        var pacer = rate.map(ReplayPacer.init)
        let start = ContinuousClock.now
        try await store.forEachPage(filter) { page in
            let before = total.replayed.count + total.skipped.count + total.failed.count
            let outcome = try await replay(page, force: force, dryRun: dryRun, pacer: &pacer, since: start) { done, _ in
                progress(before + done)
            }
            total.replayed += outcome.replayed
            total.skipped += outcome.skipped
            total.failed += outcome.failed
            progress(total.replayed.count + total.skipped.count + total.failed.count)
        }
        return total
    }

    /// The span of a row's replay: a child of the dead-lettered record's `traceparent`
    /// (same trace, a new span id), or a new trace when it has none or an invalid one.
    static func replaySpan(of row: DeadLetterRow) -> PropagatingSpan {
        let tracer = PropagatingTracer()
        var original = ServiceContext.topLevel
        tracer.extract(originalHeaders(row), into: &original, using: KafkaHeadersExtractor())
        return tracer.startSpan("replay \(row.originTopic ?? "")", context: original, ofKind: .producer)
    }

    /// The original record, with replay headers instead of the DLQ context: its
    /// `traceparent` (and `tracestate`) are the replay span's (`context`), and
    /// `dlq.replay.link` keeps the original `traceparent` when it was valid.
    static func message(_ row: DeadLetterRow, context: ServiceContext) -> KafkaProducerMessage {
        let original = originalHeaders(row)
        let trace = [TraceHeaders.traceParent, TraceHeaders.traceState]
        var headers = original.filter { !DeadLetter.isContext($0.name) && !trace.contains($0.name) }
        // A parent means the replay span continues the original's valid context.
        if context.parentSpanID != nil, let link = KafkaHeadersExtractor().extract(key: TraceHeaders.traceParent, from: original) {
            headers.append(KafkaHeader(name: DeadLetter.Header.replayLink, string: link))
        }
        PropagatingTracer().inject(context, into: &headers, using: KafkaHeadersInjector())
        headers.append(KafkaHeader(name: DeadLetter.Header.replayID, string: String(row.id)))
        // An unreadable count stays unreadable, so the automatic replay's budget stays spent.
        headers.append(KafkaHeader(name: DeadLetter.Header.replayCount, string: row.totalReplays.map { String($0 + 1) } ?? "unknown"))
        return KafkaProducerMessage(topic: row.originTopic ?? "", key: row.key, value: row.value, headers: headers)
    }

    /// The headers of the dead-lettered record as it was written (the DLQ's own included).
    private static func originalHeaders(_ row: DeadLetterRow) -> [KafkaHeader] {
        row.headers.map { KafkaHeader(name: $0.name, value: $0.value.flatMap { Data(base64Encoded: $0) }.map { Array($0) }) }
    }
}
