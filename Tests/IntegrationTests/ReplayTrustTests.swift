import Foundation
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// Replay trusts nothing a DLQ record says: where it came from, how often it was
/// replayed; and two replays at once publish a row once.
@Suite(.timeLimit(.minutes(2)))
struct ReplayTrustTests {
    /// Mirrors a DLQ record as the mirror would, with `origin` and extra headers.
    func mirror(
        _ store: DeadLetterStore, _ harness: PipelineHarness, offset: Int64, origin: String, errorClass: FailureClass = .transient,
        headers: [String: String] = [:]
    ) async throws {
        let letter = DeadLetter(
            originTopic: origin, originPartition: 0, originOffset: offset, originTimestamp: nil, consumerGroup: harness.group,
            stage: "worker", jobName: "event-reminder", errorClass: errorClass, errorMessage: "test", attempts: 1,
            firstFailure: Date(), lastFailure: Date(), correlationId: "\(origin)/0/\(offset)")
        let all = letter.headers.map { ($0.name, $0.value) } + headers.map { ($0.key, $0.value) }
        try await store.mirror(
            DeadLetterStore.Record(
                topic: harness.dlqTopic, partition: 0, offset: offset, key: Array("k\(offset)".utf8), value: Array(#"{"n":\#(offset)}"#.utf8),
                headers: all.map { DeadLetterRow.Header(name: $0.0, value: Data($0.1.utf8).base64EncodedString()) }, letter: letter))
    }

    func replayer(_ store: DeadLetterStore, _ harness: PipelineHarness, _ producer: KafkaProducer) -> DeadLetterReplayer {
        DeadLetterReplayer(store: store, producer: producer, allowedTopics: [harness.ticksTopic], metrics: EngineMetrics(), logger: harness.logger)
    }

    @Test func aRecordNamingAnotherOriginIsNotReplayedThere() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await mirror(store, harness, offset: 1, origin: harness.alertsTopic)
            let producer = try TestEnvironment.producer()
            let outcome = try await replayer(store, harness, producer).replay(try await store.list(DeadLetterFilter()), force: true, dryRun: false)
            try await producer.close()
            #expect(outcome.replayed.isEmpty)
            #expect(outcome.skipped.first?.reason.contains("is not a replay target") == true, "\(outcome.skipped)")
            #expect(try await harness.alertRecords().isEmpty, "nothing forged reached the alerts topic")
        }
    }

    @Test func anUnreadableReplayCountSpendsTheAutomaticBudget() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await mirror(store, harness, offset: 1, origin: harness.ticksTopic, headers: [DeadLetter.Header.replayCount: "-5"])
            try await mirror(store, harness, offset: 2, origin: harness.ticksTopic, headers: [DeadLetter.Header.replayCount: "1"])
            let rows = try await store.list(DeadLetterFilter())
            #expect(rows.map(\.earlierReplays) == [nil, 1])
            let producer = try TestEnvironment.producer()
            let automatic = DeadLetterAutoReplayer(
                policy: AutoReplayPolicy(maxReplays: 3, backoff: 1, interval: 60), store: store, replayer: replayer(store, harness, producer),
                logger: harness.logger)
            let replayed = try await automatic.replayDueRows(now: Date().addingTimeInterval(86_400))
            try await producer.close()
            #expect(replayed == [rows[1].id], "only the row with a readable count below the budget")
        }
    }

    @Test func twoReplaysOfTheSameRowsAtOnceRepublishEachRowOnce() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            for offset in 1...20 { try await mirror(store, harness, offset: Int64(offset), origin: harness.ticksTopic) }
            let rows = try await store.list(DeadLetterFilter())
            #expect(rows.count == 20)
            let producer = try TestEnvironment.producer()
            async let first = replayer(store, harness, producer).replay(rows, force: false, dryRun: false)
            async let second = replayer(store, harness, producer).replay(rows, force: false, dryRun: false)
            let outcomes = try await [first, second]
            try await producer.close()
            let replayed = outcomes.flatMap(\.replayed)
            #expect(replayed.count == 20 && Set(replayed).count == 20, "each row replayed by exactly one of the two")
            let published = try await harness.records(in: harness.ticksTopic).compactMap { $0.headers.string(named: DeadLetter.Header.replayID) }
            #expect(published.count == 20 && Set(published).count == 20, "each row published once: \(published.count)")
        }
    }
}

