/// A librdkafka statistics report (`statistics.interval.ms`), reduced to what the
/// application exports: per-partition consumer lag and offsets, and the queue depth.
/// The full JSON document is kept in ``json`` for anything else.
public struct KafkaStatistics: Sendable {
    /// One partition's figures.
    public struct Partition: Sendable, Hashable {
        /// The topic.
        public var topic: String
        /// The partition number.
        public var partition: Int32
        /// Messages between the committed offset and the high watermark (`consumer_lag`);
        /// `nil` when librdkafka does not know it yet (it reports -1).
        public var consumerLag: Int64?
        /// The last committed offset, if known.
        public var committedOffset: Int64?
        /// The partition's high watermark, if known.
        public var highWatermark: Int64?
    }

    /// The client's handle name (`name`).
    public var clientName: String
    /// `producer` or `consumer`.
    public var clientType: String
    /// Messages waiting in the producer's queues (`msg_cnt`).
    public var queuedMessages: Int64
    /// Partitions this client fetches or produces to, with known figures.
    public var partitions: [Partition]
    /// The raw statistics document.
    public var json: String

    /// Decodes a statistics document; `nil` when it is not librdkafka's format.
    public init?(json: String) {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(json.utf8)) else { return nil }
        self.clientName = document.name
        self.clientType = document.type
        self.queuedMessages = document.msg_cnt ?? 0
        self.json = json
        var partitions: [Partition] = []
        for (topicName, topic) in document.topics ?? [:] {
            for partition in (topic.partitions ?? [:]).values where partition.partition >= 0 {
                partitions.append(
                    Partition(
                        topic: topicName,
                        partition: partition.partition,
                        consumerLag: partition.consumer_lag.flatMap { $0 >= 0 ? $0 : nil },
                        committedOffset: partition.committed_offset.flatMap { $0 >= 0 ? $0 : nil },
                        highWatermark: partition.hi_offset.flatMap { $0 >= 0 ? $0 : nil }
                    )
                )
            }
        }
        self.partitions = partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    // The subset of librdkafka's STATISTICS.md schema we read; names are librdkafka's.
    private struct Document: Decodable {
        var name: String
        var type: String
        var msg_cnt: Int64?
        var topics: [String: Topic]?
    }

    private struct Topic: Decodable {
        var partitions: [String: PartitionDocument]?
    }

    private struct PartitionDocument: Decodable {
        var partition: Int32
        var consumer_lag: Int64?
        var committed_offset: Int64?
        var hi_offset: Int64?
    }
}

import struct Foundation.Data
import class Foundation.JSONDecoder
