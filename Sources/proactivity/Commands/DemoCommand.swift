import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Logging

/// `proactivity demo …`: demo data and a Kafka round trip.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Demo helpers: seed demo events and tasks, or run a Kafka round trip.",
        subcommands: [DemoSeedCommand.self, KafkaRoundTripCommand.self])
}

/// A Kafka round trip: create a topic, produce keyed messages with headers, read them
/// back in a consumer group, and print what arrived.
struct KafkaRoundTripCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Round trip: produce messages to a topic and read them back through a consumer group."
    )

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "The topic to use (created with 3 partitions when missing).")
    var topic = "proactivity.demo"

    @Option(help: "How many messages to send.")
    var messages = 10

    @Option(help: "Seconds to wait for the messages to come back.")
    var timeout = 60

    func validate() throws {
        guard messages > 0 else { throw ValidationError("--messages must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
    }

    func run() async throws {
        let (configuration, logger) = try await kafka.load(label: "proactivity.demo", clientID: "proactivity-demo")
        let topic = self.topic
        let created = try await withKafkaClient(try KafkaAdmin(configuration: configuration, logger: logger)) { admin in
            try await admin.createTopics([KafkaTopicSpecification(name: topic, partitions: 3)])
        }
        print("topic \(topic): \(created[topic] == .created ? "created" : "exists")")

        let runID = UUID().uuidString.prefix(8).lowercased()
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(kafka: configuration, groupID: "proactivity-demo-\(runID)", offsetReset: .earliest, sessionTimeout: .seconds(6)),
            logger: logger)
        try consumer.subscribe(topics: [topic])
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: configuration), logger: logger)
        let (messages, timeout) = (self.messages, self.timeout)

        let outgoing = (0..<messages).map { index in
            KafkaProducerMessage(
                topic: topic, key: "user-\(index % 3)", value: "{\"demo\":\"\(runID)\",\"n\":\(index)}",
                headers: [KafkaHeader(name: "demo-run", string: String(runID))])
        }
        let received = try await withKafkaClient(consumer) { consumer in
            try await withKafkaClient(producer) { producer in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    group.addTask { try await Self.receive(from: consumer, run: String(runID), expected: messages) }
                    for result in await producer.send(outgoing) {
                        let report = try result.get()
                        print("sent     \(report.topic)[\(report.partition)]@\(report.offset)")
                    }
                    group.addTask {
                        try await Task.sleep(for: .seconds(timeout))
                        return -1
                    }
                    let first = try await group.next()!
                    group.cancelAll()
                    return first
                }
            }
        }
        guard received == messages else {
            throw ValidationError("only some messages came back within \(timeout)s; is the broker reachable?")
        }
        print("round trip complete: \(messages) sent, \(messages) received (librdkafka \(KafkaLibrary.version))")
    }

    private static func receive(from consumer: KafkaConsumer, run: String, expected: Int) async throws -> Int {
        var count = 0
        for try await message in consumer.messages {
            consumer.markProcessed(message)
            guard message.headers.string(named: "demo-run") == run else { continue }
            count += 1
            print("received \(message.topic)[\(message.partition)]@\(message.offset) key=\(message.keyString ?? "-") value=\(message.valueString ?? "-")")
            if count == expected { break }
        }
        return count
    }
}
