import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore

/// Sends messages that cannot be processed to the DLQ topic: the original key, value
/// and headers unchanged (its W3C `traceparent`/`tracestate` too: a DLQ record stays in
/// the original's trace), plus the `dlq.*` context headers and the same context under
/// Kafka Connect's `__connect.errors.*` names (see ``DeadLetter``).
///
/// `publish` returns only once the broker has the record (retrying with backoff), or
/// when the stage shuts down: the caller moves past the failed message only after that.
public struct DeadLetterPublisher: Sendable {
    let producer: KafkaProducer
    let topic: String
    let consumerGroup: String
    let stage: String
    let clock: any EngineClock
    let metrics: EngineMetrics
    let logger: Logger

    public init(
        producer: KafkaProducer, topic: String, consumerGroup: String, stage: String, clock: any EngineClock,
        metrics: EngineMetrics, logger: Logger
    ) {
        self.producer = producer
        self.topic = topic
        self.consumerGroup = consumerGroup
        self.stage = stage
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// Publishes a failed message; `false` when shutdown interrupted the attempts.
    public func publish(
        _ message: KafkaConsumerMessage, jobName: String?, severity: String = "warning", failure: FailureClass, reason: String,
        attempts: Int = 1, firstFailure: Date? = nil
    ) async -> Bool {
        let now = clock.now()
        let letter = DeadLetter(
            originTopic: message.topic, originPartition: message.partition, originOffset: message.offset,
            originTimestamp: message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) },
            consumerGroup: consumerGroup, stage: stage, jobName: jobName, errorClass: failure, errorMessage: reason,
            attempts: attempts, firstFailure: firstFailure ?? now, lastFailure: now,
            correlationId: DeadLetter.correlationId(topic: message.topic, partition: message.partition, offset: message.offset))
        // The original headers stay, except an earlier failure's context (ours and
        // Connect's, so a record that failed again carries one copy); a replay's
        // `dlq.replay.*` headers stay, so the replay count carries over.
        let record = KafkaProducerMessage(
            topic: topic, key: message.key, value: message.value,
            headers: message.headers.filter { !DeadLetter.isReplacedContext($0.name) }
                + letter.headers.map { KafkaHeader(name: $0.name, string: $0.value) })
        let report = await retryingUntilShutdown({ try await producer.send(record) }, answers: { await producer.brokerAnswers() }) {
            error, delay in
            logger.warning("dlq_publish_retrying", metadata: ["error": "\(error)", "retry_in_seconds": .stringConvertible(delay)])
        }
        guard let report else { return false }
        metrics.deadLettered(stage: stage, reason: failure.rawValue)
        logger.error(
            "worker_dlq_enqueued",
            metadata: [
                "job_name": "\(jobName ?? "unknown")", "severity": "\(severity)", "error_class": "\(failure.rawValue)",
                "error": "\(reason)", "correlation_id": "\(letter.correlationId)",
                "dlq_partition": .stringConvertible(report.partition), "dlq_offset": .stringConvertible(report.offset),
            ])
        return true
    }
}

