/// A message read by a consumer.
public struct KafkaConsumerMessage: Sendable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset in the partition.
    public var offset: Int64
    /// The key, if the message has one.
    public var key: [UInt8]?
    /// The value (`nil` for a tombstone).
    public var value: [UInt8]?
    /// The headers, in record order.
    public var headers: [KafkaHeader]
    /// The record timestamp in milliseconds since 1970, if the record has one.
    public var timestampMilliseconds: Int64?

    /// The partition of this message.
    public var topicPartition: KafkaTopicPartition { KafkaTopicPartition(topic: topic, partition: partition) }

    /// The position after this message: what a commit stores once it is processed.
    public var nextOffset: KafkaTopicPartitionOffset {
        KafkaTopicPartitionOffset(topic: topic, partition: partition, offset: offset + 1)
    }

    /// The key as UTF-8 text.
    public var keyString: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    /// The value as UTF-8 text.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}
