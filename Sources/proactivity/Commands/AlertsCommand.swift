import ArgumentParser
import Foundation
import Kafka
import ProactivityCore
import ProactivityStages

/// `proactivity alerts tail`: what a notification service sees.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Read the alerts topic the way a notification service does.",
        subcommands: [Tail.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tail", abstract: "Print alerts as they arrive (a consumer group of its own, from the end).")

        @OptionGroup var engine: EngineOptions

        @Flag(help: "Start from the oldest alert kept, not from the end.")
        var fromBeginning = false

        @Option(help: "Stop after this many alerts.")
        var limit: Int?

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.alerts")
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(
                    kafka: settings.kafka, groupID: "proactivity-alerts-tail-\(UUID().uuidString.prefix(8))",
                    offsetReset: fromBeginning ? .earliest : .latest, sessionTimeout: .seconds(6)),
                logger: logger)
            try consumer.subscribe(topics: [settings.alertsTopic])
            print("waiting for alerts on \(settings.alertsTopic)… (Ctrl-C to stop)")
            var count = 0
            for try await message in consumer.messages {
                consumer.markProcessed(message)
                if let alert = try? MessageCoding.decode(AlertMessage.self, from: message.value ?? []) {
                    print(
                        "ALERT \(alert.alertId)  user=\(alert.userId)  due=\(MessageCoding.timestamp(alert.dueAt))\(alert.late ? " (late)" : "")  \"\(alert.title)\""
                    )
                } else {
                    print("undecodable record at \(message.topic)[\(message.partition)]@\(message.offset)")
                }
                count += 1
                if let limit, count >= limit { break }
            }
            try await consumer.close()
        }
    }
}
