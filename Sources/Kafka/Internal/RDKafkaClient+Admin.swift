import CRdKafka

// Topic administration on a client's handle: blocking calls, which `KafkaAdmin` runs off
// the cooperative pool.

extension RDKafkaClient {
    /// Creates the topics that do not exist. Blocks up to `timeout` (plus 5 s).
    func createTopics(_ specifications: [KafkaTopicSpecification], timeout: Duration) throws(KafkaError) -> [String: KafkaTopicCreation] {
        var newTopics: [OpaquePointer?] = []
        defer { rd_kafka_NewTopic_destroy_array(&newTopics, newTopics.count) }
        for specification in specifications { newTopics.append(try Self.newTopic(specification)) }
        let results = try Self.request(self, RD_KAFKA_ADMIN_OP_CREATETOPICS, "creating topics", timeout: timeout) { options, queue in
            rd_kafka_CreateTopics(self.handle, &newTopics, newTopics.count, options, queue)
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

    /// Deletes topics; a topic that does not exist is not an error. Blocks up to `timeout` (plus 5 s).
    func deleteTopics(_ names: [String], timeout: Duration) throws(KafkaError) {
        var deletions = names.map { rd_kafka_DeleteTopic_new($0) }
        defer { rd_kafka_DeleteTopic_destroy_array(&deletions, deletions.count) }
        let results = try Self.request(self, RD_KAFKA_ADMIN_OP_DELETETOPICS, "deleting topics", timeout: timeout) { options, queue in
            rd_kafka_DeleteTopics(self.handle, &deletions, deletions.count, options, queue)
        } results: { event, count in
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
        }
        for result in results where ![RD_KAFKA_RESP_ERR_NO_ERROR, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART].contains(result.error) {
            throw KafkaError(result.error, context: "cannot delete topic \(result.name) (\(result.message))")
        }
    }

    /// The cluster's topics (internal `__` topics left out) with their partition counts.
    /// Blocks up to `timeout`.
    func topics(timeout: Duration) throws(KafkaError) -> [KafkaTopicDescription] {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(clamping: timeout.milliseconds))
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
        guard let topics else { return [] }
        return (0..<count).map { index in
            let result = topics[index]
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
}
