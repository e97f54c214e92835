import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ProactivityStore
import ServiceLifecycle

/// A member of the worker group: for each tick, runs the job's reminder query and
/// publishes one alert per due item not alerted before, then records the outcome.
///
/// Guarantees: a tick's offset is committed only after its alerts were acknowledged by
/// the broker and its completion was committed in PostgreSQL (at-least-once). A tick
/// completed before (duplicate, redelivery) is skipped; an item already alerted for the
/// same due time is skipped. A worker that dies between publishing and recording makes
/// the next owner publish again, with the same alert ids.
public struct ReminderWorkerStage: Service {
    let catalog: JobCatalog
    let ticksTopic: String
    let alertsTopic: String
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let store: ReminderStore
    let events: JobEventStore
    let deadLetters: DeadLetterPublisher
    let clock: any EngineClock
    let metrics: EngineMetrics
    let health: HealthState
    let logger: Logger
    /// Alerts per producer batch.
    let batchSize = 10_000

    public init(
        catalog: JobCatalog, ticksTopic: String, alertsTopic: String, consumer: KafkaConsumer, producer: KafkaProducer,
        store: ReminderStore, events: JobEventStore, deadLetters: DeadLetterPublisher, clock: any EngineClock,
        metrics: EngineMetrics, health: HealthState, logger: Logger
    ) {
        self.catalog = catalog
        self.ticksTopic = ticksTopic
        self.alertsTopic = alertsTopic
        self.consumer = consumer
        self.producer = producer
        self.store = store
        self.events = events
        self.deadLetters = deadLetters
        self.clock = clock
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        try consumer.subscribe(topics: [ticksTopic])
        logger.info("worker_started", metadata: ["topic": "\(ticksTopic)", "jobs": "\(catalog.enabled.map(\.name))"])
        do {
            for try await message in consumer.messages.cancelOnGracefulShutdown() {
                // A tick abandoned by shutdown stays unmarked: its offset is not committed
                // and the next owner runs it.
                if await handle(message) { consumer.markProcessed(message) }
            }
        } catch {
            logger.critical("worker_consumer_failed", metadata: ["error": "\(error)"])
            try? await consumer.close()
            try? await producer.close(timeout: .seconds(10))
            throw error
        }
        try await consumer.close()
        try await producer.close(timeout: .seconds(10))
        logger.info("worker_stopped")
    }

