import CRdKafka
import Foundation

extension KafkaConsumer {
    /// Applies a rebalance event: assigns, or revokes after in-flight messages finish.
    /// Runs on the poll queue.
    func rebalance(_ event: OpaquePointer) {
        let list = rd_kafka_event_topic_partition_list(event)!
        let partitions = RDKafkaTopicPartitionList.partitions(of: list)
        let cooperative = String(cString: rd_kafka_rebalance_protocol(client.handle)) == "COOPERATIVE"
        let reason = rd_kafka_event_error(event)
        var failure: KafkaError?
        switch reason {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let held = assigned(partitions)
            if cooperative {
                failure = rd_kafka_incremental_assign(client.handle, list).map { KafkaError(consuming: $0) }
            } else {
                let err = rd_kafka_assign(client.handle, list)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(err) }
            }
            if held, failure == nil {
                do { try setFetching(partitions, false) } catch { failure = error }
            }
            client.logger.info("kafka_partitions_assigned", metadata: ["partitions": "\(partitions)"])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(client.handle) != 0
            revoked(partitions, lost: lost)
            if cooperative {
                failure = rd_kafka_incremental_unassign(client.handle, list).map { KafkaError(consuming: $0) }
            } else {
                let err = rd_kafka_assign(client.handle, nil)
                if err != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(err) }
            }
            client.logger.info("kafka_partitions_revoked", metadata: ["partitions": "\(partitions)", "lost": "\(lost)"])
        default:
            client.logger.error("kafka_rebalance_failed", metadata: ["error": "\(KafkaError(reason))"])
            revoked(partitions, lost: true)
            _ = rd_kafka_assign(client.handle, nil)
        }
        if let failure {
            client.logger.error("kafka_rebalance_apply_failed", metadata: ["error": "\(failure)"])
        }
    }
}
