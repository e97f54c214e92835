/// A message to produce.
public struct KafkaProducerMessage: Sendable {
    /// The topic.
    public var topic: String
    /// The partition; `nil` lets the partitioner choose from the key.
    public var partition: Int32?
    /// The key; messages with the same key go to the same partition, in order.
    public var key: [UInt8]?
    /// The value; `nil` is a tombstone.
    public var value: [UInt8]?
    /// The headers.
    public var headers: [KafkaHeader]
    /// The record timestamp in milliseconds since 1970; `nil` means now.
    public var timestampMilliseconds: Int64?

    /// Creates a message with byte key and value.
    public init(
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// Creates a message with UTF-8 text key and value.
    public init(topic: String, key: String?, value: String, headers: [KafkaHeader] = []) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers)
    }
}

/// Where a produced message was written.
public struct KafkaDeliveryReport: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The message's offset in the partition.
    public var offset: Int64
}
