import Foundation
import Kafka
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import Testing

@Suite(.timeLimit(.minutes(4)))
struct TopicApplierTests {
    /// The definitions of `topics/` under names of this test's own.
    static func definitions() throws -> [TopicDefinition] {
        try TopicDefinition.load(from: PipelineHarness.repositoryRoot.appendingPathComponent("topics")).map {
            var definition = $0
            definition.name = TestEnvironment.unique(definition.name)
            return definition
        }
    }

    @Test func applyCreatesWhatIsMissingLeavesTheRestAndReportsDrift() async throws {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let definitions = try Self.definitions()
        #expect(definitions.map(\.role) == ["alerts", "dlq", "ticks"])
        let first = try await TopicApplier.apply(definitions, admin: admin)
        #expect(first.allSatisfy { $0.created && $0.drift == nil })
        let second = try await TopicApplier.apply(definitions, admin: admin)
        #expect(second.allSatisfy { !$0.created && $0.drift == nil })

        var shrunk = definitions
        shrunk[0].partitions += 2
        let drifted = try await TopicApplier.apply(shrunk, admin: admin)
        #expect(drifted[0].drift?.description == "\(definitions[0].partitions) partitions, defined \(shrunk[0].partitions)")
        await admin.close()
    }

    /// A topic a client created with the broker's default partition count (what the
    /// local broker does after a restart) is deleted and created as defined on request;
    /// the others are left alone.
    @Test func aDriftedTopicIsRecreatedAsDefinedWhenAsked() async throws {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let definitions = try Self.definitions()
        let alerts = try #require(definitions.first { $0.role == "alerts" })
        try await TestEnvironment.createTopic(alerts.name, partitions: 4)

        let reported = try await TopicApplier.apply(definitions, admin: admin)
        let drift = TopicApplier.Drift(partitions: 4, defined: Int(alerts.partitions))
        #expect(reported.first { $0.name == alerts.name }?.drift == drift, "reported, left as it is")

        let repaired = try await TopicApplier.apply(definitions, admin: admin, recreatingDrifted: true)
        #expect(repaired.allSatisfy { $0.drift == nil }, "\(repaired)")
        #expect(repaired.first { $0.name == alerts.name }?.recreatedFrom == drift)
        #expect(repaired.filter { $0.recreatedFrom != nil }.map(\.name) == [alerts.name], "only the drifted topic is recreated")
        let listed = try await admin.listTopics().first { $0.name == alerts.name }
        #expect(listed?.partitionCount == Int(alerts.partitions))
        await admin.close()
    }

    /// `topics apply` on its own repairs nothing: it exits 3 and says how to fix each
    /// drifted topic, whether it has fewer partitions than defined or more.
    @Test func theCommandNamesTheFixForEachDriftedTopic() async throws {
        let definitions = try Self.definitions()
        let alerts = try #require(definitions.first { $0.role == "alerts" })
        let dlq = try #require(definitions.first { $0.role == "dlq" })
        let ticks = try #require(definitions.first { $0.role == "ticks" })
        try await TestEnvironment.createTopic(alerts.name, partitions: alerts.partitions - 2)
        try await TestEnvironment.createTopic(dlq.name, partitions: dlq.partitions + 2)
        let bootstrap = try TestEnvironment.variable("KAFKA_BOOTSTRAP_SERVERS")
        let environment = [
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "POSTGRES_URL": try TestEnvironment.variable("POSTGRES_URL"),
            "TOPICS_ALERTS": alerts.name, "TOPICS_DLQ": dlq.name, "TOPICS_TICKS": ticks.name,
            "PROACTIVITY_TOPICS_DIR": PipelineHarness.repositoryRoot.appendingPathComponent("topics").path,
        ]

        let run = try await ProactivityProcess.run(["topics", "apply"], environment: environment)
        #expect(run.status == 3, "\(run.output)")
        #expect(run.stdout.contains("\(alerts.name): exists — DRIFT: \(alerts.partitions - 2) partitions, defined \(alerts.partitions)"))
        #expect(
            run.stdout.contains(
                "to fix \(alerts.name): add partitions with the cluster's tools (kafka-topics.sh --bootstrap-server \(bootstrap) --alter --topic \(alerts.name) --partitions \(alerts.partitions);"),
            "\(run.stdout)")
        #expect(run.stdout.contains("to fix \(dlq.name): Kafka cannot remove partitions;"), "\(run.stdout)")
        #expect(run.stdout.components(separatedBy: "proactivity topics apply --recreate-drifted").count == 3, "both name the recreation")

        let repaired = try await ProactivityProcess.run(["topics", "apply", "--recreate-drifted"], environment: environment)
        #expect(repaired.status == 0, "\(repaired.output)")
        #expect(repaired.stdout.contains("\(alerts.name): recreated with \(alerts.partitions) partitions (it had \(alerts.partitions - 2))"))
        #expect(repaired.stdout.contains("\(dlq.name): recreated with \(dlq.partitions) partitions (it had \(dlq.partitions + 2))"))
    }
}
