import Foundation

extension KafkaConsumer {
    /// The consumer's side of a rebalance, before librdkafka applies it (on the poll
    /// thread): records assigned partitions, or revokes after in-flight messages finish.
    /// - Returns: whether newly assigned partitions must be paused (consumption is held).
    func prepare(_ rebalance: RDKafkaRebalance) -> Bool {
        switch rebalance.kind {
        case .assign: return assigned(rebalance.partitions)
        case .revoke(let lost): revoked(rebalance.partitions, lost: lost)
        case .failed: revoked(rebalance.partitions, lost: true)
        }
        return false
    }
}
