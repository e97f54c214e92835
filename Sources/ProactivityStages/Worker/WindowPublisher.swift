import AsyncAlgorithms
import Foundation
import Kafka
import Observability
import ProactivityCore
import ProactivityStore

/// Publishes the alerts of one tick's window as a pipeline of pages, so both cores work
/// and memory holds a bounded number of pages whatever the window:
///
/// 1. **read**: the job's query streams its rows in due order, a page at a time;
/// 2. **sift**: the items the ledger has are dropped (a lookup per page, its plan made
///    for the ledger as it is then: ``AlertLedger/unsent(_:job:window:)``), and the
///    rest are written as alert JSON;
/// 3. **publish**: a page's alerts are handed to the producer (not waiting for delivery);
/// 4. **record**: once the broker acknowledged a page, its alerts go into the ledger.
///
/// Up to `pagesInFlight` pages wait between 3 and 4, which keeps librdkafka's queue full,
/// and up to `concurrentRecords` ledger writes run at once.
/// Any failure stops the pipeline and fails the tick: its next run skips the pages
/// recorded, and re-sends the others with the same alert ids. Pages are published in
/// order, so each user's alerts (one partition, keyed by user) stay in due order.
struct WindowPublisher {
    let store: ReminderStore
    let producer: KafkaProducer
    let alertsTopic: String
    /// Classifies database failures (and trips the circuit breaker while waiting).
    let database: DatabaseCalls
    /// Each alert's notice (due time minus acknowledgement), recorded per delivered page.
    let lead: EngineMetrics.AlertLead
    /// Told each time the broker acknowledges a page.
    let progress: ProgressWatch
    /// `traceparent` (and `tracestate`) of the tick's span: every alert of the run
    /// carries them among the headers its page shares, so tracing adds no work per alert
    /// beyond librdkafka's copy of one more header.
    let traceHeaders: [KafkaHeader]
    var pageSize = 2_000
    /// Pages handed to the producer whose delivery is not yet awaited. Enough to keep
    /// librdkafka's queue full; more only lengthen the queue that another tick's alerts
    /// wait behind (with 8, a 20-item tick sent during a big window waited 180 ms at the
    /// median, with 4 about 110 ms; alerts/s the same within the machine's noise).
    var pagesInFlight = 4
    /// Pages whose ledger rows are being written at once.
    var concurrentRecords = 2

    /// What a run did.
    struct Counts: Sendable {
        /// Rows the job's SQL returned for the window and shard.
        var due = 0
        /// Of ``due``, those the ledger had before the query ran: counted in PostgreSQL, never read.
        var skippedInQuery = 0
        var alerted = 0
        var late = 0
        /// From the query's start to its last row.
        var query = Duration.zero

        static func + (lhs: Counts, rhs: Counts) -> Counts {
            Counts(
                due: lhs.due + rhs.due, skippedInQuery: lhs.skippedInQuery + rhs.skippedInQuery, alerted: lhs.alerted + rhs.alerted,
                late: lhs.late + rhs.late, query: lhs.query + rhs.query)
        }
    }

    /// A page handed to the producer, waiting for its delivery reports.
    private struct PendingPage: Sendable {
        let alerts: [AlertLedger.SentAlert]
        let late: Int
        let deliveries: KafkaDeliveries
    }

