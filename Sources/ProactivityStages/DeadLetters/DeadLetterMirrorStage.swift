import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ProactivityStore
import ServiceLifecycle

/// Mirrors the DLQ topic into `worker_dlq` (consumer group of its own). A record's
/// offset is committed only after its row is committed; the row's unique key (the DLQ
/// record's topic, partition, offset and content digest) makes redelivery harmless, so
/// a mirror killed at any moment loses nothing and duplicates nothing, and a topic
/// created again (offsets from 0) still gets a row for each new record.
/// `proactivity_dlq_mirror_records_total{outcome}` counts rows written (`mirrored`)
/// and records recognised as redeliveries (`redelivered`). A record that cannot be stored
/// for `stallAfter` (the database refusing it some other way than for its content)
/// makes `/readyz` say where the mirror is stuck, and
/// `proactivity_dlq_mirror_stalled_seconds` count up.
///
/// The consumer is a service of its own, listed before this stage in the service group:
/// it commits and leaves the group once this stage has stopped.
public struct DeadLetterMirrorStage: Service {
    let topic: String
    let consumer: KafkaConsumer
    let store: DeadLetterStore
    let metrics: EngineMetrics
    let health: HealthState
    let shutdown: ShutdownReport
    /// How long a record may fail to be stored before readiness says the mirror is stuck.
    let stallAfter: Duration
    /// Why the database does not answer a quick check, or `nil` when it does: a mirror
    /// waiting for the database retries as soon as it answers again.
    let databaseProbe: @Sendable () async -> String?
    /// Holds the stage until the database carries this build's migrations.
    let migrations: MigrationWait
    let logger: Logger

    public init(
        topic: String, consumer: KafkaConsumer, store: DeadLetterStore, metrics: EngineMetrics, health: HealthState,
        shutdown: ShutdownReport = ShutdownReport(), stallAfter: Duration = .seconds(300),
        databaseProbe: @escaping @Sendable () async -> String? = { nil }, migrations: MigrationWait, logger: Logger
    ) {
        self.migrations = migrations
        self.databaseProbe = databaseProbe
        self.stallAfter = stallAfter
        self.topic = topic
        self.consumer = consumer
        self.store = store
        self.metrics = metrics
        self.health = health
        self.shutdown = shutdown
        self.logger = logger
    }

    public func run() async throws {
        // Not a record is mirrored into a worker_dlq of an older schema.
        guard await migrations.run() else {
            logger.info("dlq_mirror_stopped")
            return
        }
        try consumer.subscribe(topics: [topic])
        logger.info("dlq_mirror_started", metadata: ["topic": "\(topic)"])
        for try await message in consumer.messages.cancelOnGracefulShutdown() {
            if await mirror(message) { consumer.markProcessed(message) }
        }
        logger.info("dlq_mirror_stopped")
    }

    /// Writes one record, retrying while the database is unavailable.
    /// - Returns: `false` when shutdown interrupted the attempts.
    func mirror(_ message: KafkaConsumerMessage) async -> Bool {
        var headerValues: [String: String] = [:]
        for header in message.headers { headerValues[header.name] = header.stringValue }
        let record = DeadLetterStore.Record(
            topic: message.topic, partition: message.partition, offset: message.offset, key: message.key, value: message.value,
            headers: message.headers.map { DeadLetterRow.Header(name: $0.name, value: $0.value.map { Data($0).base64EncodedString() }) },
            timestampMilliseconds: message.timestampMilliseconds, letter: DeadLetter(headers: headerValues))
        let failingSince = ContinuousClock.now
        let inserted = await retryingUntilShutdown({
            let inserted = try await store.mirror(record)
            let backlog = try await store.backlog()
            metrics.dlqBacklog(backlog.unprocessed, parked: backlog.parked)
            return inserted
        }, answers: { [databaseProbe] in await databaseProbe() == nil }) { error, delay in
            metrics.retried(stage: "dlq-mirror")
            health.report(.mirrorDatabase, failing: DatabaseError.describe(error))
            let stalled = ContinuousClock.now - failingSince
            metrics.mirrorStalled(seconds: Double(stalled.components.seconds))
            if stalled >= stallAfter {
                health.report(
                    .mirrorProgress,
                    failing: "stuck at \(message.topic)/\(message.partition)/\(message.offset) for \(stalled.components.seconds) s: \(DatabaseError.describe(error))")
            }
            logger.warning("dlq_mirror_retrying", metadata: ["error": "\(DatabaseError.describe(error))", "retry_in_seconds": .stringConvertible(delay)])
        }
        metrics.mirrorStalled(seconds: 0)
        health.report(.mirrorProgress, failing: nil)
        guard let inserted else {
            shutdown.abandoned("DLQ record \(message.partition)/\(message.offset): not mirrored or committed, mirrored on restart")
            return false
        }
        health.report(.mirrorDatabase, failing: nil)
        metrics.mirrored(redelivery: !inserted)
        logger.info(
            inserted ? "dlq_mirrored" : "dlq_already_mirrored",
            metadata: [
                "job_name": "\(record.letter?.jobName ?? "unknown")", "error_class": "\(record.letter?.errorClass.rawValue ?? "unknown")",
                "correlation_id": "\(record.letter?.correlationId ?? "")", "offset": .stringConvertible(message.offset),
            ])
        return true
    }
}
