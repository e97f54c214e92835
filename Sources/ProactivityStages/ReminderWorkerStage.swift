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
    /// Attempts for a tick whose failure is transient while its dependencies answer.
    let retryAttempts: Int
    /// Why the database does not answer a quick check, or `nil` when it does.
    let databaseProbe: @Sendable () async -> String?
    let breaker: CircuitBreaker
    let shutdown: ShutdownReport
    /// Alerts per producer batch.
    let batchSize = 10_000

    public init(
        catalog: JobCatalog, ticksTopic: String, alertsTopic: String, consumer: KafkaConsumer, producer: KafkaProducer,
        store: ReminderStore, events: JobEventStore, deadLetters: DeadLetterPublisher, retryAttempts: Int = 5,
        shutdown: ShutdownReport = ShutdownReport(), databaseProbe: @escaping @Sendable () async -> String?,
        clock: any EngineClock, metrics: EngineMetrics, health: HealthState, logger: Logger
    ) {
        self.catalog = catalog
        self.ticksTopic = ticksTopic
        self.alertsTopic = alertsTopic
        self.consumer = consumer
        self.producer = producer
        self.store = store
        self.events = events
        self.deadLetters = deadLetters
        self.retryAttempts = retryAttempts
        self.databaseProbe = databaseProbe
        self.shutdown = shutdown
        self.breaker = CircuitBreaker(metrics: metrics, health: health, logger: logger)
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
        await consumer.leaveGroup(logger: logger)
        try await producer.close(timeout: .seconds(10))
        logger.info("worker_stopped")
    }

    /// Runs one tick to its end: success, skipped (duplicate), or sent to the DLQ.
    ///
    /// Permanent failures (undecodable, unknown schema version or job, failing SQL, an
    /// alert too large) go to the DLQ at once. Transient ones (a deadlock, a statement
    /// timeout) are retried with backoff up to `retryAttempts`, then go to the DLQ as
    /// `transient`. An unreachable database or broker opens the circuit breaker: the
    /// tick is retried until the dependency answers, so consumption pauses rather than
    /// filling the DLQ, and nothing is skipped.
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
        var transientAttempts = 0
        var backoff = Backoff()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let startedAt = clock.now()
            let started = ContinuousClock.now
            attempts += 1
            let failure: TickFailure
            do {
                try await run(tick, job: job, startedAt: startedAt)
                breaker.reset()
                return true
            } catch let error as TickFailure {
                failure = error
            } catch {
                failure = TickFailure(dependency: "worker", message: "\(error)", kind: .transient)
            }
            firstFailure = firstFailure ?? startedAt
            switch failure.kind {
            case .unavailable:
                // Wait for the dependency without spending the budget.
                breaker.trip(failure.dependency, reason: failure.message)
            case .transient where transientAttempts + 1 < retryAttempts:
                transientAttempts += 1
            case .transient, .permanent:
                breaker.reset()
                let failureClass = if case .permanent(let failureClass) = failure.kind { failureClass } else { FailureClass.transient }
                return await deadLetter(
                    message, tick: tick, job: job, failure: failureClass, reason: failure.message, attempts: attempts,
                    firstFailure: firstFailure ?? startedAt, startedAt: startedAt, duration: ContinuousClock.now - started)
            }
            metrics.retried(stage: "worker")
            let delay = backoff.next()
            logger.warning(
                "worker_job_retrying",
                metadata: [
                    "job_name": "\(job.name)", "tick_id": "\(tick.tickId)", "error": "\(failure.message)", "attempt": "\(attempts)",
                    "retry_in_seconds": "\(delay)",
                ])
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(delay)) }
        }
        logger.warning("worker_tick_abandoned", metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)"])
        shutdown.abandoned("tick \(tick.tickId) (partition \(message.partition), offset \(message.offset)): not committed, its next owner runs it")
        return false
    }

    /// Records a failed execution and sends the tick to the DLQ.
    private func deadLetter(
        _ message: KafkaConsumerMessage, tick: TickMessage, job: JobDefinition, failure: FailureClass, reason: String, attempts: Int,
        firstFailure: Date, startedAt: Date, duration: Duration
    ) async -> Bool {
        metrics.jobFinished(job.name, status: "failure", duration: duration)
        logger.error(
            "worker_job_failed",
            metadata: [
                "job_name": "\(job.name)", "severity": "\(job.severity)", "tick_id": "\(tick.tickId)", "error_class": "\(failure.rawValue)",
                "error": "\(reason)", "attempts": "\(attempts)",
            ])
        let correlationId = DeadLetter.correlationId(topic: message.topic, partition: message.partition, offset: message.offset)
        let execution = JobExecution(
            jobName: job.name, status: .failure, scheduledAt: tick.slot, startedAt: startedAt, finishedAt: clock.now(),
            payload: ["tick_id": .string(tick.tickId), "error_class": .string(failure.rawValue)], errorMessage: reason,
            tickId: tick.tickId, correlationId: correlationId)
        try? await events.record(execution)
        return await deadLetters.publish(
            message, jobName: job.name, severity: job.severity, failure: failure, reason: reason, attempts: attempts,
            firstFailure: firstFailure)
    }

    private func run(_ tick: TickMessage, job: JobDefinition, startedAt: Date) async throws {
        let started = ContinuousClock.now
        if try await database({ try await store.isCompleted(tickId: tick.tickId) }) {
            metrics.tickSkipped(job.name, reason: "duplicate")
            logger.info("worker_tick_duplicate", metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)"])
            return
        }
        let queryStarted = ContinuousClock.now
        let items = try await database({ try await store.dueItems(job: job, tick: tick) }, jobSQL: true)
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
                    throw TickFailure(dependency: "kafka", message: "alert \(alert.alertId) not delivered: \(error)", kind: .of(error))
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

    /// Runs a database call, classifying its failure: an unreachable database opens the
    /// circuit; with `jobSQL`, a statement error is the job's SQL failing (permanent).
    /// A call that hangs because the server is down (the pool waits for a connection)
    /// trips the breaker while it waits, and goes on once the server is back.
    private func database<T>(_ body: () async throws -> T, jobSQL: Bool = false) async throws -> T {
        let watchdog = Task { [breaker, databaseProbe] in
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(5))
                if let reason = await databaseProbe() { breaker.trip("database", reason: reason) }
            }
        }
        defer { watchdog.cancel() }
        do {
            return try await body()
        } catch {
            let kind: TickFailure.Kind =
                if DatabaseError.isUnavailable(error) { .unavailable }
                else if jobSQL && !DatabaseError.isTransient(error) { .permanent(.jobSQL) }
                else { .transient }
            throw TickFailure(dependency: "database", message: DatabaseError.describe(error), kind: kind)
        }
    }
}
