import CRdKafka

/// The transactional API, for consume-transform-produce: messages sent and consumer
/// offsets committed in one transaction become visible together, or not at all.
/// Requires ``KafkaProducerConfiguration/transactionalID``.
extension KafkaProducer {
    /// Registers the transactional id with the cluster and fences older producers with
    /// the same id. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall { rd_kafka_init_transactions($0, Int32(clamping: timeout.milliseconds)) }
    }

    /// Starts a transaction; the messages sent until commit or abort belong to it.
    public func beginTransaction() throws(KafkaError) {
        if let error = rd_kafka_begin_transaction(client.handle) { throw KafkaError(consuming: error) }
    }

    /// Adds a consumer's positions to the transaction: they are committed for the
    /// consumer's group when the transaction commits.
    ///
    /// - Parameters:
    ///   - offsets: the next offset to read per partition (``KafkaConsumerMessage/nextOffset``).
    ///   - consumer: the consumer whose group the offsets belong to.
    public func sendOffsetsToTransaction(
        _ offsets: [KafkaTopicPartitionOffset],
        consumer: KafkaConsumer,
        timeout: Duration = .seconds(30)
    ) async throws {
        let consumerClient = consumer.client
        try await transactionCall { producer in
            let list = RDKafkaTopicPartitionList.make(offsets)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let metadata = rd_kafka_consumer_group_metadata(consumerClient.handle)
            defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
            return rd_kafka_send_offsets_to_transaction(producer, list, metadata, Int32(clamping: timeout.milliseconds))
        }
    }

    /// Commits the transaction (flushing its messages first).
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall { rd_kafka_commit_transaction($0, Int32(clamping: timeout.milliseconds)) }
    }

    /// Aborts the transaction: its messages are never visible to `read_committed` consumers.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        try await transactionCall { rd_kafka_abort_transaction($0, Int32(clamping: timeout.milliseconds)) }
    }

    /// Runs a blocking transactional call and throws its error, if any.
    private func transactionCall(_ call: @escaping @Sendable (OpaquePointer) -> OpaquePointer?) async throws {
        let client = self.client
        try await runBlocking {
            if let error = call(client.handle) { throw KafkaError(consuming: error) }
        }
    }
}