    /// Runs one tick to its end: success, skipped (duplicate), or sent to the DLQ
    /// (permanent failure: undecodable, unknown schema version or job, failing SQL).
    /// Transient failures (database or broker unavailable) are retried with backoff
    /// until they clear, so consumption pauses rather than filling the DLQ.
    /// - Returns: whether the tick is finished with (`false`: abandoned by shutdown).
    func handle(_ message: KafkaConsumerMessage) async -> Bool {
        let tick: TickMessage
        do {
            tick = try MessageCoding.decode(TickMessage.self, from: message.value ?? [])
        } catch {
            let failure: FailureClass = error.isUnknownVersion ? .unknownSchemaVersion : .undecodable
            return await deadLetters.publish(message, jobName: message.headers.string(named: "job-name"), failure: failure, reason: "\(error)")
        }
        guard let job = catalog.job(named: tick.jobName) else {
            return await deadLetters.publish(
                message, jobName: tick.jobName, failure: .unknownJob, reason: "no job named '\(tick.jobName)' in this worker's catalog")
        }
        var firstFailure: Date?
        var attempts = 0
        var backoff = Backoff()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let startedAt = clock.now()
            let started = ContinuousClock.now
            attempts += 1
            do {
                try await run(tick, job: job, startedAt: startedAt)
                health.report("database", failing: nil)
                return true
            } catch let failure as TickFailure where failure.isTransient {
                firstFailure = firstFailure ?? startedAt
                metrics.retried(stage: "worker")
                health.report(failure.dependency, failing: failure.message)
                let delay = backoff.next()
                logger.warning(
                    "worker_job_retrying",
                    metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)", "error": "\(failure.message)", "retry_in_seconds": "\(delay)"])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(delay)) }
            } catch {
                let reason = (error as? TickFailure)?.message ?? "\(error)"
                metrics.jobFinished(job.name, status: "failure", duration: ContinuousClock.now - started)
                logger.error(
                    "worker_job_failed",
                    metadata: ["job_name": "\(job.name)", "severity": "\(job.severity)", "tick_id": "\(tick.tickId)", "error": "\(reason)"])
                let correlationId = DeadLetter.correlationId(topic: message.topic, partition: message.partition, offset: message.offset)
                let execution = JobExecution(
                    jobName: job.name, status: .failure, scheduledAt: tick.slot, startedAt: startedAt, finishedAt: clock.now(),
                    payload: ["tick_id": .string(tick.tickId)], errorMessage: reason, tickId: tick.tickId, correlationId: correlationId)
                try? await events.record(execution)
                return await deadLetters.publish(
                    message, jobName: job.name, severity: job.severity, failure: .jobSQL, reason: reason, attempts: attempts,
                    firstFailure: firstFailure ?? startedAt)
            }
        }
        logger.warning("worker_tick_abandoned", metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)"])
        return false
    }

    private func run(_ tick: TickMessage, job: JobDefinition, startedAt: Date) async throws {
        let started = ContinuousClock.now
        if try await database({ try await store.isCompleted(tickId: tick.tickId) }) {
            metrics.tickSkipped(job.name, reason: "duplicate")
            logger.info("worker_tick_duplicate", metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)"])
            return
        }
        let queryStarted = ContinuousClock.now
        let items = try await database({ try await store.dueItems(job: job, tick: tick) }, permanentIsSQL: true)
        metrics.queryFinished(job.name, duration: ContinuousClock.now - queryStarted)
        let fresh = try await database { try await store.unalerted(items, job: job.name) }
        let createdAt = clock.now()
        let alerts = fresh
            .sorted { ($0.userId, $0.dueAt, $0.itemId) < ($1.userId, $1.dueAt, $1.itemId) }
            .map { AlertMessage(item: $0, job: job, tick: tick, createdAt: createdAt) }
        try await publish(alerts)
        let execution = JobExecution(
            jobName: job.name, status: .success, scheduledAt: tick.slot, startedAt: startedAt, finishedAt: clock.now(),
            payload: [
                "tick_id": .string(tick.tickId), "due": .number(Double(items.count)), "alerted": .number(Double(alerts.count)),
                "already_alerted": .number(Double(items.count - alerts.count)),
                "late": .number(Double(alerts.filter(\.late).count)), "shard": .number(Double(tick.shard)),
                "window_start": .string(MessageCoding.timestamp(tick.windowStart)),
                "window_end": .string(MessageCoding.timestamp(tick.windowEnd)),
            ],
            tickId: tick.tickId)
        try await database { try await store.complete(.init(tick: tick, alerts: alerts, execution: execution)) }
        let duration = ContinuousClock.now - started
        metrics.jobFinished(job.name, status: "success", duration: duration, at: clock.now())
        metrics.alertsPublished(job.name, count: alerts.count)
        logger.info("worker_job_event", metadata: ["job_name": "\(job.name)", "status": "success", "tick_id": "\(tick.tickId)"])
        logger.info(
            "worker_job_succeeded",
            metadata: [
                "job_name": "\(job.name)", "severity": "\(job.severity)", "tick_id": "\(tick.tickId)",
                "alerts": "\(alerts.count)", "due": "\(items.count)", "runtime_seconds": "\(duration)",
            ])
    }

    /// Publishes alerts in batches; any failed delivery fails the tick (it is retried
    /// whole: alerts already delivered are sent again with the same ids).
    private func publish(_ alerts: [AlertMessage]) async throws {
        for start in stride(from: 0, to: alerts.count, by: batchSize) {
            let batch = alerts[start..<min(start + batchSize, alerts.count)]
            let results = await producer.send(batch.map(Self.message(topic: alertsTopic)))
            for (alert, result) in zip(batch, results) {
                switch result {
                case .success:
                    logger.debug(
                        "worker_alert_dispatched",
                        metadata: ["job_name": "\(alert.jobName)", "severity": "\(alert.severity)", "alert_id": "\(alert.alertId)"])
                case .failure(let error):
                    throw TickFailure(dependency: "kafka", message: "alert \(alert.alertId) not delivered: \(error)", isTransient: error.isRetriable)
                }
            }
            health.report("kafka", failing: nil)
        }
        if let first = alerts.first {
            logger.info(
                "worker_alert_dispatched",
                metadata: ["job_name": "\(first.jobName)", "severity": "\(first.severity)", "alerts": "\(alerts.count)", "tick_id": "\(first.tickId)"])
        }
    }

    /// The Kafka record of an alert: keyed by user (per-user order), id in a header.
    static func message(topic: String) -> (AlertMessage) -> KafkaProducerMessage {
        { alert in
            KafkaProducerMessage(
                topic: topic, key: Array(alert.userId.utf8), value: MessageCoding.encode(alert),
                headers: [
                    KafkaHeader(name: "alert-id", string: alert.alertId),
                    KafkaHeader(name: "job-name", string: alert.jobName),
                    KafkaHeader(name: "schema-version", string: String(alert.schemaVersion)),
                    KafkaHeader(name: "content-type", string: "application/json"),
                ])
        }
    }

    /// Runs a database call, classifying its failure.
    private func database<T>(_ body: () async throws -> T, permanentIsSQL: Bool = false) async throws -> T {
        do {
            return try await body()
        } catch {
            throw TickFailure(
                dependency: "database", message: DatabaseError.describe(error),
                isTransient: DatabaseError.isTransient(error) || !permanentIsSQL && !(error is TickFailure))
        }
    }
}

/// Why a tick did not complete, and whether waiting can fix it.
struct TickFailure: Error {
    let dependency: String
    let message: String
    let isTransient: Bool
}

/// Exponential backoff with jitter: 0.5 s doubling up to 30 s.
struct Backoff {
    private var attempt = 0

    mutating func next() -> Double {
        defer { attempt += 1 }
        let base = min(30, 0.5 * pow(2, Double(attempt)))
        return base * Double.random(in: 0.5...1)
    }
}
