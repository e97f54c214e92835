import Foundation
import Kafka
import Logging
import PostgresNIO
import ProactivityCore
import ProactivityLauncher
import ProactivityStages

/// `bench soak`: the whole engine (`proactivity all`: tick producer, worker, DLQ mirror)
/// as a process of its own for a long while, with a job ticking every `every` over a
/// `window` that overlaps its predecessors, and items inserted at a steady rate: whether
/// its memory stays flat, what it costs in CPU at rest, and whether every item was
/// alerted exactly once although each is read again by about `window / every` ticks.
///
/// In a schema and topics of its own (removed afterwards, also when stopped). Each second
/// it inserts `itemsPerSecond` items due 5 s to `window / 2` ahead (so the next tick's
/// window holds them), and every `sampleInterval` it notes the engine's resident memory,
/// its CPU since the last sample, the ticks completed and the alerts read. At the end it
/// waits up to 2 minutes for the last items' alerts, then counts the alerts read, their
/// distinct ids and the error and warning lines of the engine's log.
struct SoakBenchmark: PhasedBenchmark {
    let settings: EngineSettings
    let duration: Duration
    let itemsPerSecond: Int
    /// The soak job's schedule and window, in seconds.
    let everySeconds: Int
    let windowSeconds: Int
    let sampleInterval: Duration
    let logger: Logger
    let progress: @Sendable (String) -> Void

    private let id = UUID().uuidString.prefix(8).lowercased()
    private static let jobName = "soak"

    func run() async throws -> SoakBenchmarkReport {
        let ticksTopic = "bench-\(id)-ticks"
        let alertsTopic = "bench-\(id)-alerts"
        let dlqTopic = "bench-\(id)-dlq"
        let topics = [
            KafkaTopicSpecification(name: ticksTopic, partitions: 6),
            KafkaTopicSpecification(name: alertsTopic, partitions: 12),
            KafkaTopicSpecification(name: dlqTopic, partitions: 1),
        ]
        let jobsFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(id)-jobs.json")
        try jobsJSON().write(to: jobsFile)
        defer { try? FileManager.default.removeItem(at: jobsFile) }
        return try await withBenchTopics(topics, configuration: settings.kafka, logger: logger, progress: progress) {
            try await withBenchSchema("bench_\(id)", settings: settings, logger: logger) { client, database in
                _ = try await client.query(
                    "CREATE TABLE soak_items (id bigserial PRIMARY KEY, user_id text NOT NULL, title text NOT NULL, due_at timestamptz NOT NULL)")
                _ = try await client.query("CREATE INDEX soak_items_due_at ON soak_items (due_at)")
                let engineSettings = [
                    "POSTGRES_URL": database.url, "JOBS_FILE": jobsFile.path, "TOPICS_TICKS": ticksTopic, "TOPICS_ALERTS": alertsTopic,
                    "TOPICS_DLQ": dlqTopic, "DLQ_REPLAY_TOPICS": ticksTopic, "WORKER_GROUP_ID": "bench-\(id)-workers",
                    "DLQ_MIRROR_GROUP_ID": "bench-\(id)-mirror", "KAFKA_SESSION_TIMEOUT_MS": "6000",
                ]
                return try await soak(client: client, alertsTopic: alertsTopic, engineSettings: engineSettings)
            }
        }
    }

    /// The jobs file: the built-in jobs off, the soak job on.
    private func jobsJSON() throws -> Data {
        let soak: [String: Any] = [
            "name": Self.jobName, "every": DurationText.format(everySeconds), "window": DurationText.format(windowSeconds),
            "sql": "SELECT s.id::text AS item_id, s.user_id, s.title, s.due_at FROM soak_items s WHERE s.due_at >= :window_start AND s.due_at < :window_end",
        ]
        let jobs: [[String: Any]] = [["name": BuiltInJobs.eventReminder.name, "enabled": false], ["name": BuiltInJobs.taskReminder.name, "enabled": false], soak]
        return try JSONSerialization.data(withJSONObject: ["jobs": jobs], options: [.sortedKeys])
    }

