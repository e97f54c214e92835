import Foundation
import Kafka
import ProactivityCore
import ProactivityStages
import Testing

/// A group with more members than partitions leaves some members idle: they are ready
/// (an orchestrator's rollout must not wait for them for good), and take the partitions
/// over when their owner leaves.
@Suite(.timeLimit(.minutes(5)))
struct IdleMemberTests {
    /// Two DLQ mirrors on the harness's DLQ topic, which has one partition: once both are
    /// members, one of them holds none, both are ready, and their metrics say who holds
    /// what. When the first stops, the second mirrors a dead letter: it holds the
    /// partition now.
    @Test func aMirrorWithoutPartitionsIsReadyAndTakesOverWhenTheOwnerStops() async throws {
        try await PipelineHarness.with { harness in
            let first = try StageAssembly(stages: [.mirror], settings: try await harness.settings(jobsFile: nil), logger: harness.logger)
            let (stopped, stop) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await first.running { for await _ in stopped {} } }
                try await eventually(within: .seconds(60), "the first mirror is ready") { first.health.readiness.ready }
                try await harness.withWorker(stages: [.mirror]) { second in
                    try await eventually(within: .seconds(60), "the second mirror, a member of the group too, is ready") {
                        second.health.readiness.ready
                    }
                    #expect(first.health.readiness.ready, "one of the two holds no partition; both are ready")
                    // Each reports what it holds; summed, the topic's one partition.
                    let holding = #"proactivity_consumer_partitions{stage="dlq-mirror",topic="\#(harness.dlqTopic)"} "#
                    let partitions = #"proactivity_topic_partitions{topic="\#(harness.dlqTopic)"} 1.0"#
                    try await eventually(within: .seconds(30), "the mirrors report holding 1 and 0 of the topic's 1 partition") {
                        let reports = [first, second].map { $0.metrics.render() }
                        let held = reports.compactMap { $0.split(separator: "\n").first { $0.hasPrefix(holding) }?.dropFirst(holding.count) }
                        return held.compactMap { Double($0) }.sorted() == [0, 1] && reports.allSatisfy { $0.contains(partitions) }
                    }

                    stop.finish()
                    try await tasks.waitForAll()
                    try await send(DeadLetterIdentityTests.deadLetter("after the first stopped", at: Date()), to: harness)
                    try await eventually(within: .seconds(60), "the remaining mirror mirrors a dead letter") {
                        try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1
                    }
                }
            }
        }
    }

    private func send(_ letter: DeadLetter, to harness: PipelineHarness) async throws {
        let producer = try TestEnvironment.producer()
        _ = try await producer.send(
            KafkaProducerMessage(
                topic: harness.dlqTopic, partition: 0, key: Array("k".utf8), value: Array("not a tick".utf8),
                headers: letter.headers.map { KafkaHeader(name: $0.name, string: $0.value) }))
        try await producer.close()
    }
}
