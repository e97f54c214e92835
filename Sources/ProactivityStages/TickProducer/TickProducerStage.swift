import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ServiceLifecycle
import Tracing

/// Publishes the ticks of every enabled job on its schedule (the first at start-up).
///
/// Missed slots coalesce into one tick (see ``TickPlanner``). When the broker does not
/// take a tick, the stage keeps running, reports `tick.publish` as not ready (also
/// while a publish has waited longer than `pendingLimit`), and retries after
/// `retryDelay`; slots that pass meanwhile coalesce into the next tick.
///
/// The stage runs its producer (a service) as its child, so both hear a graceful shutdown
/// at once: a publish waiting for an unreachable broker would otherwise hold the shutdown
/// up to the message timeout. The producer then gets its
/// ``KafkaProducerConfiguration/shutdownFlushTimeout`` to deliver, then what it holds
/// fails (those slots are not marked published: the next start sends them).
public struct TickProducerStage: Service {
    let jobs: [JobDefinition]
    let topic: String
    let producer: KafkaProducer
    let clock: any EngineClock
    let metrics: EngineMetrics
    let health: HealthState
    let logger: Logger
    let retryDelay: TimeInterval
    /// How long a publish may wait for the broker before readiness says so.
    let pendingLimit: Duration

    public init(
        jobs: [JobDefinition], topic: String, producer: KafkaProducer, clock: any EngineClock,
        metrics: EngineMetrics, health: HealthState, logger: Logger, retryDelay: TimeInterval = 0.5,
        pendingLimit: Duration = .seconds(10)
    ) {
        self.pendingLimit = pendingLimit
        self.jobs = jobs
        self.topic = topic
        self.producer = producer
        self.clock = clock
        self.metrics = metrics
        self.health = health
        self.logger = logger
        self.retryDelay = retryDelay
    }

    public func run() async throws {
        var planner = TickPlanner(jobs: jobs)
        logger.info("tick_producer_started", metadata: ["jobs": .array(jobs.filter(\.enabled).map { .string($0.name) }), "topic": "\(topic)"])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { [producer] in try await producer.run() }
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let now = clock.now()
                let due = planner.dueTicks(at: now)
                let published = due.isEmpty ? [] : await publish(due)
                planner.published(published)
                var wake = planner.nextWake(after: now)
                if published.count < due.count { wake = min(wake, now.addingTimeInterval(retryDelay)) }
                let deadline = wake
                do {
                    try await cancelWhenGracefulShutdown { try await clock.sleep(until: deadline) }
                } catch {
                    break
                }
            }
        }
        logger.info("tick_producer_stopped")
    }

    /// Publishes ticks; returns those of the jobs whose every shard was written. Each
    /// tick starts a trace of its own: its `send` span is the creation context its
    /// record carries.
    private func publish(_ ticks: [TickMessage]) async -> [TickMessage] {
        let spans = ticks.map { _ in PropagatingTracer().startSpan("send \(topic)", context: .topLevel, ofKind: .producer) }
        let messages = zip(ticks, spans).map { tick, span in Self.record(of: tick, topic: topic, context: span.context) }
        let results = await withTaskGroup(of: Void.self) { group in
            group.addTask { [health, pendingLimit] in
                guard (try? await Task.sleep(for: pendingLimit)) != nil else { return }
                health.report(
                    .tickPublish,
                    failing: "ticks of \(Set(ticks.map(\.jobName)).sorted()) waiting for the broker for more than \(pendingLimit)")
            }
            let results = await producer.send(messages)
            group.cancelAll()
            // The group awaits the report, if any: it comes before the outcome's below.
            return results
        }
        var failedJobs = Set<String>()
        for (tick, (result, span)) in zip(ticks, zip(results, spans)) {
            ServiceContext.withValue(span.context) {
                switch result {
                case .success(let report):
                    metrics.tickPublished(tick.jobName, delay: clock.now().timeIntervalSince(tick.slot), missedSlots: tick.coalescedSlots)
                    logger.info(
                        "tick_published",
                        metadata: [
                            "job_name": "\(tick.jobName)", "tick_id": "\(tick.tickId)", "coalesced_slots": .stringConvertible(tick.coalescedSlots),
                            "partition": .stringConvertible(report.partition), "offset": .stringConvertible(report.offset),
                        ])
                case .failure(let error):
                    failedJobs.insert(tick.jobName)
                    logger.error("tick_publish_failed", metadata: ["job_name": "\(tick.jobName)", "tick_id": "\(tick.tickId)", "error": "\(error)"])
                }
            }
            span.end()
        }
        for job in Set(ticks.map(\.jobName)) {
            let count = zip(ticks, results).filter { $0.0.jobName == job }
            let failed = count.filter { if case .failure = $0.1 { true } else { false } }.count
            metrics.ticksPublished(job, count: count.count - failed, failed: failed)
        }
        health.report(.tickPublish, failing: failedJobs.isEmpty ? nil : "ticks could not be published: \(failedJobs.sorted())")
        metrics.dependency("kafka", up: failedJobs.isEmpty)
        return ticks.filter { !failedJobs.contains($0.jobName) }
    }
}

extension TickProducerStage {
    /// The record of a tick on the ticks topic: keyed by ``TickMessage/partitionKey`` (the
    /// ticks of one job shard stay in order on one partition), with its id, job and schema
    /// version as headers, and always a W3C `traceparent` (and `tracestate` when the
    /// context has one): `context`'s span when it has a trace (the caller's `send` span,
    /// the tick's creation context), otherwise a new trace started here.
    public static func record(of tick: TickMessage, topic: String, context: ServiceContext = .current ?? .topLevel) -> KafkaProducerMessage {
        var headers = [
            KafkaHeader(name: "tick-id", string: tick.tickId),
            KafkaHeader(name: "job-name", string: tick.jobName),
            KafkaHeader(name: "schema-version", string: String(tick.schemaVersion)),
        ]
        let tracer = PropagatingTracer()
        let creation = context.traceContext == nil ? tracer.startSpan("send \(topic)", context: context, ofKind: .producer).context : context
        tracer.inject(creation, into: &headers, using: KafkaHeadersInjector())
        return KafkaProducerMessage(topic: topic, key: Array(tick.partitionKey.utf8), value: MessageCoding.encode(tick), headers: headers)
    }
}