    private func soak(client: PostgresClient, alertsTopic: String, engineSettings: [String: String]) async throws -> SoakBenchmarkReport {
        let readerConsumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(kafka: settings.kafka, groupID: "bench-\(id)-reader", sessionTimeout: .seconds(6)),
            logger: logger)
        try readerConsumer.subscribe(topics: [alertsTopic])
        let reader = AlertReader(consumer: readerConsumer, keepingIds: true)
        return try await withKafkaClient(readerConsumer) { readerConsumer in
            try await withThrowingTaskGroup(of: Void.self) { reading in
                reading.addTask { try await reader.run() }
                defer { reading.cancelAll() }
                try phase("starting `proactivity all` (tick producer, worker, DLQ mirror)…")
                let engine = try WorkerProcess(command: "all", kafka: settings.kafka, settings: engineSettings)
                do {
                    try await engine.waitUntilReady()
                    guard try await poll(every: .milliseconds(100), within: .seconds(60), until: { !readerConsumer.assignment.isEmpty }) else {
                        throw BenchmarkFailure("the reader got no partitions within 60 s")
                    }
                    let (samples, inserted) = try await insertAndSample(client: client, engine: engine, reader: reader)
                    try phase("waiting up to 2 minutes for the alerts of the last items…")
                    _ = try await poll(every: .milliseconds(100), within: .seconds(120), until: { reader.counts.distinct >= inserted })
                    let ticks = try await ticksCompleted(client)
                    let peak = engine.memory.peak
                    await engine.stop()
                    let log = (try? String(contentsOf: engine.child.stderrFile, encoding: .utf8)) ?? ""
                    let lines = log.split(separator: "\n")
                    let (received, distinct) = reader.counts
                    return SoakBenchmarkReport(
                        seconds: duration.seconds, everySeconds: everySeconds, windowSeconds: windowSeconds, itemsPerSecond: itemsPerSecond,
                        itemsInserted: inserted, alertsRead: received, distinctAlerts: distinct, ticksCompleted: ticks,
                        errorLines: lines.count { $0.contains(#""level":"error""#) },
                        warningLines: lines.count { $0.contains(#""level":"warning""#) },
                        peakMegabytes: peak, samples: samples)
                } catch {
                    await engine.stop()
                    throw error
                }
            }
        }
    }

    /// Inserts the items second by second until the run's end, sampling the engine, and
    /// once more at the end.
    /// - Returns: the samples and the items inserted.
    private func insertAndSample(
        client: PostgresClient, engine: WorkerProcess, reader: AlertReader
    ) async throws -> (samples: [SoakBenchmarkReport.Sample], inserted: Int) {
        let clock = ContinuousClock()
        let start = clock.now
        let pid = engine.child.process.processIdentifier
        var samples: [SoakBenchmarkReport.Sample] = []
        var inserted = 0
        var lastSample = (at: start, cpu: CPUUsage.Snapshot.take(worker: pid))
        var nextSecond = start
        let aheadMilliseconds = windowSeconds * 500 - 5_000
        try phase("inserting \(itemsPerSecond) items a second for \(Int(duration.seconds)) s; a sample every \(Int(sampleInterval.seconds)) s:")
        progress(SoakBenchmarkReport.Sample.header)
        func sample() async throws {
            let now = CPUUsage.Snapshot.take(worker: pid)
            let cpu = CPUUsage.between(lastSample.cpu, now)
            let sample = SoakBenchmarkReport.Sample(
                seconds: (clock.now - start).seconds, residentMegabytes: engine.memory.current,
                cpuPercent: cpu.map { $0.worker / max($0.seconds, 0.001) * 100 } ?? 0, ticksCompleted: try await ticksCompleted(client),
                itemsInserted: inserted, alertsRead: reader.counts.received)
            samples.append(sample)
            progress(sample.line)
            lastSample = (clock.now, now)
        }
        while clock.now - start < duration {
            guard engine.child.process.isRunning else {
                throw BenchmarkFailure("the engine exited with status \(engine.child.process.terminationStatus) (its output: \(engine.child.stderrFile.path))")
            }
            _ = try await client.query(
                """
                INSERT INTO soak_items (user_id, title, due_at)
                SELECT 'u' || (g % 500), 'soak item ' || g,
                       now() + interval '5 seconds' + random() * make_interval(secs => \(aheadMilliseconds) / 1000.0)
                FROM generate_series(1, \(itemsPerSecond)) AS g
                """)
            inserted += itemsPerSecond
            if clock.now - lastSample.at >= sampleInterval { try await sample() }
            nextSecond = nextSecond.advanced(by: .seconds(1))
            try await Task.sleep(until: nextSecond, clock: clock)
        }
        if clock.now - lastSample.at >= .seconds(1) { try await sample() }
        return (samples, inserted)
    }

    private func ticksCompleted(_ client: PostgresClient) async throws -> Int {
        for try await count in try await client.query("SELECT count(*)::int FROM worker_ticks_completed").decode(Int.self) { return count }
        return 0
    }
}
