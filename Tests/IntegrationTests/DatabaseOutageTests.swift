import Foundation
import PostgresNIO
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

@Suite(.timeLimit(.minutes(4)))
struct DatabaseOutageTests {
    @Test func aStoppedDatabasePausesWorkWithoutDLQRowsAndNothingIsLost() async throws {
        let database = StackScript(prefix: "outage")
        try database.expectSuccess("pg-start")
        defer { database.remove() }
        let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!
        let ticks = TestEnvironment.unique("ticks")
        let alerts = TestEnvironment.unique("alerts")
        let dlq = TestEnvironment.unique("dlq")
        for topic in [ticks, alerts, dlq] { try await TestEnvironment.createTopic(topic, partitions: 1) }
        try await withPostgresClient(try DatabaseSettings(url: database.url), logger: TestEnvironment.logger) { client in
            try await Migrator(directory: PipelineHarness.repositoryRoot.appendingPathComponent("Migrations"), client: client, logger: TestEnvironment.logger)
                .migrate()
            try await client.query(
                "INSERT INTO events (user_id, title, starts_at) SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 minute' FROM generate_series(1, 10) n")
            let settings = try await EngineSettings.load(environment: [
                "KAFKA_BOOTSTRAP_SERVERS": try TestEnvironment.variable("KAFKA_BOOTSTRAP_SERVERS"), "KAFKA_SESSION_TIMEOUT_MS": "6000",
                "POSTGRES_URL": database.url, "TOPICS_TICKS": ticks, "TOPICS_ALERTS": alerts, "TOPICS_DLQ": dlq,
                "WORKER_GROUP_ID": TestEnvironment.unique("workers"), "HTTP_PORT": "0",
                // The smallest budget: an outage must not spend it.
                "WORKER_RETRY_ATTEMPTS": "1",
                // The fixed slot lies years back (StaleTickTests: the default 30 days refuses it).
                "LEDGER_RETENTION": "3650d",
            ])
            let assembly = try StageAssembly(stages: [.worker], settings: settings, logger: TestEnvironment.logger)
            try await assembly.running {
                try await eventually("ready") { assembly.health.readiness.ready }

                try database.expectSuccess("pg-stop")
                try await eventually("readiness reports the database") {
                    assembly.health.readiness.checks["probe.database"]?.contains("database unreachable") == true
                }
                #expect(!assembly.health.readiness.ready)
                let producer = try TestEnvironment.producer()
                let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
                _ = try await producer.send(KafkaProducerMessage(topic: ticks, key: Array(tick.partitionKey.utf8), value: MessageCoding.encode(tick)))
                try await producer.close()
                // The tick arrived while the database was down: it must wait, not fail.
                try await eventually("the worker's circuit breaker opens") {
                    assembly.metrics.render().contains(#"proactivity_circuit_breaker_open{dependency="database"} 1"#)
                }

                // A 15 s outage, long enough for the backoff to reach 8 s: the worker must come
                // back when the database does, not when its backoff ends.
                try await eventually(within: .seconds(60), "the circuit open for 15 s") {
                    let readiness = assembly.health.readiness
                    guard readiness.checks["worker.database"] != "ok", let since = readiness.since["worker.database"],
                        let date = ISO8601DateFormatter().date(from: since)
                    else { return false }
                    return Date().timeIntervalSince(date) >= 15
                }

                try database.expectSuccess("pg-start")  // returns once the server answers
                let back = ContinuousClock.now
                try await eventually(within: .seconds(90), "the tick completes after the database returns") {
                    (try? await client.query("SELECT 1 FROM worker_ticks_completed WHERE tick_id = \(tick.tickId)").collect().count) == 1
                }
                let completedAfter = ContinuousClock.now - back
                try await eventually("ready again") { assembly.health.readiness.ready }
                print("database outage: the waiting tick completed \(completedAfter.seconds) s after the database answered, ready \((ContinuousClock.now - back).seconds) s after")
                #expect(assembly.metrics.render().contains(#"proactivity_circuit_breaker_open{dependency="database"} 0"#))
                var sent = 0
                for try await count in try await client.query("SELECT count(*)::int FROM worker_alerts_sent").decode(Int.self) { sent = count }
                #expect(sent == 10, "every due item alerted")
                var dead = -1
                for try await count in try await client.query("SELECT count(*)::int FROM worker_dlq").decode(Int.self) { dead = count }
                #expect(dead == 0, "no DLQ rows for a transient failure")
            }
        }
    }
}

import Kafka
