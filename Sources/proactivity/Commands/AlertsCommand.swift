import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import ProactivityCore
import ProactivityStages
import UnixSignals

/// `proactivity alerts tail`: what a notification service sees.
struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Read the alerts topic the way a notification service does.",
        subcommands: [Tail.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tail", abstract: "Print alerts as they arrive (a consumer group of its own, from the end).",
            discussion: "Ctrl-C, SIGTERM or SIGHUP (the terminal closed) leaves the consumer group and ends with status 130, 143 or 129.")

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
            let limit = self.limit
            // The alerts are read in a child task; a signal cancels it, then the consumer
            // leaves its group (no member lingers until its session times out).
            let signal = try await withKafkaClient(consumer) { consumer in
                try await withThrowingTaskGroup(of: UnixSignal?.self) { group in
                    group.addTask {
                        try await Self.printAlerts(from: consumer, limit: limit)
                        return nil
                    }
                    group.addTask {
                        for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup) { return signal }
                        return nil
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
            }
            guard let signal else { return }
            throw ExitCode(128 + signal.rawValue)
        }

        /// Prints each alert as it arrives, until `limit` alerts or cancellation. A record
        /// read again (a rebalance before its offset was committed: seen on the local
        /// broker, where the group's first join reassigns) is printed once.
        static func printAlerts(from consumer: KafkaConsumer, limit: Int?) async throws {
            var count = 0
            var rereads = RereadFilter()
            for try await message in consumer.messages {
                consumer.markProcessed(message)
                guard rereads.isFirstRead(partition: message.partition, offset: message.offset) else { continue }
                if let alert = try? MessageCoding.decode(AlertMessage.self, from: message.value ?? []) {
                    print(
                        "ALERT \(alert.alertId)  user=\(alert.userId)  due=\(MessageCoding.timestamp(alert.dueAt))\(alert.late ? " (late)" : "")  \"\(alert.title)\""
                    )
                } else {
                    print("undecodable record at \(message.topic)[\(message.partition)]@\(message.offset)")
                }
                count += 1
                if let limit, count >= limit { return }
            }
        }
    }
}
