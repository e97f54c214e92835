import Kafka
import Logging

extension KafkaConsumer {
    /// Closes the consumer at the end of a stage's graceful shutdown: commits and leaves
    /// the group, waiting at most `timeout` (well inside the shutdown limit). Offsets of
    /// finished messages are committed when the partitions are revoked, first thing in
    /// the close, so a broker slow to acknowledge the leave costs nothing but a
    /// rebalance after the session timeout; that is logged, not thrown.
    func leaveGroup(timeout: Duration = .seconds(10), logger: Logger) async {
        do {
            try await close(timeout: timeout)
        } catch {
            logger.warning("kafka_consumer_close_incomplete", metadata: ["error": "\(error)"])
        }
    }
}
