import CRdKafka
import Foundation

// A consumer's calls on its handle. Blocking ones (commit, committed offsets,
// watermarks, polls, close) are run off the cooperative pool by `KafkaConsumer`.

/// A rebalance as the consumer's bookkeeping sees it, before librdkafka applies it.
struct RDKafkaRebalance {
    enum Kind {
        case assign
        /// `lost`: another member may own the partitions already (no commit).
        case revoke(lost: Bool)
        /// The rebalance failed; the consumer gives everything up.
        case failed(KafkaError)
    }

    let kind: Kind
    let partitions: [KafkaTopicPartition]
}

extension RDKafkaClient {
    /// The events a consumer's queues carry besides messages, logs, errors and statistics.
    static let consumerEvents = RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_OFFSET_COMMIT

    func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = RDKafkaTopicPartitionList.make(subscribing: topics)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "cannot subscribe to \(topics.joined(separator: ", "))")
        }
    }

    func unsubscribe() throws(KafkaError) {
        let err = rd_kafka_unsubscribe(handle)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "cannot unsubscribe") }
    }

    /// Hands commit points to librdkafka in one call; the first refusal, if any (a
    /// partition revoked meanwhile refuses its offset).
    func storeOffsets(_ offsets: [KafkaTopicPartitionOffset]) -> KafkaError? {
        let list = RDKafkaTopicPartitionList.make(offsets)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_offsets_store(handle, list)
        return err != RD_KAFKA_RESP_ERR_NO_ERROR ? KafkaError(err) : RDKafkaTopicPartitionList.firstError(of: list)
    }

    /// Commits the stored offsets and waits for the broker; nothing to commit is no error. Blocks.
    func commitStoredOffsets() throws(KafkaError) {
        let err = rd_kafka_commit(handle, nil, 0)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(err, context: "offset commit failed")
        }
    }

    /// The group's committed positions for these partitions. Blocks up to `timeout`.
    func committedOffsets(_ partitions: [KafkaTopicPartition], timeout: Duration) throws(KafkaError) -> [KafkaTopicPartitionOffset] {
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            let err = rd_kafka_committed(handle, list, Int32(clamping: timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "cannot read committed offsets") }
            if let error = RDKafkaTopicPartitionList.firstError(of: list) { throw error }
            return RDKafkaTopicPartitionList.elements(of: list).map {
                KafkaTopicPartitionOffset(topic: String(cString: $0.topic), partition: $0.partition, offset: $0.offset)
            }
        }
    }

    /// A partition's low and high watermarks. Blocks up to `timeout`.
    func watermarks(of partition: KafkaTopicPartition, timeout: Duration) throws(KafkaError) -> KafkaWatermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, Int32(clamping: timeout.milliseconds))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "cannot read the watermarks of \(partition)") }
        return KafkaWatermarks(low: low, high: high)
    }

    /// Pauses or resumes fetching from partitions.
    func setFetching(_ partitions: [KafkaTopicPartition], _ fetch: Bool) throws(KafkaError) {
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            let err = fetch ? rd_kafka_resume_partitions(handle, list) : rd_kafka_pause_partitions(handle, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, context: fetch ? "cannot resume" : "cannot pause") }
        }
    }

    /// Serves the consumer queue for up to `timeoutMilliseconds`, collecting up to
    /// `maxBatch` messages; returns early once messages arrived and the queue is drained.
    /// Rebalances are applied on the way (``applyRebalance(_:_:)``). Blocks.
    /// - Throws: the client's fatal error.
    func pollMessages(
        timeoutMilliseconds: Int32, maxBatch: Int, rebalance prepare: (RDKafkaRebalance) -> Bool
    ) throws(KafkaError) -> [KafkaConsumerMessage] {
        guard let consumerQueue else { return [] }
        var reader = RDKafkaMessageReader()
        var batch: [KafkaConsumerMessage] = []
        // Wait up to the timeout for a first message, then keep collecting for a short
        // while: handing out large batches keeps thread hops off the per-message cost.
        var until = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        var collecting = false
        while batch.count < maxBatch {
            let now = ContinuousClock.now
            if collecting, now >= until { break }
            let wait = max(0, Int32((until - now).milliseconds))
            guard let event = rd_kafka_queue_poll(consumerQueue, wait) else { break }
            defer { rd_kafka_event_destroy(event) }
            switch rd_kafka_event_type(event) {
            case RD_KAFKA_EVENT_FETCH:
                while let message = rd_kafka_event_message_next(event) {
                    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                        if !collecting {
                            collecting = true
                            until = ContinuousClock.now + .milliseconds(2)
                        }
                        batch.append(reader.read(message))
                    } else {
                        try consumerError(message)
                    }
                }
            case RD_KAFKA_EVENT_REBALANCE:
                applyRebalance(event, prepare)
            case RD_KAFKA_EVENT_OFFSET_COMMIT:
                let err = rd_kafka_event_error(event)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    logger.warning("kafka_offset_commit_failed", metadata: ["error": "\(KafkaError(err))"])
                }
            case RD_KAFKA_EVENT_ERROR where rd_kafka_event_error_is_fatal(event) != 0:
                throw fatalError()
            default:
                handle(event: event)
            }
        }
        return batch
    }

    /// Leaves the group: revokes every partition (rebalances applied as they come) and
    /// waits until librdkafka says the consumer is closed, up to `timeout`. Blocks.
    func closeConsumer(timeout: Duration, rebalance prepare: (RDKafkaRebalance) -> Bool) throws(KafkaError) {
        guard let consumerQueue else { return }
        if let error = rd_kafka_consumer_close_queue(handle, consumerQueue) {
            throw KafkaError(consuming: error, context: "closing the consumer")
        }
        let deadline = ContinuousClock.now + timeout
        while rd_kafka_consumer_closed(handle) == 0 {
            guard ContinuousClock.now < deadline else {
                throw KafkaError(code: .timedOut, message: "the consumer did not leave its group within \(timeout)")
            }
            guard let event = rd_kafka_queue_poll(consumerQueue, 100) else { continue }
            defer { rd_kafka_event_destroy(event) }
            if rd_kafka_event_type(event) == RD_KAFKA_EVENT_REBALANCE { applyRebalance(event, prepare) }
        }
        consumerClosed.store(true, ordering: .releasing)
    }

    /// Applies a rebalance event: `prepare` does the consumer's bookkeeping first (for a
    /// revocation: wait for in-flight messages, commit) and says whether newly assigned
    /// partitions must be paused; then librdkafka takes the new assignment (incrementally
    /// under the cooperative protocol).
    func applyRebalance(_ event: OpaquePointer, _ prepare: (RDKafkaRebalance) -> Bool) {
        guard let list = rd_kafka_event_topic_partition_list(event) else {
            logger.error("kafka_rebalance_failed", metadata: ["error": "a rebalance event without partitions"])
            return
        }
        let partitions = RDKafkaTopicPartitionList.partitions(of: list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let reason = rd_kafka_event_error(event)
        var failure: KafkaError?
        switch reason {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let pause = prepare(RDKafkaRebalance(kind: .assign, partitions: partitions))
            if cooperative {
                failure = rd_kafka_incremental_assign(handle, list).map { KafkaError(consuming: $0) }
            } else {
                let err = rd_kafka_assign(handle, list)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(err) }
            }
            if pause, failure == nil, !partitions.isEmpty {
                do { try setFetching(partitions, false) } catch { failure = error }
            }
            logger.info("kafka_partitions_assigned", metadata: ["partitions": .array(partitions.map { .string("\($0)") })])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(handle) != 0
            _ = prepare(RDKafkaRebalance(kind: .revoke(lost: lost), partitions: partitions))
            if cooperative {
                failure = rd_kafka_incremental_unassign(handle, list).map { KafkaError(consuming: $0) }
            } else {
                let err = rd_kafka_assign(handle, nil)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(err) }
            }
            logger.info("kafka_partitions_revoked", metadata: ["partitions": .array(partitions.map { .string("\($0)") }), "lost": .stringConvertible(lost)])
        default:
            logger.error("kafka_rebalance_failed", metadata: ["error": "\(KafkaError(reason))"])
            _ = prepare(RDKafkaRebalance(kind: .failed(KafkaError(reason)), partitions: partitions))
            _ = rd_kafka_assign(handle, nil)
        }
        if let failure {
            logger.error("kafka_rebalance_apply_failed", metadata: ["error": "\(failure)"])
        }
    }

    private func consumerError(_ message: UnsafePointer<rd_kafka_message_t>) throws(KafkaError) {
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
        if err == RD_KAFKA_RESP_ERR__FATAL { throw fatalError() }
        let text = rd_kafka_message_errstr(message).map { String(cString: $0) } ?? ""
        logger.warning("kafka_consumer_error", metadata: ["error": "\(KafkaError(err, context: text))"])
    }
}
