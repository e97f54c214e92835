import Foundation
import Kafka
import Logging
import ProactivityLauncher
import Testing

/// The real broker and database the integration tests use, from the environment that
/// `scripts/stack env` prints (the README's test command sets it).
enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        let variable: String
        var description: String { "\(variable) is not set: run the tests with scripts/test (it starts the local stack)" }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(variable: name) }
        return value
    }

    static func kafka() throws -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: try variable("KAFKA_BOOTSTRAP_SERVERS"), clientID: "proactivity-tests")
    }

    static var logger: Logger {
        var logger = Logger(label: "tests")
        logger.logLevel = .warning
        return logger
    }

    /// A name no other test (or earlier run against the same broker) uses.
    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(12).lowercased())"
    }

    static func createTopic(_ name: String, partitions: Int32) async throws {
        let admin = try KafkaAdmin(configuration: try kafka(), logger: logger)
        _ = try await admin.createTopics([KafkaTopicSpecification(name: name, partitions: partitions)])
        await admin.close()
    }

    /// A subscribed consumer that fetches every 20 ms; `statistics` receives librdkafka's
    /// statistics report every 100 ms.
    static func consumer(
        group: String, topics: [String], manualCommit: Bool = false, statistics: (@Sendable (KafkaStatistics) -> Void)? = nil
    ) throws -> KafkaConsumer {
        var kafka = try kafka()
        if let statistics {
            kafka.statisticsInterval = .milliseconds(100)
            kafka.statisticsHandler = statistics
        }
        let configuration = KafkaConsumerConfiguration(
            kafka: kafka, groupID: group, sessionTimeout: .seconds(6), fetchWaitMax: .milliseconds(20),
            autoCommitInterval: manualCommit ? nil : .seconds(1))
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: topics)
        return consumer
    }

    static func producer(transactionalID: String? = nil) throws -> KafkaProducer {
        try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: try kafka(), transactionalID: transactionalID), logger: logger)
    }
}

/// Waits for a condition, checking it every few milliseconds, until a deadline.
func eventually(
    within timeout: Duration = .seconds(30),
    _ what: String,
    _ condition: @Sendable () async throws -> Bool
) async throws {
    guard try await poll(every: .milliseconds(20), within: timeout, until: condition) else {
        Issue.record("timed out after \(timeout) waiting for: \(what)")
        throw CancellationError()
    }
}
