import Foundation
import Kafka
import ProactivityCore
import ProactivityStore
import Testing

/// A tick holds a pooled connection for as long as its window's cursor runs, and needs
/// others beside it for its pages (the ledger lookup and writes). A worker running more
/// ticks at once than its pool has connections (one per partition of the ticks topic)
/// keeps connections for those: no tick waits for good.
@Suite(.timeLimit(.minutes(4)))
struct ConnectionBudgetTests {
    @Test func twelveWindowsAtOnceCompleteWithAPoolOfFiveConnections() async throws {
        let shards = 12
        try await PipelineHarness.with(ticksPartitions: Int32(shards)) { harness in
            let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!
            try await harness.execute(
                "INSERT INTO tasks (user_id, title, due_at) SELECT 'user-' || n, 'Task ' || n, \(slot) + (n % 60) * interval '1 minute' FROM generate_series(1, 1200) n"
            )
            let jobsFile = try harness.jobsFile(#"{"jobs": [{"name": "task-reminder", "shards": \#(shards)}]}"#)
            var job = BuiltInJobs.taskReminder
            job.shards = shards
            let ticks = (0..<shards).map { TickMessage(job: job, slot: slot, shard: $0, producedAt: slot) }
            // Pages of 20 rows: each tick's cursor stays open while its pages are sifted and recorded.
            let environment = ["POSTGRES_MAX_CONNECTIONS": "5", "WORKER_PAGE_SIZE": "20"]
            try await harness.withWorker(jobsFile: jobsFile, environment: environment) { assembly in
                let metrics = assembly.metrics
                let waiting: @Sendable () -> Int = { Self.windowsWaiting(in: metrics.render()) }
                // The most ticks seen waiting for a window's connection while they run.
                let mostWaiting = Task {
                    var most = 0
                    while !Task.isCancelled {
                        most = max(most, waiting())
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                    return most
                }
                // One tick per partition, so the worker runs all twelve at once.
                let producer = try TestEnvironment.producer()
                for (partition, tick) in ticks.enumerated() {
                    _ = try await producer.send(
                        KafkaProducerMessage(
                            topic: harness.ticksTopic, partition: Int32(partition), key: Array(tick.partitionKey.utf8),
                            value: MessageCoding.encode(tick)))
                }
                try await producer.close()
                try await harness.waitForCompletion(of: ticks, within: .seconds(90))
                mostWaiting.cancel()
                #expect(await mostWaiting.value > 0, "ticks waited for a connection: the limit was reached")
                #expect(waiting() == 0)
            }
            let alerts = try await harness.alerts()
            #expect(alerts.count == 1200)
            #expect(Set(alerts.map(\.alert.alertId)).count == 1200)
            #expect(Set(alerts.map(\.alert.tickId)) == Set(ticks.map(\.tickId)))
        }
    }

    /// The value of `proactivity_worker_windows_waiting` in a metrics page (-1 when missing).
    private static func windowsWaiting(in page: String) -> Int {
        let line = page.split(separator: "\n").first { $0.hasPrefix("proactivity_worker_windows_waiting ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? -1
    }
}
