import Dispatch
import Logging

/// What a topic should look like.
public struct KafkaTopicSpecification: Sendable, Hashable {
    /// The topic name.
    public var name: String
    /// The number of partitions.
    public var partitions: Int32
    /// How many brokers keep a copy of each partition.
    public var replicationFactor: Int32
    /// Topic configs, e.g. `retention.ms`, `cleanup.policy`.
    public var configs: [String: String]

    /// Creates a specification.
    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A topic as the cluster reports it.
public struct KafkaTopicDescription: Sendable, Hashable {
    /// The topic name.
    public var name: String
    /// The number of partitions.
    public var partitionCount: Int
}

/// What creating a topic did.
public enum KafkaTopicCreation: Sendable, Hashable {
    /// The topic was created.
    case created
    /// The topic existed already and was left as it is.
    case alreadyExisted
}

/// Topic administration: create idempotently, list with partition counts, delete.
///
/// The admin client is a `Service` (run it in the group of its users, listed before
/// them), or scoped with ``withKafkaClient(_:_:)``; either releases it at the end.
public final class KafkaAdmin: Sendable {
    let client: RDKafkaClient

    /// Creates an admin client.
    /// - Throws: ``KafkaError`` naming the property for invalid configuration.
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(
            role: .producer,
            properties: configuration.librdkafkaProperties(roleDefaults: [:]),
            events: 0,
            statisticsHandler: nil,
            logger: logger
        )
        client.startEventThread()
    }

    deinit {
        let client = self.client
        destroyDetached(client) { client.destroy() }
    }

    /// Creates the topics that do not exist; existing ones are left untouched.
    ///
    /// - Returns: per topic name, whether it was created or already existed.
    /// - Throws: ``KafkaError`` for an invalid specification, an unreachable cluster
    ///   (within `timeout`) or a topic the broker refused.
    public func createTopics(
        _ specifications: [KafkaTopicSpecification],
        timeout: Duration = .seconds(30)
    ) async throws -> [String: KafkaTopicCreation] {
        guard !specifications.isEmpty else { return [:] }
        let client = self.client
        return try await runBlocking { () throws(KafkaError) -> [String: KafkaTopicCreation] in
            try client.createTopics(specifications, timeout: timeout)
        }
    }

    /// Deletes topics with every record they hold; a topic that does not exist is not an
    /// error. On Apache Kafka the deletion completes in the background: a topic of the
    /// same name can be created again once ``listTopics(timeout:)`` no longer lists it.
    ///
    /// - Throws: ``KafkaError`` for an unreachable cluster (within `timeout`) or a topic
    ///   the broker refused to delete (e.g. deletion disabled, not authorized).
    public func deleteTopics(_ names: [String], timeout: Duration = .seconds(30)) async throws {
        guard !names.isEmpty else { return }
        let client = self.client
        try await runBlocking { try client.deleteTopics(names, timeout: timeout) }
    }

    /// The cluster's topics (internal `__` topics left out) with their partition counts.
    ///
    /// - Throws: ``KafkaError`` when the cluster does not answer within `timeout`.
    public func listTopics(timeout: Duration = .seconds(10)) async throws -> [KafkaTopicDescription] {
        let client = self.client
        return try await runBlocking { () throws(KafkaError) -> [KafkaTopicDescription] in
            try client.topics(timeout: timeout)
        }
    }

    /// Releases the client: what ``finish(gracefully:)`` does for a client run as a
    /// service or scoped with ``withKafkaClient(_:_:)``; only tests (in this package)
    /// call this directly.
    package func close() async {
        let client = self.client
        if !(await destroyAndWait(client, atMost: Self.destroyWait) { client.destroy() }) {
            client.logger.warning("kafka_client_destroy_unfinished", metadata: ["waited_seconds": "\(Self.destroyWait.components.seconds)"])
        }
    }

    /// How long ``close()`` waits for librdkafka's destroy before leaving it to finish in
    /// the background. An admin client holds no group and no messages: its destroy takes
    /// milliseconds unless a broker thread waits on a broker that never answers.
    static let destroyWait = Duration.seconds(10)
}
