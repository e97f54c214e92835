import Foundation
import Kafka
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import ProactivityStore
import Testing

/// W3C trace context through the pipeline, read by an independent client
/// (``TraceHeaderReader``: Python's confluent-kafka and a regular expression of the
/// spec) and in the JSON log lines of a real `proactivity worker` process: ticks carry a
/// `traceparent`; their alerts a child (same trace id, the worker's span id); the
/// worker's lines of a tick carry its trace id, its span id and the tick's span id as
/// parent; a tick without a context, or with an invalid one, runs in a new trace; a
/// dead-lettered tick keeps its context and its replay continues the trace, linked.
@Suite(.timeLimit(.minutes(5)))
struct TraceContextTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    /// The worker's JSON log lines about one tick.
    static func lines(of worker: ProactivityProcess, tick: String) -> [[String: Any]] {
        worker.text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }.filter { $0["tick_id"] as? String == tick }
    }

    static func tickId(of record: TraceHeaderReader.Record) throws -> String {
        try MessageCoding.decode(AlertMessage.self, from: Array(record.value.utf8)).tickId
    }

    @Test func ticksAndAlertsCarryParentAndChildAndTheWorkerLogsTheTrace() async throws {
        try await PipelineHarness.with { harness in
            let traced = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            let untraced = TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(3600), producedAt: slot)
            let malformed = TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(7200), producedAt: slot)
            // One event in each tick's window (the windows do not overlap).
            for tick in [traced, untraced, malformed] {
                try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(tick.slot.addingTimeInterval(600)))")
            }
            let worker = try ProactivityProcess(["worker"], environment: try harness.environment(extra: ["LOG_LEVEL": "debug"]))
            var forged = TickProducerStage.record(of: malformed, topic: harness.ticksTopic)
            forged.headers = forged.headers.filter { $0.name != "traceparent" } + [KafkaHeader(name: "traceparent", string: "00-NOT-A-TRACE-01")]
            let producer = try TestEnvironment.producer()
            for result in await producer.send([
                TickProducerStage.record(of: traced, topic: harness.ticksTopic),
                KafkaProducerMessage(topic: harness.ticksTopic, key: Array(untraced.partitionKey.utf8), value: MessageCoding.encode(untraced)),
                forged,
            ]) { _ = try result.get() }
            try await producer.close()
            try await harness.waitForCompletion(of: [traced, untraced, malformed])

            let records = try TraceHeaderReader.read([harness.ticksTopic: 3, harness.alertsTopic: 3])
            let ticks = Dictionary(uniqueKeysWithValues: records.filter { $0.topic == harness.ticksTopic }.map { ($0.header("tick-id") ?? "", $0) })
            let alerts = Dictionary(uniqueKeysWithValues: try records.filter { $0.topic == harness.alertsTopic }.map { (try Self.tickId(of: $0), $0) })

            // The tick producer's record: a valid traceparent; the alert: its child.
            let tick = try #require(ticks[traced.tickId]?.traceparent, "the tick's traceparent, valid: \(String(describing: ticks[traced.tickId]))")
            let alert = try #require(alerts[traced.tickId]?.traceparent, "the alert's traceparent, valid: \(String(describing: alerts[traced.tickId]))")
            #expect(alert.traceId == tick.traceId, "the alert is in the tick's trace")
            #expect(alert.parentId != tick.parentId, "the alert carries a span of its own (the worker's)")
            #expect(tick.flags == "01" && alert.flags == "01")
            let lines = Self.lines(of: worker, tick: traced.tickId)
            #expect(lines.contains { $0["event"] as? String == "worker_job_succeeded" }, "\(worker.text.suffix(3000))")
            for line in lines {
                #expect(line["trace_id"] as? String == tick.traceId, "\(line)")
                #expect(line["span_id"] as? String == alert.parentId, "the alert's parent is the worker's span: \(line)")
                #expect(line["parent_span_id"] as? String == tick.parentId, "whose parent is the tick's span: \(line)")
            }

            // No traceparent (an older producer): a new trace, in the alert and the lines.
            #expect(ticks[untraced.tickId]?.header("traceparent") == nil)
            let fresh = try #require(alerts[untraced.tickId]?.traceparent)
            #expect(fresh.traceId != tick.traceId)
            let freshLines = Self.lines(of: worker, tick: untraced.tickId)
            #expect(!freshLines.isEmpty)
            for line in freshLines {
                #expect(line["trace_id"] as? String == fresh.traceId && line["span_id"] as? String == fresh.parentId, "\(line)")
                #expect(line["parent_span_id"] == nil, "a new trace's first span has no parent: \(line)")
            }

            // An invalid traceparent (the independent reader agrees): ignored, logged at debug, the tick runs.
            #expect(ticks[malformed.tickId]?.problem != nil, "Python finds the forged traceparent invalid too")
            let replaced = try #require(alerts[malformed.tickId]?.traceparent)
            #expect(![tick.traceId, fresh.traceId].contains(replaced.traceId))
            #expect(worker.text.contains(#""event":"trace_context_invalid""#), "\(worker.text.suffix(3000))")
            #expect(Self.lines(of: worker, tick: malformed.tickId).allSatisfy { $0["trace_id"] as? String == replaced.traceId })

            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(within: .seconds(40)) == 0)
        }
    }

    @Test func aDeadLetteredTickKeepsItsContextAndItsReplayContinuesTheTraceLinked() async throws {
        try await PipelineHarness.with { harness in
            let file = try harness.jobsFile(
                #"{"jobs": [{"name": "broken", "every": "5m", "window": "1h", "sql": "SELECT id::text AS item_id, user_id, title, due_at FROM invoices WHERE due_at >= :window_start AND due_at < :window_end"}]}"#)
            var job = BuiltInJobs.eventReminder
            job.name = "broken"
            let broken = TickMessage(job: job, slot: slot, producedAt: slot)
            let original = TickProducerStage.record(of: broken, topic: harness.ticksTopic)
            let originalTraceparent = try #require(original.headers.string(named: "traceparent"))
            let worker = try ProactivityProcess(["worker"], environment: try harness.environment(jobsFile: file, extra: ["LOG_LEVEL": "info"]))
            try await harness.withWorker(stages: [.mirror], jobsFile: file) { assembly in
                let producer = try TestEnvironment.producer()
                _ = try await producer.send(original)
                let store = DeadLetterStore(client: harness.client, logger: harness.logger)
                try await eventually(within: .seconds(60), "the tick mirrored into worker_dlq") {
                    try await store.list(DeadLetterFilter(limit: 10)).count == 1
                }
                let row = try #require(try await store.list(DeadLetterFilter(limit: 10)).first)
                let rowTraceparent = row.headers.first { $0.name == "traceparent" }?.value.flatMap { Data(base64Encoded: $0) }
                #expect(rowTraceparent == Data(originalTraceparent.utf8), "worker_dlq keeps the original traceparent")

                // Fix the cause, with one invoice due in the window, and replay.
                try await harness.execute("CREATE TABLE invoices (id int, user_id text, title text, due_at timestamptz)")
                try await harness.execute("INSERT INTO invoices VALUES (1, 'bob', 'Invoice 1', \(slot.addingTimeInterval(600)))")
                let replayer = DeadLetterReplayer(
                    store: store, producer: producer, allowedTopics: [harness.ticksTopic], metrics: assembly.metrics, logger: harness.logger)
                #expect(try await replayer.replay([row], force: false, dryRun: false).replayed == [row.id])
                try await harness.waitForCompletion(of: [broken])
                try await producer.close()
            }

            let records = try TraceHeaderReader.read([harness.ticksTopic: 2, harness.dlqTopic: 1, harness.alertsTopic: 1])
            let tick = try #require(records.first { $0.topic == harness.ticksTopic && $0.header("dlq.replay.id") == nil })
            let replay = try #require(records.first { $0.topic == harness.ticksTopic && $0.header("dlq.replay.id") != nil })
            let dead = try #require(records.first { $0.topic == harness.dlqTopic })
            let alert = try #require(records.first { $0.topic == harness.alertsTopic })
            let origin = try #require(tick.traceparent)
            #expect(dead.header("traceparent") == originalTraceparent, "the DLQ record keeps the original traceparent byte for byte")
            #expect(dead.traceparent != nil && dead.header("dlq.error.class") == "job_sql")

            // The replay: a new span in the original's trace, linked to the original.
            let replayed = try #require(replay.traceparent, "\(replay)")
            #expect(replayed.traceId == origin.traceId && replayed.parentId != origin.parentId)
            #expect(replay.header("dlq.replay.link") == originalTraceparent)
            let continued = try #require(alert.traceparent)
            #expect(continued.traceId == origin.traceId, "the replayed tick's alert is in the original trace")

            // The worker's lines: the failed run is the tick's child, the replayed run the replay's.
            let lines = Self.lines(of: worker, tick: broken.tickId)
            let failed = try #require(lines.first { $0["event"] as? String == "worker_job_failed" }, "\(worker.text.suffix(3000))")
            #expect(failed["trace_id"] as? String == origin.traceId && failed["parent_span_id"] as? String == origin.parentId)
            let succeeded = try #require(lines.first { $0["event"] as? String == "worker_job_succeeded" })
            #expect(succeeded["trace_id"] as? String == origin.traceId)
            #expect(succeeded["parent_span_id"] as? String == replayed.parentId)
            #expect(succeeded["span_id"] as? String == continued.parentId)
            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(within: .seconds(40)) == 0)
        }
    }

    /// `jobs backfill` publishes through the one place tick records are built: its tick
    /// has a traceparent, and the command prints it.
    @Test func aBackfilledTickCarriesATraceparentTheCommandPrints() async throws {
        try await PipelineHarness.with { harness in
            let run = try await ProactivityProcess.run(
                ["jobs", "backfill", "event-reminder", "--slot", "2020-01-06T10:00:00Z", "--reason", "trace test"],
                environment: try harness.environment())
            #expect(run.status == 0, "\(run.output.suffix(2000))")
            let records = try TraceHeaderReader.read([harness.ticksTopic: 1])
            let traceparent = try #require(records.first?.header("traceparent"))
            #expect(records.first?.traceparent != nil, "valid: \(traceparent)")
            #expect(run.stdout.contains("traceparent \(traceparent)"), "\(run.stdout)")
        }
    }
}
