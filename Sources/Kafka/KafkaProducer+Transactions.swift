/// The transactional API, for consume-transform-produce: messages sent and consumer
/// offsets committed in one transaction become visible together, or not at all.
/// Requires ``KafkaProducerConfiguration/transactionalID``.
extension KafkaProducer {
    /// Registers the transactional id with the cluster and fences older producers with
    /// the same id. Call once, before the first transaction.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        try await runBlocking { try client.initTransactions(timeout: timeout) }
    }

    /// Starts a transaction; the messages sent until commit or abort belong to it.
    public func beginTransaction() throws(KafkaError) {
        try client.beginTransaction()
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
        let (client, consumerClient) = (self.client, consumer.client)
        try await runBlocking { try client.sendOffsetsToTransaction(offsets, of: consumerClient, timeout: timeout) }
    }

    /// Commits the transaction (flushing its messages first).
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        try await runBlocking { try client.commitTransaction(timeout: timeout) }
    }

    /// Aborts the transaction: its messages are never visible to `read_committed` consumers.
    public func abortTransaction(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        try await runBlocking { try client.abortTransaction(timeout: timeout) }
    }
}