/// A job's SQL is outside code: it cannot change data, and it cannot run forever.
@Suite(.timeLimit(.minutes(2)))
struct JobSQLBoundsTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func aJobQueryThatWritesFailsAsJobSQLAndOneTooSlowTimesOut() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                "INSERT INTO events (user_id, title, starts_at) SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 minute' FROM generate_series(1, 5) n")
            try await harness.execute(
                "CREATE FUNCTION forget_events() RETURNS int LANGUAGE sql VOLATILE AS $$ DELETE FROM events RETURNING 1 $$")
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [
                  {"name": "writer", "every": "5m", "window": "1h",
                   "sql": "SELECT e.id::text AS item_id, e.user_id, e.title, e.starts_at AS due_at FROM events e, forget_events() f WHERE e.starts_at >= :window_start AND e.starts_at < :window_end"},
                  {"name": "sleeper", "every": "5m", "window": "1h", "statement_timeout": "1s",
                   "sql": "SELECT 'x' AS item_id, 'u' AS user_id, 't' AS title, :window_start AS due_at FROM pg_sleep(5) WHERE :window_end IS NOT NULL"}
                ]}
                """#)
            let settings = try await harness.settings(jobsFile: jobs)
            let ticks = ["writer", "sleeper"].map { TickMessage(job: settings.jobs.job(named: $0)!, slot: slot, producedAt: slot) }
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: jobs, environment: ["WORKER_RETRY_ATTEMPTS": "1"]) { _ in
                try await harness.publish(ticks)
                try await eventually(within: .seconds(60), "both ticks dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == 2
                }
            }
            #expect(try await harness.count("SELECT count(*)::int FROM events") == 5, "the job's query changed nothing")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_dlq WHERE job_name = 'writer' AND error_class = 'job_sql' AND error_message LIKE '%read-only%'") == 1)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_dlq WHERE job_name = 'sleeper' AND error_class = 'transient' AND error_message LIKE '%statement timeout%'") == 1)
        }
    }
}

extension JobSQLBoundsTests {
    /// Every job's query is checked when a worker starts, and every problem is listed.
    @Test func aWorkerListsEveryBrokenJobQueryAtStart() async throws {
        try await PipelineHarness.with { harness in
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [
                  {"name": "no-table", "every": "5m", "window": "1h",
                   "sql": "SELECT id::text AS item_id, user_id, title, due_at FROM invoices WHERE due_at >= :window_start AND due_at < :window_end"},
                  {"name": "no-title", "every": "5m", "window": "1h",
                   "sql": "SELECT e.id::text AS item_id, e.user_id, e.starts_at AS due_at FROM events e WHERE e.starts_at >= :window_start AND e.starts_at < :window_end"}
                ]}
                """#)
            let worker = try ProactivityProcess(["worker"], environment: try harness.environment(jobsFile: jobs))
            try await eventually(within: .seconds(30), "the worker lists both broken jobs") {
                let text = worker.text
                return text.contains("worker_jobs_invalid") && text.contains("job 'no-table'") && text.contains("invoices")
                    && text.contains("job 'no-title'") && text.contains("title")
            }
            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(within: .seconds(30)) == 0)
        }
    }
}

