import CRdKafka
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
        detachBlocking { client.destroy() }
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
            var newTopics = try specifications.map(Self.newTopic)
            defer { rd_kafka_NewTopic_destroy_array(&newTopics, newTopics.count) }
            let results = try Self.request(client, RD_KAFKA_ADMIN_OP_CREATETOPICS, "creating topics", timeout: timeout) { options, queue in
                rd_kafka_CreateTopics(client.handle, &newTopics, newTopics.count, options, queue)
            } results: { event, count in
                rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            }
            var outcome: [String: KafkaTopicCreation] = [:]
            for result in results {
                switch result.error {
                case RD_KAFKA_RESP_ERR_NO_ERROR: outcome[result.name] = .created
                case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: outcome[result.name] = .alreadyExisted
                case let topicError: throw KafkaError(topicError, context: "cannot create topic \(result.name) (\(result.message))")
                }
            }
            return outcome
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
        let results = try await runBlocking { () throws(KafkaError) -> [TopicResult] in
            var deletions = names.map { rd_kafka_DeleteTopic_new($0) }
            defer { rd_kafka_DeleteTopic_destroy_array(&deletions, deletions.count) }
            return try Self.request(client, RD_KAFKA_ADMIN_OP_DELETETOPICS, "deleting topics", timeout: timeout) { options, queue in
                rd_kafka_DeleteTopics(client.handle, &deletions, deletions.count, options, queue)
            } results: { event, count in
                rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
            }
        }
        for result in results where ![RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART].contains(result.error) {
            throw KafkaError(result.error, context: "cannot delete topic \(result.name) (\(result.message))")
        }
    }

    /// One topic's answer to an admin request.
    private struct TopicResult: Sendable {
        var name: String
        var error: rd_kafka_resp_err_t
        var message: String
    }

    /// Sends one admin request and waits for its answer, on the calling (blocking) thread.
    /// `send` issues it with options carrying `timeout` and a queue of its own; `results`
    /// reads the per-topic results out of the answer event.
    /// - Throws: ``KafkaError`` when no answer comes within `timeout` (plus 5 s), or the
    ///   request as a whole failed.
    private static func request(
        _ client: RDKafkaClient, _ operation: rd_kafka_admin_op_t, _ what: String, timeout: Duration,
        send: (_ options: OpaquePointer?, _ queue: OpaquePointer?) -> Void,
        results: (_ event: OpaquePointer, _ count: inout Int) -> UnsafeMutablePointer<OpaquePointer?>?
    ) throws(KafkaError) -> [TopicResult] {
        let options = rd_kafka_AdminOptions_new(client.handle, operation)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        let milliseconds = Int32(clamping: timeout.milliseconds)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, &errorText, errorText.count)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, milliseconds, &errorText, errorText.count)
        let queue = rd_kafka_queue_new(client.handle)
        defer { rd_kafka_queue_destroy(queue) }
        send(options, queue)
        guard let event = rd_kafka_queue_poll(queue, milliseconds + 5000) else {
            throw KafkaError(code: .timedOut, message: "\(what) took longer than \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            throw KafkaError(err, context: "\(what) failed (\(text))")
        }
        var count = 0
        let topics = results(event, &count)
        return (0..<count).map { index in
            let result = topics![index]
            return TopicResult(
                name: String(cString: rd_kafka_topic_result_name(result)), error: rd_kafka_topic_result_error(result),
                message: rd_kafka_topic_result_error_string(result).map { String(cString: $0) } ?? "")
        }
    }

    private static func newTopic(_ specification: KafkaTopicSpecification) throws(KafkaError) -> OpaquePointer? {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(
            specification.name, specification.partitions, specification.replicationFactor, &errorText, errorText.count)
        else {
            let reason = String(errorBuffer: errorText)
            throw KafkaError(code: .invalidConfiguration, message: "invalid topic \(specification.name): \(reason)")
        }
        for (name, value) in specification.configs.sorted(by: { $0.key < $1.key }) {
            let err = rd_kafka_NewTopic_set_config(topic, name, value)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                rd_kafka_NewTopic_destroy(topic)
                throw KafkaError(err, context: "invalid config \(name) for topic \(specification.name)")
            }
        }
        return topic
    }

    /// The cluster's topics (internal `__` topics left out) with their partition counts.
    ///
    /// - Throws: ``KafkaError`` when the cluster does not answer within `timeout`.
    public func listTopics(timeout: Duration = .seconds(10)) async throws -> [KafkaTopicDescription] {
        let client = self.client
        return try await runBlocking { () throws(KafkaError) -> [KafkaTopicDescription] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(client.handle, 1, nil, &metadata, Int32(clamping: timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError(err, context: "cannot list topics (bootstrap.servers unreachable?)")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
            return topics
                .filter { $0.err == RD_KAFKA_RESP_ERR_NO_ERROR }
                .map { KafkaTopicDescription(name: String(cString: $0.topic), partitionCount: Int($0.partition_cnt)) }
                .filter { !$0.name.hasPrefix("__") }
                .sorted { $0.name < $1.name }
        }
    }

    /// Releases the client.
    public func close() async {
        let client = self.client
        _ = try? await runBlocking { client.destroy() }
    }
}
