import ArgumentParser
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
            discussion: "The folder is found next to the binary or in the current directory; PROACTIVITY_TOPICS_DIR overrides.")

        @OptionGroup var engine: EngineOptions

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.topics")
            let directory = try ResourceLocator.directory("topics", environmentVariable: "PROACTIVITY_TOPICS_DIR")
            let definitions = try TopicDefinition.load(from: directory).map { definition in
                var definition = definition
                definition.name = settings.topicName(role: definition.role, default: definition.name)
                return definition
            }
            let admin = try KafkaAdmin(configuration: settings.kafka, logger: logger)
            defer { Task { await admin.close() } }
            let outcome = try await admin.createTopics(
                definitions.map {
                    KafkaTopicSpecification(
                        name: $0.name, partitions: $0.partitions, replicationFactor: $0.replicationFactor, configs: $0.configs)
                })
            let existing = Dictionary(uniqueKeysWithValues: try await admin.listTopics().map { ($0.name, $0.partitionCount) })
            var drift = false
            for definition in definitions {
                let created = outcome[definition.name] == .created
                var line = "\(definition.role.padding(toLength: 7, withPad: " ", startingAt: 0)) \(definition.name): \(created ? "created" : "exists")"
                if let partitions = existing[definition.name], partitions != Int(definition.partitions) {
                    drift = true
                    line += " — DRIFT: \(partitions) partitions, defined \(definition.partitions)"
                }
                print(line)
            }
            if drift { throw ExitCode(3) }
        }
    }
}
