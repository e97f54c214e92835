import CRdKafka

// A producer's calls on its handle: producing (the hot path, called once per message),
// flushing and the transactional API. Flushes and transactional calls block; the
// producer runs them off the cooperative pool.

extension RDKafkaClient {
    /// Hands message `index` of `messages` to librdkafka, read in place (a copy of the
    /// message would retain and release each of its arrays and its topic).
    /// - Returns: `nil` when it took the message, else librdkafka's code
    ///   (``KafkaError/Code/queueFull``: wait for room and try again).
    func produce(_ messages: [KafkaProducerMessage], at index: Int, topic: OpaquePointer, opaque: UnsafeMutableRawPointer) -> KafkaError.Code? {
        let err = messages.withUnsafeBufferPointer { messages in
            let headers = Self.headers(messages[index].headers)
            let err = withBytes(messages[index].key) { key in
                withBytes(messages[index].value) { value in
                    crdkafka_produce(
                        handle, topic, messages[index].partition ?? RD_KAFKA_PARTITION_UA, key.baseAddress, key.count, value.baseAddress,
                        value.count, messages[index].timestampMilliseconds ?? 0, headers, opaque)
                }
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
            return err
        }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(err)
    }

    /// Hands record `index` of a batch to librdkafka, straight from the batch's buffer
    /// (librdkafka copies key and value once); the partitioner picks the partition.
    /// - Returns: as ``produce(_:at:topic:opaque:)``.
    func produce(record index: Int, of batch: KafkaProducerBatch, topic: OpaquePointer, opaque: UnsafeMutableRawPointer) -> KafkaError.Code? {
        let record = batch.records[index]
        let err = batch.bytes.withUnsafeBytes { bytes in
            // No base address only for an empty buffer, whose ranges are all empty.
            func start(_ range: Range<Int>) -> UnsafeRawPointer? { bytes.baseAddress.map { $0 + range.lowerBound } }
            let headers = Self.headers(
                batch.commonHeaders,
                first: (batch.headerName, UnsafeRawBufferPointer(start: start(record.header), count: record.header.count)))
            let err = crdkafka_produce(
                handle, topic, RD_KAFKA_PARTITION_UA, start(record.key), record.key.count, start(record.value), record.value.count, 0,
                headers, opaque)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
            return err
        }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.Code(err)
    }

    /// A header list for librdkafka (which takes ownership when the message is taken):
    /// `first` (a batch record's own header, its value in the batch's buffer), then
    /// `headers`; `nil` when there is none.
    private static func headers(_ headers: [KafkaHeader], first: (name: String, value: UnsafeRawBufferPointer)? = nil) -> OpaquePointer? {
        let count = headers.count + (first == nil ? 0 : 1)
        guard count > 0 else { return nil }
        // librdkafka allocates with its own allocator, which aborts rather than return NULL.
        let list: OpaquePointer = rd_kafka_headers_new(count)
        if let first { add(to: list, name: first.name, value: first.value) }
        for header in headers {
            withBytes(header.value) { value in add(to: list, name: header.name, value: value) }
        }
        return list
    }

    /// Adds a header (a `nil` value base: a null value) to `list`, its name handed over with
    /// its length. Handed over as a C string instead, a name of up to 15 bytes (stored in
    /// the `String` itself, as header names are) would be copied into a new array on the
    /// heap for each call: 15% of the header work in a `perf` profile of the worker.
    private static func add(to list: OpaquePointer, name: String, value: UnsafeRawBufferPointer) {
        var name = name
        name.withUTF8 { name in
            name.withMemoryRebound(to: CChar.self) { name in
                _ = rd_kafka_header_add(list, name.baseAddress, name.count, value.baseAddress, value.count)
            }
        }
    }

    /// Waits until every queued message is delivered or failed. Blocks up to `timeout`.
    /// - Returns: how many messages are still queued (0: all done).
    func flush(timeout: Duration) -> Int32 {
        rd_kafka_flush(handle, Int32(clamping: timeout.milliseconds)) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : rd_kafka_outq_len(handle)
    }

    // MARK: - Transactions (each blocks up to its timeout)

    func initTransactions(timeout: Duration) throws(KafkaError) {
        try Self.check(rd_kafka_init_transactions(handle, Int32(clamping: timeout.milliseconds)))
    }

    func beginTransaction() throws(KafkaError) {
        try Self.check(rd_kafka_begin_transaction(handle))
    }

    /// Adds `consumer`'s positions to the transaction.
    func sendOffsetsToTransaction(_ offsets: [KafkaTopicPartitionOffset], of consumer: RDKafkaClient, timeout: Duration) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let metadata = rd_kafka_consumer_group_metadata(consumer.handle)
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        try Self.check(rd_kafka_send_offsets_to_transaction(handle, list, metadata, Int32(clamping: timeout.milliseconds)))
    }

    func commitTransaction(timeout: Duration) throws(KafkaError) {
        try Self.check(rd_kafka_commit_transaction(handle, Int32(clamping: timeout.milliseconds)))
    }

    func abortTransaction(timeout: Duration) throws(KafkaError) {
        try Self.check(rd_kafka_abort_transaction(handle, Int32(clamping: timeout.milliseconds)))
    }

    /// Throws (and destroys) an `rd_kafka_error_t`, if any.
    private static func check(_ error: OpaquePointer?) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error) }
    }
}
