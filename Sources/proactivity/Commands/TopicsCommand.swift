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
            let outcomes = try await TopicApplier.apply(definitions, admin: admin)
            await admin.close()
            for outcome in outcomes {
                let role = outcome.role.padding(toLength: 7, withPad: " ", startingAt: 0)
                print("\(role) \(outcome.name): \(outcome.created ? "created" : "exists")" + (outcome.drift.map { " — DRIFT: \($0)" } ?? ""))
            }
            let drift = outcomes.contains { $0.drift != nil }
            if drift { throw ExitCode(3) }
        }
    }
}