/// A tick names its job, slot and shard; everything else comes from the worker's own
/// definition, and a tick that is not one of its job's goes to the DLQ as `invalid_tick`.
@Suite(.timeLimit(.minutes(2)))
struct ForgedTickTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func aForgedWindowAlertsOnlyTheJobsWindowAndInvalidTicksAreDeadLettered() async throws {
        try await PipelineHarness.with { harness in
            // 5 events in the job's window, 20 far outside it.
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || n, 'Event ' || n, CASE WHEN n <= 5 THEN \(slot) + n * interval '1 minute' ELSE \(slot) + n * interval '30 days' END
                FROM generate_series(1, 25) n
                """)
            var wide = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            wide.windowEnd = slot.addingTimeInterval(86_400 * 3650)
            var longID = TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(300), producedAt: slot)
            longID.tickId = String(repeating: "x", count: 10_000)
            var zeroShards = TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(600), producedAt: slot)
            zeroShards.shardCount = 0
            let future = TickMessage(job: BuiltInJobs.eventReminder, slot: Date().addingTimeInterval(86_400 * 365), producedAt: slot)
            try await harness.withWorker(stages: [.worker, .mirror]) { _ in
                try await harness.publish([wide, longID, zeroShards, future])
                try await harness.waitForCompletion(of: [wide])
                try await eventually("three invalid ticks dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq WHERE error_class = 'invalid_tick'") == 3
                }
            }
            let alerts = try await harness.alerts()
            #expect(alerts.count == 5, "only the job's own window was alerted")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 5, "nothing outside it recorded as sent")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 1)
        }
    }
}

/// Whatever a DLQ record carries, the mirror gives it a row and moves on.
@Suite(.timeLimit(.minutes(2)))
struct HostileDeadLetterTests {
    @Test func recordsPostgreSQLWouldRefuseGetRowsAndTheMirrorMovesOn() async throws {
        try await PipelineHarness.with { harness in
            func context(_ extra: [String: String]) -> [KafkaHeader] {
                var headers = [
                    DeadLetter.Header.originTopic: harness.ticksTopic, DeadLetter.Header.originPartition: "0",
                    DeadLetter.Header.originOffset: "7", DeadLetter.Header.errorClass: "undecodable",
                ]
                headers.merge(extra) { $1 }
                return headers.sorted { $0.key < $1.key }.map { KafkaHeader(name: $0.key, string: $0.value) }
            }
            let hostile: [(value: String, headers: [KafkaHeader])] = [
                (#"{"a":1}"#, context([DeadLetter.Header.errorMessage: "nul \u{0} inside"])),
                (#"{"text":"nul \u0000 escaped"}"#, context([:])),
                ("{}", context([DeadLetter.Header.jobName: String(repeating: "j", count: 10_000)])),
                ("{}", context([DeadLetter.Header.attempts: "99999999999"])),
                ("{}", context([:]) + [KafkaHeader(name: "bad\u{0}name", string: "v")]),
                (#"{"good":true}"#, context([DeadLetter.Header.jobName: "event-reminder"])),
            ]
            let producer = try TestEnvironment.producer()
            for record in hostile {
                _ = try await producer.send(
                    KafkaProducerMessage(topic: harness.dlqTopic, key: Array("k".utf8), value: Array(record.value.utf8), headers: record.headers))
            }
            try await producer.close()
            try await harness.withWorker(stages: [.mirror]) { _ in
                try await eventually(within: .seconds(60), "every record mirrored, the good one behind the rest too") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == hostile.count
                }
            }
            let rows = try await DeadLetterStore(client: harness.client, logger: harness.logger).list(DeadLetterFilter())
            #expect(rows.map { String(decoding: $0.value ?? [], as: UTF8.self) } == hostile.map(\.value), "raw values kept byte for byte")
            #expect(rows.allSatisfy { ($0.jobName?.count ?? 0) <= 200 })
            #expect(rows[0].errorMessage?.contains("\u{FFFD}") == true)
            #expect(rows[3].attempts == Int(Int32.max))
            // librdkafka hands header names over as C strings: a NUL ends the name.
            #expect(rows[4].headers.contains { $0.name.hasPrefix("bad") })
            #expect(rows[5].jobName == "event-reminder")
        }
    }
}

/// The DLQ HTTP API reads its parameters strictly, pages honestly and replays all it says.
@Suite(.timeLimit(.minutes(2)))
struct DeadLetterAPIStrictnessTests {
    @Test func parametersAreStrictListsPageAndAllMeansAll() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            let forged = ReplayTrustTests()
            for offset in 1...152 { try await forged.mirror(store, harness, offset: Int64(offset), origin: harness.ticksTopic) }
            // One row with a 1 MB value.
            let big = DeadLetterStore.Record(
                topic: harness.dlqTopic, partition: 0, offset: 1000, key: nil, value: Array(repeating: 0x41, count: 1_000_000), headers: [],
                letter: nil)
            try await store.mirror(big)
            let bigID = try await store.list(DeadLetterFilter(limit: 1000)).last!.id
            try await harness.withWorker(stages: [.mirror]) { assembly in
                let token: HTTPFields = [.authorization: "bearer \(PipelineHarness.apiToken)"]  // the scheme in any case
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    for bad in ["/dlq?limit=abc", "/dlq?limit=0", "/dlq?processed=maybe", "/dlq?dryRun=true", "/dlq?since=yesterday"] {
                        try await client.execute(uri: bad, method: .get, headers: token) { response in
                            #expect(response.status == .badRequest, "\(bad)")
                            let name = bad.split(separator: "?")[1].split(separator: "=")[0]
                            #expect(String(buffer: response.body).contains(name), "the 400 names \(name)")
                        }
                    }
                    // Random query strings: an answer (200 or 400), never a 500 or a crash.
                    let names = ["job", "error", "error_class", "since", "until", "processed", "limit", "after", "all", "x", ""]
                    let values = ["", "1", "-1", "abc", "true", "TRUE", "99999999999999999999", "2026-11-25T10:00:00Z", "%00", "%FF", "transient"]
                    for _ in 0..<200 {
                        let query = (0..<Int.random(in: 0...4)).map { _ in "\(names.randomElement()!)=\(values.randomElement()!)" }.joined(separator: "&")
                        try await client.execute(uri: "/dlq?\(query)", method: .get, headers: token) { response in
                            #expect([.ok, .badRequest].contains(response.status), "/dlq?\(query) answered \(response.status)")
                        }
                    }
                    try await client.execute(uri: "/dlq", method: .delete, headers: token) { response in
                        #expect(response.status == .methodNotAllowed && response.headers[.allow] == "GET")
                    }
                    try await client.execute(uri: "/dlq/replay", method: .get, headers: token) { response in
                        #expect(response.status == .methodNotAllowed && response.headers[.allow] == "POST")
                    }
                    // dry runs, however spelt, replay nothing.
                    for dryRun in ["1", "TRUE", "True"] {
                        try await client.execute(uri: "/dlq/replay?all=true&dry_run=\(dryRun)", method: .post, headers: token) {
                            #expect($0.status == .ok)
                        }
                    }
                    #expect(try await store.count(DeadLetterFilter(processed: true)) == 0, "a dry run replayed nothing")
                    // Pages with totals.
                    var after: Int64?
                    var seen = 0
                    repeat {
                        let uri = "/dlq?limit=100" + (after.map { "&after=\($0)" } ?? "")
                        after = try await client.execute(uri: uri, method: .get, headers: token) { response -> Int64? in
                            let page = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any]
                            #expect(page["total"] as? Int == 153)
                            let rows = page["rows"] as! [[String: Any]]
                            seen += rows.count
                            if let big = rows.first(where: { ($0["id"] as? Int).map(Int64.init) == bigID }) {
                                #expect(big["valueTruncated"] as? Bool == true && (big["value"] as? String)?.count ?? 0 < 6000)
                            }
                            return (page["nextAfter"] as? Int).map(Int64.init)
                        }
                    } while after != nil
                    #expect(seen == 153)
                    try await client.execute(uri: "/dlq/\(bigID)", method: .get, headers: token) { response in
                        let row = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any])["row"] as! [String: Any]
                        #expect(Data(base64Encoded: row["value"] as! String)?.count == 1_000_000, "the whole value")
                    }
                    // all means all: 152 replayable rows and one without an origin.
                    try await client.execute(uri: "/dlq/replay?all=1", method: .post, headers: token) { response in
                        let outcome = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as! [String: Any])["outcome"] as! [String: Any]
                        #expect((outcome["replayed"] as? [Any])?.count == 152)
                    }
                }
            }
            #expect(try await store.count(DeadLetterFilter(processed: true)) == 152)
            let missing = try await ProactivityProcess.run(["dlq", "replay", "999999"], environment: try harness.environment())
            #expect(missing.status == 1 && missing.output.contains("no DLQ row 999999"), "\(missing.output)")
        }
    }
}

import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// A mirror that cannot move says so: readiness names the record, a gauge counts up.
@Suite(.timeLimit(.minutes(2)))
struct MirrorStallTests {
    @Test func aRecordTheDatabaseKeepsRefusingMakesTheMirrorNotReadyUntilItMoves() async throws {
        try await PipelineHarness.with { harness in
            // Inserts fail as if the server were out of connections (not the record's fault).
            try await harness.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no room' USING ERRCODE = '53300'; END $$")
            try await harness.execute("CREATE TRIGGER refuse BEFORE INSERT ON worker_dlq FOR EACH ROW EXECUTE FUNCTION refuse()")
            let producer = try TestEnvironment.producer()
            _ = try await producer.send(KafkaProducerMessage(topic: harness.dlqTopic, key: Array("k".utf8), value: Array("{}".utf8)))
            try await producer.close()
            let metrics = EngineMetrics()
            metrics.declareDeadLetterMirror()
            let health = HealthState(stage: "dlq-mirror")
            let stage = DeadLetterMirrorStage(
                topic: harness.dlqTopic, consumer: try KafkaConsumer(
                    configuration: KafkaConsumerConfiguration(
                        kafka: try TestEnvironment.kafka(), groupID: harness.group + "-mirror", sessionTimeout: .seconds(6),
                        fetchWaitMax: .milliseconds(20)),
                    logger: harness.logger),
                store: DeadLetterStore(client: harness.client, logger: harness.logger), metrics: metrics, health: health,
                stallAfter: .seconds(1), logger: harness.logger)
            let group = ServiceGroup(services: [stage], logger: harness.logger)
            let running = Task { try await group.run() }
            try await eventually(within: .seconds(60), "readiness says where the mirror is stuck") {
                health.readiness.checks["dlq-mirror.progress"]?.contains("stuck at \(harness.dlqTopic)/0/0") == true
            }
            #expect(!health.readiness.ready)
            #expect(!metrics.render().contains("proactivity_dlq_mirror_stalled_seconds 0\n"))
            try await harness.execute("DROP TRIGGER refuse ON worker_dlq")
            try await eventually(within: .seconds(60), "the mirror moves again") {
                health.readiness.checks["dlq-mirror.progress"] == "ok"
            }
            #expect(metrics.render().contains("proactivity_dlq_mirror_stalled_seconds 0"))
            #expect(try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1)
            await group.triggerGracefulShutdown()
            try await running.value
        }
    }
}

import ServiceLifecycle
