import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore
import ServiceLifecycle
import Testing

/// replayed; and two replays at once publish a row once.
@Suite(.timeLimit(.minutes(4)))
struct ReplayTrustTests {
    /// Mirrors a DLQ record as the mirror would, with `origin` and extra headers.
    func mirror(
        _ store: DeadLetterStore, _ harness: PipelineHarness, offset: Int64, origin: String, errorClass: FailureClass = .transient,
        headers: [String: String] = [:]
    ) async throws {
        let letter = DeadLetter(
            originTopic: origin, originPartition: 0, originOffset: offset, originTimestamp: nil, consumerGroup: harness.group,
            stage: "worker", jobName: "event-reminder", errorClass: errorClass, errorMessage: "test", attempts: 1,
            firstFailure: Date(), lastFailure: Date(), correlationId: "\(origin)/0/\(offset)")
        let all = letter.headers.map { ($0.name, $0.value) } + headers.map { ($0.key, $0.value) }
        try await store.mirror(
            DeadLetterStore.Record(
                topic: harness.dlqTopic, partition: 0, offset: offset, key: Array("k\(offset)".utf8), value: Array(#"{"n":\#(offset)}"#.utf8),
                headers: all.map { DeadLetterRow.Header(name: $0.0, value: Data($0.1.utf8).base64EncodedString()) }, letter: letter))
    }

    func replayer(_ store: DeadLetterStore, _ harness: PipelineHarness, _ producer: KafkaProducer) -> DeadLetterReplayer {
        DeadLetterReplayer(store: store, producer: producer, allowedTopics: [harness.ticksTopic], metrics: EngineMetrics(), logger: harness.logger)
    }

    @Test func aRecordNamingAnotherOriginIsNotReplayedThere() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await mirror(store, harness, offset: 1, origin: harness.alertsTopic)
            let producer = try TestEnvironment.producer()
            let outcome = try await replayer(store, harness, producer).replay(try await store.list(DeadLetterFilter()), force: true, dryRun: false)
            try await producer.close()
            #expect(outcome.replayed.isEmpty)
            #expect(outcome.skipped.first?.reason.contains("is not a replay target") == true, "\(outcome.skipped)")
            #expect(try await harness.alertRecords().isEmpty, "nothing forged reached the alerts topic")
        }
    }

    @Test func anUnreadableReplayCountSpendsTheAutomaticBudget() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await mirror(store, harness, offset: 1, origin: harness.ticksTopic, headers: [DeadLetter.Header.replayCount: "-5"])
            try await mirror(store, harness, offset: 2, origin: harness.ticksTopic, headers: [DeadLetter.Header.replayCount: "1"])
            let rows = try await store.list(DeadLetterFilter())
            #expect(rows.map(\.earlierReplays) == [nil, 1])
            let producer = try TestEnvironment.producer()
            let automatic = DeadLetterAutoReplayer(
                policy: AutoReplayPolicy(maxReplays: 3, backoff: 1, interval: 60), store: store, replayer: replayer(store, harness, producer),
                logger: harness.logger)
            let replayed = try await automatic.replayDueRows(now: Date().addingTimeInterval(86_400))
            try await producer.close()
            #expect(replayed == [rows[1].id], "only the row with a readable count below the budget")
        }
    }

    @Test func twoReplaysOfTheSameRowsAtOnceRepublishEachRowOnce() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            for offset in 1...20 { try await mirror(store, harness, offset: Int64(offset), origin: harness.ticksTopic) }
            let rows = try await store.list(DeadLetterFilter())
            #expect(rows.count == 20)
            let producer = try TestEnvironment.producer()
            async let first = replayer(store, harness, producer).replay(rows, force: false, dryRun: false)
            async let second = replayer(store, harness, producer).replay(rows, force: false, dryRun: false)
            let outcomes = try await [first, second]
            try await producer.close()
            let replayed = outcomes.flatMap(\.replayed)
            #expect(replayed.count == 20 && Set(replayed).count == 20, "each row replayed by exactly one of the two")
            let published = try await harness.records(in: harness.ticksTopic).compactMap { $0.headers.string(named: DeadLetter.Header.replayID) }
            #expect(published.count == 20 && Set(published).count == 20, "each row published once: \(published.count)")
        }
    }
}
