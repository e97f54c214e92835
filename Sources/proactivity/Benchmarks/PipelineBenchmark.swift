import Foundation
import Kafka
import Logging
import PostgresNIO
import ProactivityCore
import ProactivityStages
import ProactivityStore

/// `bench pipeline`: one tick whose window matches many rows, through a real worker.
///
/// In a schema and topics of its own it seeds `total` events (of which `due` fall in one
/// event-reminder window, spread over `users` users), publishes one tick, and measures
/// the time from publishing the tick to receiving the last alert, alerts per second,
/// the reminder query's time, and the process's peak memory.
struct PipelineBenchmark {
    let settings: EngineSettings
    let total: Int
    let due: Int
    let users: Int
    let logger: Logger
    let progress: (String) -> Void

    struct Report: Codable {
        var dueItems: Int
        var tableRows: Int
        var users: Int
        var alertsReceived: Int
        var tickToLastAlertSeconds: Double
        var alertsPerSecond: Double
        var querySeconds: Double
        var peakMemoryMegabytes: Double
        var librdkafka: String
    }

    func run() async throws -> Report {
        let id = UUID().uuidString.prefix(8).lowercased()
        let schema = "bench_\(id)"
        var settings = settings
        settings.ticksTopic = "bench-\(id)-ticks"
        settings.alertsTopic = "bench-\(id)-alerts"
        settings.workerGroupID = "bench-\(id)-workers"
        settings.database.schema = schema
        settings.httpPort = 0
        let slot = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 300).rounded(.down) * 300 + 86_400 * 30)

        let admin = try KafkaAdmin(configuration: settings.kafka, logger: logger)
        _ = try await admin.createTopics([
            KafkaTopicSpecification(name: settings.ticksTopic, partitions: 1),
            KafkaTopicSpecification(name: settings.alertsTopic, partitions: 12),
        ])
        await admin.close()

        let database = PostgresClient(configuration: settings.database.clientConfiguration, backgroundLogger: logger)
        let setup = PostgresClient(configuration: self.settings.database.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            group.addTask { await setup.run() }
            defer { group.cancelAll() }
            try await setup.query("CREATE SCHEMA \(unescaped: schema)")
            defer { Task { try? await setup.query("DROP SCHEMA \(unescaped: schema) CASCADE") } }
            try await Migrator(
                directory: try ResourceLocator.directory("Migrations", environmentVariable: "PROACTIVITY_MIGRATIONS_DIR"),
                client: database, logger: logger
            ).migrate()
            progress("seeding \(total) events (\(due) due in one window, \(users) users)…")
            try await seed(database, slot: slot)

            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: Date())
            let queryStarted = ContinuousClock.now
            let matched = try await ReminderStore(client: database, logger: logger).forEachDuePage(
                job: BuiltInJobs.eventReminder, tick: tick, pageSize: 2_000) { _ in }
            let querySeconds = (ContinuousClock.now - queryStarted).seconds
            progress("reminder query: \(matched) rows in \(String(format: "%.3f", querySeconds)) s")

            let assembly = try StageAssembly(stages: [.worker], settings: settings, logger: logger)
            let worker = Task { try await assembly.run() }
            defer { worker.cancel() }
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(kafka: settings.kafka, groupID: "bench-\(id)-reader", sessionTimeout: .seconds(6)),
                logger: logger)
            try consumer.subscribe(topics: [settings.alertsTopic])
            let expected = matched
            let reader = Task { () throws -> (Int, ContinuousClock.Instant) in
                var received = 0
                var last = ContinuousClock.now
                for try await message in consumer.messages {
                    consumer.markProcessed(message)
                    received += 1
                    last = ContinuousClock.now
                    if received == expected { break }
                }
                return (received, last)
            }
            // Both the worker and the reader must have joined before the clock starts.
            while consumer.assignment.isEmpty || assembly.health.readiness.checks["assignment"] != "ok" {
                try await Task.sleep(for: .milliseconds(100))
            }
            progress("publishing one tick; waiting for \(expected) alerts…")
            let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: settings.kafka), logger: logger)
            let started = ContinuousClock.now
            _ = try await producer.send(
                KafkaProducerMessage(topic: settings.ticksTopic, key: Array(tick.partitionKey.utf8), value: MessageCoding.encode(tick)))
            try await producer.close()
            let (received, last) = try await reader.value
            let elapsed = (last - started).seconds
            try await consumer.close()
            return Report(
                dueItems: matched, tableRows: total, users: users, alertsReceived: received,
                tickToLastAlertSeconds: elapsed, alertsPerSecond: Double(received) / elapsed, querySeconds: querySeconds,
                peakMemoryMegabytes: Self.peakMemoryMegabytes(), librdkafka: KafkaLibrary.version)
        }
    }

    /// Inserts `due` events inside the window after `slot` and the rest in later days.
    private func seed(_ client: PostgresClient, slot: Date) async throws {
        try await client.query(
            """
            INSERT INTO events (user_id, title, starts_at)
            SELECT 'user-' || (n % \(users)), 'Event ' || n,
                   CASE WHEN n <= \(due) THEN \(slot) + (n % 3600) * interval '1 second'
                        ELSE \(slot) + interval '2 days' + (n % 2000000) * interval '1 second' END
            FROM generate_series(1, \(total)) AS n
            """)
        try await client.query("ANALYZE events")
    }

    /// The process's peak resident memory (worker and benchmark reader together).
    static func peakMemoryMegabytes() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
