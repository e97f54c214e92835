import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import ProactivityCore
import ProactivityStages

/// `proactivity topics …`: topics as code.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create and inspect the engine's topics as defined in topics/*.json.",
        subcommands: [Apply.self])

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Create the topics that are missing, leave existing ones, and report drift from the definitions.",
            discussion: """
                The folder is found next to the binary or in the current directory; PROACTIVITY_TOPICS_DIR overrides. \
                Exits 3 when a topic's partition count differs from its definition, naming the fix.
                """)

        @OptionGroup var engine: EngineOptions

        @Flag(
            help: """
                Delete and create again each topic whose partition count differs from its definition. Its records and \
                its groups' offsets are lost: for a local or test broker (scripts/demo uses it on the local stack). Stop \
                the engine's stages first: a stage reading a topic being deleted can crash (librdkafka 2.16 on the local broker).
                """)
        var recreateDrifted = false

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.topics")
            let directory = try ResourceLocator.directory("topics", configured: settings.topicsDirectory, environmentVariable: "PROACTIVITY_TOPICS_DIR")
            let definitions = try TopicDefinition.load(from: directory).map { definition in
                var definition = definition
                definition.name = settings.topicName(role: definition.role, default: definition.name)
                return definition
            }
            let recreateDrifted = self.recreateDrifted
            let outcomes = try await withKafkaClient(try KafkaAdmin(configuration: settings.kafka, logger: logger)) { admin in
                try await TopicApplier.apply(definitions, admin: admin, recreatingDrifted: recreateDrifted)
            }
            for outcome in outcomes {
                let role = outcome.role.padding(toLength: 7, withPad: " ", startingAt: 0)
                let state =
                    if let before = outcome.recreatedFrom {
                        "recreated with \(before.defined) partitions (it had \(before.partitions))"
                    } else {
                        outcome.created ? "created" : "exists"
                    }
                print("\(role) \(outcome.name): \(state)" + (outcome.drift.map { " — DRIFT: \($0)" } ?? ""))
            }
            let drifted = outcomes.compactMap { outcome in outcome.drift.map { (outcome, $0) } }
            guard !drifted.isEmpty else { return }
            for (outcome, drift) in drifted {
                print(Self.fix(outcome, drift, bootstrapServers: settings.kafka.bootstrapServers))
            }
            throw ExitCode(3)
        }

        /// How to bring a drifted topic back to its definition.
        static func fix(_ outcome: TopicApplier.Outcome, _ drift: TopicApplier.Drift, bootstrapServers: String) -> String {
            let recreate =
                "or, where its records may be lost (a local or test broker), delete and create it again: proactivity topics apply --recreate-drifted"
            if drift.partitions < drift.defined {
                return """
                    to fix \(outcome.name): add partitions with the cluster's tools \
                    (kafka-topics.sh --bootstrap-server \(bootstrapServers) --alter --topic \(outcome.name) --partitions \(drift.defined); \
                    keys then map to other partitions), \(recreate)
                    """
            }
            return """
                to fix \(outcome.name): Kafka cannot remove partitions; keep them by setting "partitions": \(drift.partitions) \
                in the \(outcome.role) definition under topics/, \(recreate)
                """
        }
    }
}
