import Foundation
import Kafka
import ProactivityLauncher
import Testing

/// `scripts/demo` as a person meets it, on a stack of the test's own (its own PostgreSQL
/// instance and broker). It runs this build's binary (`PROACTIVITY_BIN`): a `swift build`
/// from inside the tests would rebuild what they run.
@Suite(.timeLimit(.minutes(8)))
struct DemoScriptTests {
    @Test func ctrlCStopsTheDemoButNotTheStackAndTheNextRunRepairsATopicTheRestartedBrokerMadeAndAlertsAtOnce() async throws {
        let stack = StackScript(prefix: "demo")
        defer { stack.remove() }
        let kafka = KafkaConfiguration(bootstrapServers: stack.kafkaAddress, clientID: "demo-script-test")

        // The first run starts the stack: a few progress lines, then the alerts.
        let first = try await Self.run(stack, until: "\nALERT ")
        let progress = first.output.components(separatedBy: "\nALERT ")[0]
        #expect(!progress.contains("{\""), "no log line among the progress lines:\n\(progress)")
        #expect(progress.split(separator: "\n").count <= 12, "a few progress lines:\n\(progress)")
        // The console's address and the stack's token (made once, kept under .local/).
        let console = try #require(progress.split(separator: "\n").first { $0.hasPrefix("operator console: http://127.0.0.1:") })
        let token = String(try #require(console.components(separatedBy: "token: ").last?.split(separator: " ").first))
        #expect(token.count >= 32, "a long random token: \(console)")

        // Ctrl-C: the demo and its pipeline stop, as stopped by the user; the broker and
        // PostgreSQL it started keep running.
        let interrupted = ContinuousClock.now
        first.signalGroup(SIGINT)
        #expect(try await first.waitForExit(within: .seconds(90)) == 130, "exit status after Ctrl-C; output:\n\(first.output)")
        #expect(!first.output.contains("failed"), "a stop is not a failure:\n\(first.output)")
        print("scripts/demo: exited \((ContinuousClock.now - interrupted).seconds) s after Ctrl-C")
        #expect(!first.groupIsAlive, "nothing the demo started in its process group still runs")
        let status = try stack.run("status")
        #expect(status.output.contains("broker:   running") && status.output.contains("postgres: running"), "\(status.output)")

        // The broker restarts empty, and a client asking for the alerts topic gets it
        // with the broker's default partition count.
        try stack.expectSuccess("broker-restart")
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: TestEnvironment.logger)
        _ = try await producer.send(KafkaProducerMessage(topic: "proactivity.alerts", value: Array("made by a client".utf8)))
        try await producer.close()
        let defaultPartitions = try #require(try await Self.partitions(of: "proactivity.alerts", on: kafka))
        try #require(defaultPartitions != 12, "the broker's default is not the definition's 12")

        // The next run recreates it as defined, says so, and alerts its new demo items at
        // once (`jobs run`), though the first run completed the current slot's tick. The
        // recreated topic is empty and the ledger keeps the first run's items from being
        // alerted again: an alert here is a new item's.
        let second = try await Self.run(stack, until: "\nALERT ")
        #expect(
            second.output.contains("topic proactivity.alerts: recreated with 12 partitions (it had \(defaultPartitions))"),
            "\(second.output)")
        #expect(try await Self.partitions(of: "proactivity.alerts", on: kafka) == 12)
        second.signalGroup(SIGINT)
        #expect(try await second.waitForExit(within: .seconds(90)) == 130, "exit status after Ctrl-C; output:\n\(second.output)")
    }

    /// Starts `scripts/demo` on the stack and waits until its output holds `marker`;
    /// fails with its output and log when it exits first or takes 4 minutes.
    static func run(_ stack: StackScript, until marker: String) async throws -> ScriptProcess {
        var environment = stack.environment
        environment["PROACTIVITY_BIN"] = ProactivityProcess.binary.path
        environment["HTTP_PORT"] = "0"
        let started = ContinuousClock.now
        let demo = try ScriptProcess("scripts/demo", [], environment: environment)
        _ = try await poll(every: .milliseconds(100), within: .seconds(240)) { demo.output.contains(marker) || demo.exitStatus != nil }
        guard demo.output.contains(marker) else {
            let log = PipelineHarness.repositoryRoot.appendingPathComponent(".local/log/demo-\(stack.kafkaPort).log")
            let details = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            Issue.record("no '\(marker)' (exit status \(demo.exitStatus.map(String.init) ?? "none yet")):\n\(demo.output)\ndemo log:\n\(details.suffix(4000))")
            throw CancellationError()
        }
        print("scripts/demo: '\(marker.trimmingCharacters(in: .whitespacesAndNewlines))' \((ContinuousClock.now - started).seconds) s after the start")
        return demo
    }

    static func partitions(of topic: String, on kafka: KafkaConfiguration) async throws -> Int? {
        let admin = try KafkaAdmin(configuration: kafka, logger: TestEnvironment.logger)
        let topics = try await admin.listTopics()
        await admin.close()
        return topics.first { $0.name == topic }?.partitionCount
    }
}