    /// Runs the pipeline for `tick`.
    /// - Throws: ``TickFailure`` for the first failure of any step.
    func publish(job: JobDefinition, tick: TickMessage, writer: AlertWriter) async throws -> Counts {
        let rows = AsyncThrowingChannel<[DueItem], any Error>()
        let pages = AsyncThrowingChannel<EncodedPage, any Error>()
        let published = AsyncThrowingChannel<PendingPage, any Error>()
        return try await withThrowingTaskGroup(of: Counts.self) { group in
            group.addTask {
                do {
                    let started = ContinuousClock.now
                    let read = try await database.run(jobSQL: true) {
                        try await store.forEachDuePage(job: job, tick: tick, pageSize: pageSize) { page in
                            await rows.send(page)
                            try Task.checkCancellation()
                        }
                    }
                    rows.finish()
                    return Counts(due: read.total, skippedInQuery: read.alreadyInLedger, query: ContinuousClock.now - started)
                } catch {
                    rows.fail(error)
                    throw error
                }
            }
            group.addTask {
                do {
                    try await sift(rows, into: pages, job: job, tick: tick, writer: writer)
                    pages.finish()
                    return Counts()
                } catch {
                    pages.fail(error)
                    throw error
                }
            }
            group.addTask {
                defer { published.finish() }
                for try await page in pages {
                    let deliveries = await producer.enqueue(page.batch)
                    await published.send(PendingPage(alerts: page.alerts, late: page.late, deliveries: deliveries))
                }
                return Counts()
            }
            group.addTask {
                // Deliveries are awaited in order; ledger writes run `concurrentRecords` at a time.
                try await withThrowingTaskGroup(of: Counts.self) { records in
                    var counts = Counts()
                    var running = 0
                    for try await page in published.buffer(policy: .bounded(pagesInFlight)) {
                        if let (index, error) = await page.deliveries.failures().min(by: { $0.key < $1.key }) {
                            let alert = page.alerts[index]
                            let id = AlertMessage.id(job: job.name, itemId: alert.itemId, dueAt: alert.dueAt)
                            throw TickFailure(
                                dependency: "kafka", message: "alert \(id) not delivered: \(error)",
                                kind: FailureClassifier.classify(.kafka(error)))
                        }
                        let acknowledged = Date()
                        progress.advanced()
                        for alert in page.alerts { lead.record(alert.dueAt.timeIntervalSince(acknowledged)) }
                        if running == concurrentRecords, let done = try await records.next() {
                            counts = counts + done
                            running -= 1
                        }
                        records.addTask {
                            try await database.run { try await store.alertLedger.record(page.alerts, tick: tick) }
                            return Counts(alerted: page.alerts.count, late: page.late)
                        }
                        running += 1
                    }
                    while let done = try await records.next() { counts = counts + done }
                    return counts
                }
            }
            var total = Counts()
            while let counts = try await group.next() { total = total + counts }
            return total
        }
    }

    /// Drops from each page the items the ledger has and hands the rest on as alerts, in
    /// the pages' order. A page's lookup and writing overlap with the reading of the next
    /// two pages (buffered) and the delivery of those before. (Two lookups at a time
    /// measured no faster.)
    private func sift(
        _ rows: AsyncThrowingChannel<[DueItem], any Error>, into pages: AsyncThrowingChannel<EncodedPage, any Error>, job: JobDefinition,
        tick: TickMessage, writer: AlertWriter
    ) async throws {
        for try await page in rows.buffer(policy: .bounded(2)) {
            let unsent = try await database.run { try await store.alertLedger.unsent(page, job: job, window: (tick.windowStart, tick.windowEnd)) }
            guard !unsent.isEmpty else { continue }
            await pages.send(encode(unsent, writer: writer))
            try Task.checkCancellation()
        }
    }

    /// A page's alerts, written, ready for the producer.
    private struct EncodedPage: Sendable {
        let batch: KafkaProducerBatch
        let alerts: [AlertLedger.SentAlert]
        let late: Int
    }

    /// Writes a page's alerts into one buffer (in the sifting task, while the producer
    /// sends the page before: encoding and sending overlap). Each record carries its
    /// alert id, then the headers the page's alerts share.
    private func encode(_ items: [DueItem], writer: AlertWriter) -> EncodedPage {
        var page = AlertPage(capacity: items.count)
        var alerts: [AlertLedger.SentAlert] = []
        alerts.reserveCapacity(items.count)
        for item in items {
            writer.write(item, into: &page)
            alerts.append(AlertLedger.SentAlert(itemId: item.itemId, dueAt: item.dueAt))
        }
        let shared = [
            KafkaHeader(name: "job-name", string: writer.jobName),
            KafkaHeader(name: "schema-version", string: String(MessageCoding.schemaVersion)),
            KafkaHeader(name: "content-type", string: "application/json"),
        ] + traceHeaders
        let batch = KafkaProducerBatch(
            topic: alertsTopic, headerName: "alert-id", commonHeaders: shared, bytes: page.bytes,
            records: page.alerts.map { KafkaProducerBatch.Record(key: $0.key, value: $0.json, header: $0.id) })
        return EncodedPage(batch: batch, alerts: alerts, late: page.alerts.count { $0.late })
    }
}
