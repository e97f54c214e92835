import Foundation
import Prometheus
import Synchronization

/// Every metric the engine exports, declared in one place (the registry traps when a
/// name is registered twice with other help text or labels). Stages record through
/// the methods below and never touch Prometheus types.
///
/// The two `sparkone_worker_*` names are kept exactly: existing dashboards read them.
public final class EngineMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let lastSuccess = Mutex<[String: Date]>([:])
    /// The partitions each consumer (by client name) last reported a lag for.
    private let lagSeries = Mutex<[String: Set<LagSeries>]>([:])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    private static var jobCount: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "sparkone_worker_job_count_total", unitName: "", helpText: "Job executions by job and status")
    }
    private static var jobLatency: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "sparkone_worker_job_latency_seconds", unitName: "", helpText: "Job execution time")
    }
    private static var ticksPublished: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_ticks_published_total", unitName: "", helpText: "Ticks published by the tick producer")
    }
    private static var tickPublishFailures: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_tick_publish_failures_total", unitName: "", helpText: "Ticks the producer could not publish")
    }
    private static var ticksSkipped: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_ticks_skipped_total", unitName: "", helpText: "Ticks a worker did not run, by reason")
    }
    private static var alertsPublished: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_alerts_published_total", unitName: "", helpText: "Alerts published to the alerts topic")
    }
    private static var lastSuccessAge: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_job_last_success_age_seconds", unitName: "", helpText: "Seconds since the job last succeeded")
    }
    private static var queryLatency: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_query_latency_seconds", unitName: "", helpText: "Reminder query time")
    }
    private static var consumerLag: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_consumer_lag", unitName: "", helpText: "Messages behind the high watermark, per partition")
    }
    private static var topicPartitions: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_topic_partitions", unitName: "",
            helpText: "Partitions of each topic the process uses, as the broker lists them (0: the topic is missing)")
    }
    private static var consumerPartitions: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_consumer_partitions", unitName: "",
            helpText: "Partitions of a topic assigned to this process's consumer of a stage (0: joining, or an idle member)")
    }
    private static var windowsWaiting: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_worker_windows_waiting", unitName: "",
            helpText: "Ticks waiting for a database connection to read their window (POSTGRES_MAX_CONNECTIONS - 4 read at once)")
    }
    private static var dependencyUp: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_dependency_up", unitName: "", helpText: "1 when a dependency (kafka, database) answers")
    }

    private static var tickDelay: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_tick_delay_seconds", unitName: "", helpText: "From a tick's slot to its publication")
    }
    private static var alertLead: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_alert_lead_seconds", unitName: "",
            helpText: "Notice an alert gave: its due time minus when the broker had it (0 or less: late)")
    }
    private static var missedSlots: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_missed_slots_total", unitName: "", helpText: "Slots coalesced into a later tick (missed runs)")
    }
    private static var duplicatesSuppressed: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_duplicates_suppressed_total", unitName: "",
            helpText: "Due items not alerted again because the ledger had them")
    }
    private static var lateAlerts: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_late_alerts_total", unitName: "", helpText: "Alerts for items due before their tick's slot (catch-up)")
    }
    private static var tableRows: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_ledger_rows", unitName: "", helpText: "Rows of the worker's ledger tables: alerts of the alert ledger, the planner's estimate for the others")
    }
    private static var prunedRows: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_ledger_pruned_rows_total", unitName: "", helpText: "Ledger rows deleted past LEDGER_RETENTION")
    }
    private static let delayBuckets: [Double] = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600]
    private static let leadBuckets: [Double] = [0, 60, 300, 600, 1200, 1800, 2700, 3600, 5400, 7200, 86_400]

    private static var deadLetters: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_dlq_messages_total", unitName: "", helpText: "Messages sent to the DLQ, by stage and reason")
    }
    private static var dlqBacklog: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "proactivity_dlq_backlog", unitName: "", helpText: "Unprocessed rows in worker_dlq")
    }
    private static var dlqParked: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_dlq_parked", unitName: "",
            helpText: "Rows in worker_dlq parked: transient failures that failed again after their last allowed automatic replay")
    }
    private static var replays: MetricNameDescriptor {
        MetricNameDescriptor(metricName: "proactivity_dlq_replays_total", unitName: "", helpText: "DLQ replays by result")
    }
    private static var retries: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_retries_total", unitName: "", helpText: "Transient failures retried in place, by stage")
    }

    private static var mirroredRecords: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_dlq_mirror_records_total", unitName: "",
            helpText: "DLQ records the mirror consumed, by outcome: mirrored (a row written) or redelivered (its row existed)")
    }
    private static var mirrorStalled: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_dlq_mirror_stalled_seconds", unitName: "",
            helpText: "How long the DLQ mirror has been failing to store the record it holds (0 while it moves)")
    }
    private static var circuitBreaker: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_circuit_breaker_open", unitName: "",
            helpText: "1 while a worker waits for an unreachable dependency instead of consuming")
    }

    private static var producerRenewals: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_kafka_producer_renewals_total", unitName: "",
            helpText: "Times a producer replaced its librdkafka client (fatal error, or no delivery while the broker answers)")
    }

    private static var invalidTraceContexts: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "proactivity_trace_context_invalid_total", unitName: "",
            helpText: "Records whose traceparent was not valid W3C trace context (processed in a new trace), by stage")
    }

    private static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// A job execution finished.
    public func jobFinished(_ job: String, status: String, duration: Duration, at now: Date = Date()) {
        registry.makeCounter(descriptor: Self.jobCount, labels: [("job_name", job), ("status", status)]).increment()
        registry.makeDurationHistogram(descriptor: Self.jobLatency, labels: [("job_name", job)], buckets: Self.latencyBuckets)
            .record(duration)
        if status == "success" { lastSuccess.withLock { $0[job] = now } }
    }

    /// A reminder query ran.
    public func queryFinished(_ job: String, duration: Duration) {
        registry.makeDurationHistogram(descriptor: Self.queryLatency, labels: [("job_name", job)], buckets: Self.latencyBuckets)
            .record(duration)
    }

    /// The producer published (or failed to publish) ticks of a job.
    public func ticksPublished(_ job: String, count: Int, failed: Int) {
        if count > 0 { registry.makeCounter(descriptor: Self.ticksPublished, labels: [("job_name", job)]).increment(by: Int64(count)) }
        if failed > 0 {
            registry.makeCounter(descriptor: Self.tickPublishFailures, labels: [("job_name", job)]).increment(by: Int64(failed))
        }
    }

    /// A worker skipped a tick (`duplicate`, `undecodable`, `unknown_job`).
    public func tickSkipped(_ job: String, reason: String) {
        registry.makeCounter(descriptor: Self.ticksSkipped, labels: [("job_name", job), ("reason", reason)]).increment()
    }

    /// Declares the tick producer's series of these jobs at zero.
    public func declareTickProducer(jobs: [String]) {
        for job in jobs {
            _ = registry.makeCounter(descriptor: Self.ticksPublished, labels: [("job_name", job)])
            _ = registry.makeCounter(descriptor: Self.tickPublishFailures, labels: [("job_name", job)])
            _ = registry.makeCounter(descriptor: Self.missedSlots, labels: [("job_name", job)])
            _ = tickDelayHistogram(job)
        }
    }

    /// Declares a worker's series of these jobs at zero.
    public func declareWorker(jobs: [String]) {
        for job in jobs {
            _ = registry.makeCounter(descriptor: Self.ticksSkipped, labels: [("job_name", job), ("reason", "duplicate")])
            _ = registry.makeCounter(descriptor: Self.duplicatesSuppressed, labels: [("job_name", job)])
            _ = registry.makeCounter(descriptor: Self.lateAlerts, labels: [("job_name", job)])
            _ = alertLeadHistogram(job)
        }
        _ = registry.makeCounter(descriptor: Self.invalidTraceContexts, labels: [("stage", "worker")])
        windowsWaiting(0)
    }

    /// How many of the worker's ticks wait for a connection to read their window: more
    /// than a moment says its pool (`POSTGRES_MAX_CONNECTIONS`) is smaller than the ticks
    /// it runs at once.
    public func windowsWaiting(_ count: Int) {
        registry.makeGauge(descriptor: Self.windowsWaiting, labels: []).set(to: Double(count))
    }

    /// A record's `traceparent` was not valid (the record was processed in a new trace).
    public func traceContextInvalid(stage: String) {
        registry.makeCounter(descriptor: Self.invalidTraceContexts, labels: [("stage", stage)]).increment()
    }

    /// Declares the ledger series of these tables at zero.
    public func declareLedger(tables: [String]) {
        for table in tables {
            ledger(table, rows: 0)
            _ = registry.makeCounter(descriptor: Self.prunedRows, labels: [("table", table)])
        }
    }

    /// A ledger table's rows now.
    public func ledger(_ table: String, rows: Int) {
        registry.makeGauge(descriptor: Self.tableRows, labels: [("table", table)]).set(to: Double(rows))
    }

    /// Rows deleted from a ledger table.
    public func ledger(_ table: String, pruned: Int) {
        if pruned > 0 { registry.makeCounter(descriptor: Self.prunedRows, labels: [("table", table)]).increment(by: Int64(pruned)) }
    }

    /// The producer published a tick `delay` after its slot, after `missedSlots` slots
    /// were coalesced into it.
    public func tickPublished(_ job: String, delay: TimeInterval, missedSlots: Int) {
        tickDelayHistogram(job).record(max(0, delay))
        if missedSlots > 0 { registry.makeCounter(descriptor: Self.missedSlots, labels: [("job_name", job)]).increment(by: Int64(missedSlots)) }
    }

    /// A worker finished a tick: `suppressed` due items the ledger had, `late` catch-up alerts.
    public func tickOutcome(_ job: String, suppressed: Int, late: Int) {
        if suppressed > 0 {
            registry.makeCounter(descriptor: Self.duplicatesSuppressed, labels: [("job_name", job)]).increment(by: Int64(suppressed))
        }
        if late > 0 { registry.makeCounter(descriptor: Self.lateAlerts, labels: [("job_name", job)]).increment(by: Int64(late)) }
    }

    /// Records the notice each of a job's alerts gave, without a lookup per alert.
    public struct AlertLead: Sendable {
        fileprivate let histogram: ValueHistogram

        /// One alert's notice: its due time minus when the broker had it, in seconds.
        public func record(_ seconds: Double) { histogram.record(seconds) }
    }

    /// The recorder of a job's alert notice (`proactivity_alert_lead_seconds`).
    public func alertLead(_ job: String) -> AlertLead {
        AlertLead(histogram: alertLeadHistogram(job))
    }

    private func alertLeadHistogram(_ job: String) -> ValueHistogram {
        registry.makeValueHistogram(descriptor: Self.alertLead, labels: [("job_name", job)], buckets: Self.leadBuckets)
    }

    private func tickDelayHistogram(_ job: String) -> ValueHistogram {
        registry.makeValueHistogram(descriptor: Self.tickDelay, labels: [("job_name", job)], buckets: Self.delayBuckets)
    }

    /// Declares a stage's failure-handling series at zero: messages it sent to the DLQ by
    /// reason, its retries, and (for workers) the circuit breaker per dependency.
    public func declareFailureHandling(stage: String, reasons: [String], circuitBreakers: [String] = []) {
        for reason in reasons {
            _ = registry.makeCounter(descriptor: Self.deadLetters, labels: [("stage", stage), ("reason", reason)])
        }
        _ = registry.makeCounter(descriptor: Self.retries, labels: [("stage", stage)])
        for dependency in circuitBreakers { circuitBreaker(dependency, open: false) }
    }

    /// Declares the DLQ mirror's series at zero: the backlog, parked rows and replays by result.
    public func declareDeadLetterMirror() {
        _ = registry.makeGauge(descriptor: Self.dlqBacklog, labels: [])
        _ = registry.makeGauge(descriptor: Self.dlqParked, labels: [])
        mirrorStalled(seconds: 0)
        for outcome in ["mirrored", "redelivered"] {
            _ = registry.makeCounter(descriptor: Self.mirroredRecords, labels: [("outcome", outcome)])
        }
        for result in ["replayed", "skipped", "failed"] {
            _ = registry.makeCounter(descriptor: Self.replays, labels: [("result", result)])
        }
    }

    /// A worker published alerts for a job.
    public func alertsPublished(_ job: String, count: Int) {
        registry.makeCounter(descriptor: Self.alertsPublished, labels: [("job_name", job)]).increment(by: Int64(count))
    }

    /// Declares the series of a job, so they exist (at zero) before it first runs.
    public func declare(jobs: [String]) {
        for job in jobs {
            for status in ["success", "failure"] {
                _ = registry.makeCounter(descriptor: Self.jobCount, labels: [("job_name", job), ("status", status)])
            }
            _ = registry.makeCounter(descriptor: Self.alertsPublished, labels: [("job_name", job)])
        }
    }

    /// One partition's consumer lag, as a consumer's statistics report it.
    public struct PartitionLag: Hashable, Sendable {
        public var topic: String
        public var partition: Int32
        public var lag: Int64

        public init(topic: String, partition: Int32, lag: Int64) {
            self.topic = topic
            self.partition = partition
            self.lag = lag
        }
    }

    /// Consumer lag per partition, from one consumer's statistics (`client`: its name).
    /// The series of a partition the consumer no longer reports (revoked, given to
    /// another member) is removed, so the gauge never shows a stale lag.
    public func recordConsumerLag(client: String, _ lags: [PartitionLag]) {
        var reported = Set<LagSeries>()
        for lag in lags {
            reported.insert(LagSeries(topic: lag.topic, partition: lag.partition))
            lagGauge(lag.topic, lag.partition).set(to: Double(lag.lag))
        }
        let gone = lagSeries.withLock { series in
            defer { series[client] = reported }
            return (series[client] ?? []).subtracting(reported)
        }
        for series in gone { registry.unregisterGauge(lagGauge(series.topic, series.partition)) }
    }

    /// A consumer-lag series: one partition of a topic.
    struct LagSeries: Hashable {
        var topic: String
        var partition: Int32
    }

    private func lagGauge(_ topic: String, _ partition: Int32) -> Gauge {
        registry.makeGauge(descriptor: Self.consumerLag, labels: [("topic", topic), ("partition", String(partition))])
    }

    /// How many partitions the broker lists for a topic the process uses (0: missing).
    /// Summed against ``consumerPartitions(stage:topic:_:)`` over every process, it shows
    /// partitions no member of a group holds (alert `ProactivityPartitionsUnconsumed`).
    public func topicPartitions(_ topic: String, _ count: Int) {
        registry.makeGauge(descriptor: Self.topicPartitions, labels: [("topic", topic)]).set(to: Double(count))
    }

    /// How many partitions of `topic` the consumer of `stage` (`worker`, `dlq-mirror`) holds.
    public func consumerPartitions(stage: String, topic: String, _ count: Int) {
        registry.makeGauge(descriptor: Self.consumerPartitions, labels: [("stage", stage), ("topic", topic)]).set(to: Double(count))
    }

    /// Whether a dependency answers.
    public func dependency(_ name: String, up: Bool) {
        registry.makeGauge(descriptor: Self.dependencyUp, labels: [("dependency", name)]).set(to: up ? 1 : 0)
    }

    /// A message went to the DLQ.
    public func deadLettered(stage: String, reason: String) {
        registry.makeCounter(descriptor: Self.deadLetters, labels: [("stage", stage), ("reason", reason)]).increment()
    }

    /// Unprocessed rows in `worker_dlq`, and how many of them are parked.
    public func dlqBacklog(_ rows: Int, parked: Int) {
        registry.makeGauge(descriptor: Self.dlqBacklog, labels: []).set(to: Double(rows))
        registry.makeGauge(descriptor: Self.dlqParked, labels: []).set(to: Double(parked))
    }

    /// A DLQ row was replayed (`replayed`, `skipped`, `failed`).
    public func replayed(result: String, count: Int = 1) {
        registry.makeCounter(descriptor: Self.replays, labels: [("result", result)]).increment(by: Int64(count))
    }

    /// A transient failure is being retried.
    public func retried(stage: String) {
        registry.makeCounter(descriptor: Self.retries, labels: [("stage", stage)]).increment()
    }

    /// The DLQ mirror consumed a record: wrote its row, or found it (a redelivery).
    public func mirrored(redelivery: Bool) {
        registry.makeCounter(descriptor: Self.mirroredRecords, labels: [("outcome", redelivery ? "redelivered" : "mirrored")]).increment()
    }

    /// How long the DLQ mirror has failed to store its current record (0: it moves).
    public func mirrorStalled(seconds: Double) {
        registry.makeGauge(descriptor: Self.mirrorStalled, labels: []).set(to: seconds)
    }

    /// A worker's circuit breaker for a dependency opened or closed.
    public func circuitBreaker(_ dependency: String, open: Bool) {
        registry.makeGauge(descriptor: Self.circuitBreaker, labels: [("dependency", dependency)]).set(to: open ? 1 : 0)
    }

    /// Declares the renewal counter of a producer (`tick`, `worker`, `replay`) at 0.
    public func declareProducer(_ producer: String) {
        _ = registry.makeCounter(descriptor: Self.producerRenewals, labels: [("producer", producer)])
    }

    /// A producer replaced its librdkafka client.
    public func producerRenewed(_ producer: String) {
        registry.makeCounter(descriptor: Self.producerRenewals, labels: [("producer", producer)]).increment()
    }

    /// The text exposition, with the last-success ages brought up to `now`.
    public func render(at now: Date = Date()) -> String {
        for (job, date) in lastSuccess.withLock({ $0 }) {
            registry.makeGauge(descriptor: Self.lastSuccessAge, labels: [("job_name", job)]).set(to: now.timeIntervalSince(date))
        }
        return registry.emitToString()
    }
}
