import Foundation
import Kafka
import PostgresNIO
import ProactivityCore
import ProactivityLauncher
import Testing

@testable import ProactivityStages

/// `proactivity status` and `config check`, and secrets kept out of every log line, run
/// as the real binary.
@Suite(.timeLimit(.minutes(4)))
struct OperationsCommandTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    func poisonTick(_ harness: PipelineHarness) async throws {
        let producer = try TestEnvironment.producer()
        _ = try await producer.send(KafkaProducerMessage(topic: harness.ticksTopic, key: Array("x".utf8), value: Array("not json".utf8)))
        try await producer.close()
    }

    @Test func statusShowsJobRunsConsumerLagAndTheDLQBacklog() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(slot.addingTimeInterval(600)))")
            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            try await harness.withWorker(stages: [.worker, .mirror]) { _ in
                try await poisonTick(harness)
                try await harness.publish([tick])
                try await harness.waitForCompletion(of: [tick])
                try await eventually("the poison tick is mirrored") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1
                }
                try await eventually("the worker group committed both ticks") {
                    let (status, output, stdout) = try await ProactivityProcess.run(["status", "--json"], environment: try harness.environment())
                    #expect(status == 0, "\(output)")
                    let decoder = JSONDecoder()
                    decoder.keyDecodingStrategy = .convertFromSnakeCase
                    let report = try decoder.decode(StatusReportView.self, from: Data(stdout.utf8))
                    let workers = try #require(report.lag.first { $0.group == harness.group })
                    return workers.partitions.map(\.lag) == [0, 0, 0] && workers.partitions.compactMap(\.committed).reduce(0, +) == 2
                }
            }
            let (status, output, _) = try await ProactivityProcess.run(["status"], environment: try harness.environment())
            #expect(status == 0)
            #expect(output.contains("event-reminder") && output.contains("success"), "\(output)")
            #expect(output.contains("task-reminder") && output.contains("never"), "an enabled job that never ran is listed")
            #expect(output.contains(harness.group) && output.contains(harness.ticksTopic))
            #expect(output.contains("DLQ backlog: 1 unprocessed row") && output.contains("undecodable"))
        }
    }

    @Test func noSecretAppearsInAnyLogLineOrError() async throws {
        try await PipelineHarness.with { harness in
            let role = "role_" + harness.schema
            let password = "pg-secret-\(UUID().uuidString)"
            try await harness.execute("CREATE ROLE \(unescaped: role) LOGIN PASSWORD '\(unescaped: password)'")
            try await harness.execute("GRANT ALL ON SCHEMA \(unescaped: harness.schema) TO \(unescaped: role)")
            try await harness.execute("GRANT ALL ON ALL TABLES IN SCHEMA \(unescaped: harness.schema) TO \(unescaped: role)")
            try await harness.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA \(unescaped: harness.schema) TO \(unescaped: role)")
            let base = try TestEnvironment.variable("POSTGRES_URL")
            let host = try #require(base.split(separator: "@").last)
            let url = "postgres://\(role):\(password)@\(host)" + (host.contains("?") ? "&" : "?") + "schema=\(harness.schema)"
            let secrets = [password, "sasl-secret-\(UUID().uuidString)", "token-secret-\(UUID().uuidString)", "key-secret-\(UUID().uuidString)"]
            let environment = try harness.environment(extra: [
                "POSTGRES_URL": url, "KAFKA_SASL_USERNAME": "engine", "KAFKA_SASL_PASSWORD": secrets[1], "KAFKA_SASL_MECHANISMS": "PLAIN",
                "DLQ_API_TOKEN": secrets[2], "KAFKA_SSL_KEY_PASSWORD": secrets[3], "KAFKA_DEBUG": "conf,generic", "LOG_LEVEL": "debug",
            ])
            var outputs: [String] = []

            let engine = try ProactivityProcess(["all"], environment: environment)
            try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(slot.addingTimeInterval(600)))")
            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            try await poisonTick(harness)
            try await harness.publish([tick])
            try await harness.waitForCompletion(of: [tick])
            try await eventually("the poison tick is mirrored") { try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1 }
            engine.signal(SIGTERM)
            #expect(try await engine.waitForExit(within: .seconds(40)) == 0)
            outputs.append(engine.text)
            #expect(engine.text.contains("worker_job_succeeded") && engine.text.contains("worker_dlq_enqueued"), "the run did its work")

            outputs.append(try await ProactivityProcess.run(["config", "check"], environment: environment).output)
            outputs.append(try await ProactivityProcess.run(["status"], environment: environment).output)
            // Errors: a wrong password, an unreachable database.
            var wrong = environment
            wrong["POSTGRES_URL"] = url.replacingOccurrences(of: password, with: password + "-wrong")
            let refused = try await ProactivityProcess.run(["migrate", "--status"], environment: wrong).output
            #expect(refused.contains("28P01"), "a wrong password is named as such: \(refused)")
            outputs.append(refused)
            wrong["POSTGRES_URL"] = "postgres://\(role):\(password)@127.0.0.1:1/nowhere"
            outputs.append(try await ProactivityProcess.run(["dlq", "list"], environment: wrong).output)

            let all = outputs.joined(separator: "\n")
            #expect(all.contains("[redacted]") || all.contains("***"), "redaction markers show where secrets were")
            for secret in secrets {
                #expect(!all.contains(secret), "a secret leaked into the output")
            }
            try await harness.execute("DROP OWNED BY \(unescaped: role)")
            try await harness.execute("DROP ROLE \(unescaped: role)")
        }
    }

    /// The console asks for the groups' lag every 10 s for as long as the engine runs: each
    /// lookup's clients are released, none is left in librdkafka's destroy (which keeps its
    /// threads awake), so a long-running engine does not gather them.
    @Test func lagLookupsReleaseTheirKafkaClients() async throws {
        let topic = TestEnvironment.unique("lag-topic")
        try await TestEnvironment.createTopic(topic, partitions: 4)
        let clientID = TestEnvironment.unique("lag-lookup")
        var kafka = try TestEnvironment.kafka()
        kafka.clientID = clientID
        for _ in 0..<20 {
            let lag = try await StatusReport.lag(
                of: TestEnvironment.unique("group"), on: topic, kafka: kafka, timeout: .seconds(10), logger: TestEnvironment.logger)
            #expect(lag.partitions.count == 4)
        }
        try await eventually("every lookup's Kafka clients are released") {
            !KafkaLibrary.clientsBeingReleased.contains { $0.hasPrefix(clientID + "#") }
        }
    }
}

/// The parts of `status --json` the test reads.
struct StatusReportView: Decodable {
    struct Group: Decodable {
        struct Partition: Decodable {
            var committed: Int64?
            var end: Int64
            var lag: Int64
        }
        var group: String
        var partitions: [Partition]
    }
    var lag: [Group]
}
