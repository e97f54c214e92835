import CRdKafka

/// Conversions between `rd_kafka_topic_partition_list_t` and our value types.
enum RDKafkaTopicPartitionList {
    typealias Pointer = UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    /// A new list holding these positions; the caller destroys it.
    static func make(_ offsets: [KafkaTopicPartitionOffset]) -> Pointer {
        // librdkafka allocates with its own allocator, which aborts rather than return NULL.
        let list: Pointer = rd_kafka_topic_partition_list_new(Int32(offsets.count))
        for position in offsets {
            let element: UnsafeMutablePointer<rd_kafka_topic_partition_t> = rd_kafka_topic_partition_list_add(
                list, position.topicPartition.topic, position.topicPartition.partition)
            element.pointee.offset = position.offset
        }
        return list
    }

    /// A new list holding these partitions (offsets unset); the caller destroys it.
    static func make(_ partitions: [KafkaTopicPartition]) -> Pointer {
        let list: Pointer = rd_kafka_topic_partition_list_new(Int32(partitions.count))
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)
        }
        return list
    }

    /// A new list of whole topics, for a subscription; the caller destroys it.
    static func make(subscribing topics: [String]) -> Pointer {
        let list: Pointer = rd_kafka_topic_partition_list_new(Int32(topics.count))
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        return list
    }

    /// Runs `body` with a temporary list of these partitions.
    static func with<T>(_ partitions: [KafkaTopicPartition], _ body: (Pointer) throws(KafkaError) -> T) throws(KafkaError) -> T {
        let list = make(partitions)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return try body(list)
    }

    /// The elements of a list.
    static func elements(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> UnsafeBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    /// The partitions of a list.
    static func partitions(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [KafkaTopicPartition] {
        elements(of: list).map { KafkaTopicPartition(topic: String(cString: $0.topic), partition: $0.partition) }
    }

    /// The first per-partition error of a list, if any.
    static func firstError(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> KafkaError? {
        for element in elements(of: list) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(element.err, context: "\(String(cString: element.topic))[\(element.partition)]")
        }
        return nil
    }
}
