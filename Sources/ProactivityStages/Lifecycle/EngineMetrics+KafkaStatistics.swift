import Kafka
import Observability

extension EngineMetrics {
    /// Records what librdkafka statistics say of the metrics: a consumer's lag per partition.
    public func record(_ statistics: KafkaStatistics) {
        guard statistics.clientType == "consumer" else { return }
        recordConsumerLag(
            client: statistics.clientName,
            statistics.partitions.compactMap { partition in
                partition.consumerLag.map { PartitionLag(topic: partition.topic, partition: partition.partition, lag: $0) }
            })
    }
}
