import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ProactivityStore
import ServiceLifecycle
import Tracing

/// A member of the worker group: for each tick, streams the job's reminder query and
/// publishes one alert per due item not alerted before (``WindowPublisher``), then
/// records the outcome. Ticks on different partitions run concurrently
/// (``PartitionLanes``), those of one partition in order.
///
/// Guarantees: a tick's offset is committed only after its alerts were acknowledged by
/// the broker and its completion was committed in PostgreSQL (at-least-once). A tick
/// completed before (duplicate, redelivery) is skipped; an item already alerted for the
/// same due time is skipped. A worker that dies between publishing a page and recording
/// it makes the next owner publish that page again, with the same alert ids.
///
/// The consumer and the producer are services of their own, listed before this stage in
/// the service group: they end after it, once its ticks are finished or abandoned (the
/// consumer commits and leaves the group, the producer flushes).
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
    /// Readiness fails when ticks are held with no progress (`worker.progress`).
    let progress: ProgressWatch
    let shutdown: ShutdownReport
    /// Rows per page of a tick's window.
    let pageSize: Int
    /// How long the alert ledger remembers (`LEDGER_RETENTION`): a tick whose window
    /// starts earlier is refused (`stale_tick`) unless an operator asked for it.
    let ledgerRetention: TimeInterval
    /// Operators' requests to run such ticks anyway (`proactivity jobs backfill`).
    let backfills: BackfillStore
    /// Holds the stage until the database carries this build's migrations.
    let migrations: MigrationWait

    public init(
        catalog: JobCatalog, ticksTopic: String, alertsTopic: String, consumer: KafkaConsumer, producer: KafkaProducer,
        store: ReminderStore, events: JobEventStore, deadLetters: DeadLetterPublisher, backfills: BackfillStore,
        ledgerRetention: TimeInterval, retryAttempts: Int = 5, pageSize: Int = 2_000, shutdown: ShutdownReport = ShutdownReport(), databaseProbe: @escaping @Sendable () async -> String?,
        migrations: MigrationWait, clock: any EngineClock, metrics: EngineMetrics, health: HealthState, logger: Logger
    ) {
        self.migrations = migrations
        self.catalog = catalog
        self.ticksTopic = ticksTopic
        self.alertsTopic = alertsTopic
        self.consumer = consumer
        self.producer = producer
        self.store = store
        self.events = events
        self.deadLetters = deadLetters
        self.backfills = backfills
        self.ledgerRetention = ledgerRetention
        self.retryAttempts = retryAttempts
        self.pageSize = pageSize
        self.databaseProbe = databaseProbe
        self.shutdown = shutdown
        // While a circuit is open, the consumer fetches nothing more but keeps polling
        // (it stays in the group); the ticks held by the lanes wait for the dependency,
        // which the progress watch does not count as a wedge.
        let progress = ProgressWatch(condition: .workerProgress)
        self.progress = progress
        self.breaker = CircuitBreaker(metrics: metrics, health: health, logger: logger) { [consumer, logger] open in
            progress.waitingForDependency(open)
            do {
                if open { try consumer.hold() } else { try consumer.release() }
            } catch {
                logger.warning("worker_consumption_hold_failed", metadata: ["open": .stringConvertible(open), "error": "\(error)"])
            }
        }
        self.clock = clock
        self.metrics = metrics
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        // Not a tick is consumed on a database without this build's migrations.
        guard await migrations.run() else {
            logger.info("worker_stopped")
            return
        }
        await checkJobs()
        try consumer.subscribe(topics: [ticksTopic])
        logger.info("worker_started", metadata: ["topic": "\(ticksTopic)", "jobs": .array(catalog.enabled.map { .string($0.name) })])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [progress, health] in await progress.run(reportingTo: health) }
            do {
                // A tick abandoned by shutdown stays unmarked: its offset is not committed
                // and the next owner runs it.
                try await PartitionLanes(consumer: consumer, logger: logger).run { message in await handle(message) }
            } catch {
                var metadata: Logger.Metadata = ["error": "\(error)"]
                if (error as? KafkaError)?.code.name == "FENCED_INSTANCE_ID" {
                    metadata["hint"] = "another worker uses the same WORKER_INSTANCE_ID: give each worker its own"
                }
                logger.critical("worker_consumer_failed", metadata: metadata)
                throw error
            }
            group.cancelAll()
        }
        logger.info("worker_stopped")
    }

    /// Checks every enabled job's query at start (plan and columns, without running it)
    /// and lists every problem in one log line: a job whose table does not exist yet
    /// still runs, its ticks going to the DLQ as `job_sql` until it is fixed.
    private func checkJobs() async {
        let problems = await retryingUntilShutdown({ try await store.problems(of: catalog.enabled) }) { error, delay in
            logger.warning("worker_job_check_retrying", metadata: ["error": "\(DatabaseError.describe(error))", "retry_in_seconds": .stringConvertible(delay)])
        }
        guard let problems, !problems.isEmpty else { return }
        logger.error("worker_jobs_invalid", metadata: ["problems": .array(problems.map { .string($0) })])
    }

    /// Runs one tick to its end: success, skipped (duplicate), or sent to the DLQ.
    ///
    /// Permanent failures (undecodable, unknown schema version or job, failing SQL, an
    /// alert too large) go to the DLQ at once. Transient ones (a deadlock, a statement
    /// timeout) are retried with backoff up to `retryAttempts`, then go to the DLQ as
    /// `transient`. An unreachable database or broker opens the circuit breaker: the
    /// tick is retried until the dependency answers, so consumption pauses rather than
    /// filling the DLQ, and nothing is skipped.
    ///
    /// The tick's work runs in a span, a child of the record's `traceparent` (a new trace
    /// when it has none, or an invalid one: counted, logged at debug, never a failure):
    /// its log lines carry the span's `trace_id` and `span_id`, and its alerts carry the
    /// span as their `traceparent`.
    /// - Returns: whether the tick is finished with (`false`: abandoned by shutdown).
    func handle(_ message: KafkaConsumerMessage) async -> Bool {
        let tracer = PropagatingTracer()
        var parent = ServiceContext.topLevel
        tracer.extract(message.headers, into: &parent, using: KafkaHeadersExtractor())
        if parent.traceContext == nil, let header = KafkaHeadersExtractor().extract(key: TraceHeaders.traceParent, from: message.headers) {
            metrics.traceContextInvalid(stage: "worker")
            var reason = "not valid"
            if case .failure(let invalid)? = TraceHeaders.parse(traceParent: header, traceState: nil) { reason = invalid.description }
            logger.debug(
                "trace_context_invalid", metadata: ["partition": .stringConvertible(message.partition), "offset": .stringConvertible(message.offset), "reason": "\(reason)"])
        }
        return await tracer.withSpan("process \(ticksTopic)", context: parent, ofKind: .consumer) { _ in await process(message) }
    }

    private func process(_ message: KafkaConsumerMessage) async -> Bool {
        let decoded: TickMessage
        do {
            decoded = try MessageCoding.decode(TickMessage.self, from: message.value ?? [])
        } catch {
            let failure: FailureClass = error.isUnknownVersion ? .unknownSchemaVersion : .undecodable
            return await deadLetters.publish(message, jobName: message.headers.string(named: "job-name"), failure: failure, reason: "\(error)")
        }
        guard let job = catalog.job(named: decoded.jobName) else {
            return await deadLetters.publish(
                message, jobName: String(decoded.jobName.prefix(200)), failure: .unknownJob,
                reason: "no job named '\(decoded.jobName.prefix(200))' in this worker's catalog")
        }
        let tick: TickMessage
        do {
            tick = try decoded.validated(for: job, now: clock.now())
        } catch {
            return await deadLetters.publish(message, jobName: job.name, failure: .invalidTick, reason: error.description)
        }
        let work = shutdown.started(
            "tick \(tick.tickId) (partition \(message.partition), offset \(message.offset)): not committed, its next owner runs it")
        progress.started()
        defer {
            shutdown.finished(work)
            progress.finished()
        }
        var firstFailure: Date?
        var policy = RetryPolicy(transientAttempts: retryAttempts)
        var database = DependencyWait { [databaseProbe] in await databaseProbe() == nil }
        var kafka = DependencyWait { [producer] in await producer.brokerAnswers() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let startedAt = clock.now()
            let started = ContinuousClock.now
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
            let delay: Double
            var waitsForDependency = false
            switch policy.decide(after: failure.kind) {
            case .waitForDependency(let seconds):
                // Wait for the dependency without spending the budget.
                breaker.trip(failure.dependency, reason: failure.message)
                delay = seconds
                waitsForDependency = true
            case .retry(let seconds):
                delay = seconds
            case .deadLetter(let failureClass):
                breaker.reset()
                return await deadLetter(
                    message, tick: tick, job: job, failure: failureClass, reason: failure.message, attempts: policy.attempts,
                    firstFailure: firstFailure ?? startedAt, startedAt: startedAt, duration: ContinuousClock.now - started)
            }
            metrics.retried(stage: "worker")
            logger.warning(
                "worker_job_retrying",
                metadata: [
                    "job_name": "\(job.name)", "tick_id": "\(tick.tickId)", "error": "\(failure.message)", "attempt": .stringConvertible(policy.attempts),
                    "retry_in_seconds": .stringConvertible(delay),
                ])
            if waitsForDependency {
                // Back as soon as the dependency answers again, not at the end of the backoff.
                if failure.dependency == "kafka" { await kafka.wait(upTo: delay) } else { await database.wait(upTo: delay) }
            } else {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(delay)) }
            }
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
                "error": "\(reason)", "attempts": .stringConvertible(attempts),
            ])
        let correlationId = DeadLetter.correlationId(topic: message.topic, partition: message.partition, offset: message.offset)
        let execution = JobExecution(
            jobName: job.name, status: .failure, scheduledAt: tick.slot, startedAt: startedAt, finishedAt: clock.now(),
            payload: ["tick_id": .string(tick.tickId), "error_class": .string(failure.rawValue)].withTraceID(), errorMessage: reason,
            tickId: tick.tickId, correlationId: correlationId, definition: job)
        try? await events.record(execution)
        return await deadLetters.publish(
            message, jobName: job.name, severity: job.severity, failure: failure, reason: reason, attempts: attempts,
            firstFailure: firstFailure)
    }

    private func run(_ tick: TickMessage, job: JobDefinition, startedAt: Date) async throws {
        let started = ContinuousClock.now
        let database = DatabaseCalls(breaker: breaker, probe: databaseProbe)
        if try await database.run({ try await store.isCompleted(tickId: tick.tickId) }) {
            metrics.tickSkipped(job.name, reason: "duplicate")
            logger.info("worker_tick_duplicate", metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)"])
            return
        }
        if tick.precedesLedger(now: startedAt, retention: ledgerRetention) {
            guard try await database.run({ try await backfills.isRequested(tickId: tick.tickId) }) else {
                throw TickFailure(
                    dependency: "worker",
                    message:
                        "the window starts at \(Timestamp.format(tick.windowStart)), before what the alert ledger remembers (LEDGER_RETENTION \(DurationText.format(Int(ledgerRetention))): since \(Timestamp.format(startedAt.addingTimeInterval(-ledgerRetention)))); its items may have been alerted and forgotten, so it is not run. To run it anyway: proactivity jobs backfill \(job.name) --slot \(Timestamp.format(tick.slot))\(job.shards > 1 ? " --shard \(tick.shard)" : "") --reason TEXT",
                    kind: .permanent(.staleTick))
            }
            logger.notice("worker_tick_backfill", metadata: ["job_name": "\(job.name)", "tick_id": "\(tick.tickId)"])
        }
        // The alerts' creation context: this tick's span, shared by every alert of the run.
        var trace: [KafkaHeader] = []
        PropagatingTracer().inject(ServiceContext.current ?? .topLevel, into: &trace, using: KafkaHeadersInjector())
        let publisher = WindowPublisher(
            store: store, producer: producer, alertsTopic: alertsTopic, database: database, lead: metrics.alertLead(job.name),
            progress: progress, traceHeaders: trace, pageSize: pageSize)
        let counts = try await publisher.publish(job: job, tick: tick, writer: AlertWriter(job: job, tick: tick, createdAt: clock.now()))
        metrics.queryFinished(job.name, duration: counts.query)
        let execution = JobExecution(
            jobName: job.name, status: .success, scheduledAt: tick.slot, startedAt: startedAt, finishedAt: clock.now(),
            payload: [
                "tick_id": .string(tick.tickId), "due": .number(Double(counts.due)), "alerted": .number(Double(counts.alerted)),
                "already_alerted": .number(Double(counts.due - counts.alerted)),
                "skipped_in_query": .number(Double(counts.skippedInQuery)),
                "late": .number(Double(counts.late)), "shard": .number(Double(tick.shard)),
                "window_start": .string(MessageCoding.timestamp(tick.windowStart)),
                "window_end": .string(MessageCoding.timestamp(tick.windowEnd)),
            ].withTraceID(),
            tickId: tick.tickId, definition: job)
        try await database.run { try await store.complete(tick, alerts: counts.alerted, execution: execution) }
        let duration = ContinuousClock.now - started
        metrics.jobFinished(job.name, status: "success", duration: duration, at: clock.now())
        metrics.alertsPublished(job.name, count: counts.alerted)
        metrics.tickOutcome(job.name, suppressed: counts.due - counts.alerted, late: counts.late)
        if counts.alerted > 0 {
            logger.info(
                "worker_alert_dispatched",
                metadata: ["job_name": "\(job.name)", "severity": "\(job.severity)", "alerts": .stringConvertible(counts.alerted), "tick_id": "\(tick.tickId)"])
        }
        logger.info("worker_job_event", metadata: ["job_name": "\(job.name)", "status": "success", "tick_id": "\(tick.tickId)"])
        logger.info(
            "worker_job_succeeded",
            metadata: [
                "job_name": "\(job.name)", "severity": "\(job.severity)", "tick_id": "\(tick.tickId)",
                "alerts": .stringConvertible(counts.alerted), "due": .stringConvertible(counts.due), "runtime_seconds": .stringConvertible(duration),
            ])
    }
}

extension [String: JSONValue] {
    /// With `trace_id` of the current span, when there is one (the audit row names the
    /// tick's trace for `explain`).
    fileprivate func withTraceID() -> Self {
        guard let trace = ServiceContext.currentTraceID else { return self }
        return merging(["trace_id": .string(trace)]) { $1 }
    }
}
