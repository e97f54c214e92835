import Foundation
import Kafka
import PostgresNIO
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import ProactivityStore
import Testing

/// The worker's paged pipeline: a window streamed in pages, each published and then
/// recorded; what a kill between pages, page boundaries and hostile text do to it.
@Suite(.timeLimit(.minutes(4)))
struct StreamingWindowTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    /// A `proactivity worker` process is killed (SIGKILL) after pages were recorded and
    /// later pages published but not recorded; its replacement completes the tick:
    /// every item alerted, the recorded pages not sent again, duplicates with their ids.
    @Test func aWorkerKilledBetweenPagesIsReplacedWithACompleteAlertSet() async throws {
        try await PipelineHarness.with { harness in
            let items = 3_000
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || (n % 50), 'Event ' || n, \(slot) + (n % 3000) * interval '1 second' FROM generate_series(1, \(items)) n
                """)
            // Recording a page fails as an outage once two pages are recorded, until cleared.
            try await harness.execute("CREATE TABLE fault (on_ boolean)")
            try await harness.execute("INSERT INTO fault VALUES (true)")
            try await harness.execute(
                """
                CREATE FUNCTION fail_third_page() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF EXISTS (SELECT 1 FROM fault) AND (SELECT count(*) FROM worker_alerts_sent) >= 1000 THEN
                    RAISE EXCEPTION 'injected outage' USING ERRCODE = '08006';
                  END IF;
                  RETURN NULL;
                END $$
                """)
            try await harness.execute(
                "CREATE TRIGGER fail_third_page BEFORE INSERT ON worker_alert_pages FOR EACH STATEMENT EXECUTE FUNCTION fail_third_page()")
            let ticks = [TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)]
            try await harness.publish(ticks)

            let environment = try harness.environment(extra: ["WORKER_PAGE_SIZE": "500", "LOG_LEVEL": "critical"])
            let first = try ProactivityProcess(["worker"], environment: environment)
            // Two ledger writes run at once, so two or three pages may have been recorded.
            try await eventually(within: .seconds(60), "pages recorded and later ones published") {
                let recorded = try await harness.count("SELECT count(*)::int FROM worker_alerts_sent")
                guard recorded >= 1000 else { return false }
                return try await harness.alertRecords().count > recorded
            }
            first.signal(SIGKILL)
            _ = try await first.waitForExit(within: .seconds(10))
            let recordedAtKill = try await harness.count("SELECT count(*)::int FROM worker_alerts_sent")
            let firstPage = ReminderStore.firstPageSize
            #expect(
                recordedAtKill < items && recordedAtKill >= firstPage && (recordedAtKill - firstPage) % 500 == 0,
                "whole pages recorded (the first of \(firstPage) rows, then 500 each), not all: \(recordedAtKill)")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 0, "killed mid-tick")
            let beforeReplacement = try await harness.alertRecords().count

            try await harness.execute("DELETE FROM fault")
            try await harness.withWorker(environment: ["WORKER_PAGE_SIZE": "500"]) { _ in
                try await harness.waitForCompletion(of: ticks, within: .seconds(90))
            }

            let alerts = try await harness.alerts()
            let ids = Set(alerts.map(\.alert.alertId))
            #expect(ids.count == items, "every due item alerted")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == items)
            #expect(alerts.count - beforeReplacement <= items - recordedAtKill, "the recorded pages were not sent again")
            let duplicates = alerts.count - ids.count
            #expect(duplicates > 0, "published-but-unrecorded pages were sent again")
            for (id, copies) in Dictionary(grouping: alerts, by: \.alert.alertId) where copies.count > 1 {
                #expect(Set(copies.map { "\($0.alert.itemId)@\($0.alert.dueAt)" }).count == 1, "duplicates of \(id) share their item")
            }
        }
    }

    /// A window's first page is short (``ReminderStore/firstPageSize`` rows), so that its
    /// alerts leave while the full pages are read; every row is handed over once, in due
    /// order.
    @Test func aWindowsFirstPageIsShortAndTheOthersFull() async throws {
        try await PipelineHarness.with { harness in
            let items = 2 * ReminderStore.firstPageSize + 50
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 second' FROM generate_series(1, \(items)) n
                """)
            let store = ReminderStore(client: harness.client, logger: harness.logger)
            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            var pages: [[DueItem]] = []
            let read = try await store.forEachDuePage(job: BuiltInJobs.eventReminder, tick: tick, pageSize: items - 100) { pages.append($0) }
            #expect(pages.map(\.count) == [ReminderStore.firstPageSize, items - ReminderStore.firstPageSize])
            #expect(read.handedOver == items)
            let dues = pages.joined().map(\.dueAt)
            #expect(dues == dues.sorted() && Set(pages.joined().map(\.itemId)).count == items)

            // A page size below the first page's is kept from the start.
            pages = []
            try await store.forEachDuePage(job: BuiltInJobs.eventReminder, tick: tick, pageSize: 100) { pages.append($0) }
            #expect(pages.count == (items + 99) / 100 && pages.dropLast().allSatisfy { $0.count == 100 })
        }
    }

    /// The ledger lookups of a window stay primary-key lookups when the statistics of
    /// the window's day partition were taken while it was small (here: 60 rows of
    /// another job, then ANALYZE, as autovacuum does after a few small ticks). A plan
    /// made from those statistics scans the partition for every item, and the window's
    /// own pages are written into it meanwhile: quadratic in the window (a 100,000-item
    /// window ran at about 2,000 alerts/s).
    @Test func ledgerLookupsUseTheKeyWhenTheDayPartitionWasAnalyzedSmall() async throws {
        try await PipelineHarness.with { harness in
            let items = 3_000
            // Two days ago at 10:00 UTC: a day within the retention, so the worker's pruner keeps its partition.
            let slot = AlertLedger.utcDay(of: Date().addingTimeInterval(-2 * 86_400)).addingTimeInterval(10 * 3_600)
            let partition = "worker_alert_pages_" + slot.formatted(Date.ISO8601FormatStyle().year().month().day().dateSeparator(.omitted))
            #expect(try await AlertLedger(client: harness.client, logger: harness.logger).addPartitions(from: slot, through: slot) == 1)
            try await harness.execute(
                """
                INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats)
                SELECT 'other-job', 'other', due, due, 1, ARRAY['item-' || n], ARRAY[due]
                FROM generate_series(1, 60) n CROSS JOIN LATERAL (SELECT \(slot) + n * interval '1 second' AS due) AS alert
                """)
            try await harness.execute("ANALYZE \(unescaped: partition)")
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || (n % 50), 'Event ' || n, \(slot) + n * interval '1 second' FROM generate_series(1, \(items)) n
                """)
            let ticks = [TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)]
            try await harness.publish(ticks)
            try await harness.withWorker(environment: ["WORKER_PAGE_SIZE": "500"]) { _ in
                try await harness.waitForCompletion(of: ticks, within: .seconds(90))
            }
            #expect(try await harness.count("SELECT alerts FROM worker_ticks_completed") == items)
            // The statistics reach pg_stat_user_tables once the worker's backends report them.
            // Each page's lookup is at least one step of the key (the page's due range).
            let pages = items / 500
            let scans: PostgresQuery = "SELECT coalesce(idx_scan, 0)::int FROM pg_stat_user_tables WHERE relid = \(partition)::regclass"
            try await eventually(within: .seconds(30), "the window's \(pages) page lookups counted as index scans of \(partition)") {
                try await harness.count(scans) >= pages
            }
            // (Attaching the partition scanned it once, while it was empty.)
            let rowsScanned = try await harness.count("SELECT seq_tup_read::int FROM pg_stat_user_tables WHERE relid = \(partition)::regclass")
            #expect(rowsScanned == 0, "the partition was scanned row by row: \(rowsScanned) rows read")
        }
    }

    /// A job query that returns items due outside its window (here: the events of the
    /// week before the window's end, overdue ones included) still alerts each item once: those
    /// items are looked up in the whole ledger, not only in the window's days.
    @Test func itemsAJobReturnsOutsideItsWindowAreAlertedOnce() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || n, 'Event ' || n, CASE WHEN n <= 5 THEN \(slot) - interval '3 days' ELSE \(slot) END + n * interval '1 minute'
                FROM generate_series(1, 8) n
                """)
            let file = try harness.jobsFile(
                #"{"jobs": [{"name": "event-reminder", "sql": "SELECT e.id::text AS item_id, e.user_id, e.title, e.starts_at AS due_at FROM events e WHERE e.starts_at >= :window_start - interval '7 days' AND e.starts_at < :window_end"}]}"#)
            let ticks = [0, 300, 600].map { TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(Double($0)), producedAt: slot) }
            try await harness.withWorker(jobsFile: file) { _ in
                for tick in ticks {
                    try await harness.publish([tick])
                    try await harness.waitForCompletion(of: [tick])
                }
            }
            let alerts = try await harness.alerts()
            #expect(Set(alerts.map(\.alert.alertId)).count == 8, "every item alerted")
            #expect(alerts.count == 8, "no item alerted twice: \(alerts.map(\.alert.alertId).sorted())")
            #expect(try await harness.count("SELECT sum(alerts)::int FROM worker_ticks_completed") == 8)
        }
    }

    /// Each user's alerts arrive in due order, also when they fall in different pages and
    /// whatever order the job's SQL returns.
    @Test func eachUsersAlertsStayInDueOrderAcrossPageBoundaries() async throws {
        try await PipelineHarness.with { harness in
            // 10 users × 60 items, interleaved in due order: every user is in every page.
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || (n % 10), 'Event ' || n, \(slot) + n * interval '5 seconds' FROM generate_series(1, 600) n
                """)
            // The job's own SQL returns its rows backwards: the engine still publishes in due order.
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [{"name": "event-reminder", "sql": "SELECT e.id::text AS item_id, e.user_id, e.title, e.starts_at AS due_at FROM events e WHERE e.starts_at >= :window_start AND e.starts_at < :window_end ORDER BY e.starts_at DESC"}]}
                """#)
            let ticks = [TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)]
            try await harness.withWorker(jobsFile: jobs, environment: ["WORKER_PAGE_SIZE": "50"]) { _ in
                try await harness.publish(ticks)
                try await harness.waitForCompletion(of: ticks)
            }
            let alerts = try await harness.alerts()
            #expect(alerts.count == 600)
            let byUser = Dictionary(grouping: alerts, by: \.alert.userId)
            #expect(byUser.count == 10)
            for (user, alerts) in byUser {
                let due = alerts.map(\.alert.dueAt)
                #expect(due == due.sorted() && Set(due).count == due.count, "\(user)'s alerts in due order")
            }
        }
    }

    /// A tick whose query takes long (here: it sleeps) does not hold up a tick of another
    /// job on another partition: the small tick completes while the big one still runs.
    @Test func aLongTickDoesNotHoldUpATickOnAnotherPartition() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                "INSERT INTO tasks (user_id, title, due_at, status) SELECT 'user-' || n, 'Task ' || n, \(slot) + n * interval '1 minute', 'open' FROM generate_series(1, 20) n")
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [{"name": "slow", "every": "5m", "window": "1h",
                           "sql": "SELECT 'x' AS item_id, 'u' AS user_id, 't' AS title, :window_start AS due_at FROM pg_sleep(10) WHERE :window_end IS NOT NULL"}]}
                """#)
            let settings = try await harness.settings(jobsFile: jobs)
            let slow = TickMessage(job: settings.jobs.job(named: "slow")!, slot: slot, producedAt: slot)
            let small = TickMessage(job: BuiltInJobs.taskReminder, slot: slot, producedAt: slot)
            try await harness.withWorker(jobsFile: jobs) { _ in
                let producer = try TestEnvironment.producer()
                for (tick, partition) in [(slow, Int32(0)), (small, Int32(1))] {
                    _ = try await producer.send(
                        KafkaProducerMessage(topic: harness.ticksTopic, partition: partition, value: MessageCoding.encode(tick)))
                }
                try await producer.close()
                try await harness.waitForCompletion(of: [small], within: .seconds(15))
                #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = \(slow.tickId)") == 0,
                        "the slow tick was still running")
                try await harness.waitForCompletion(of: [slow], within: .seconds(60))
            }
            #expect(try await harness.alerts().filter { $0.alert.jobName == "task-reminder" }.count == 20)
        }
    }

    /// Alerts whose text carries quotes, backslashes, control characters, emoji and line
    /// separators, and a payload of every JSON kind, are valid JSON matching
    /// `topics/schemas/alert.schema.json` for an independent validator (Python's jsonschema).
    @Test func hostileStringsGiveAlertsThatMatchTheSchema() async throws {
        try await PipelineHarness.with { harness in
            let hostile = [
                #"quote " and backslash \ and slash /"#, "new\nline\r\ttab", "bell \u{7} esc \u{1B} unit \u{1F} del \u{7F}",
                "emoji 🎉👩‍👩‍👧 e\u{301}", "separators \u{2028}\u{2029}", "</script><script>alert(1)</script>", "{\"json\": [1]}",
                String(repeating: "long ", count: 2000),
            ]
            try await harness.execute("CREATE TABLE notes (id text, user_id text, title text, due_at timestamptz, extra jsonb)")
            for (index, text) in hostile.enumerated() {
                let payload = #"{"text": "\#(text.unicodeScalars.map { $0.value < 0x20 || $0 == "\"" || $0 == "\\" ? String(format: "\\u%04x", $0.value) : String($0) }.joined())", "n": 1.5e3, "list": [true, null, {"nested": "\\\""}]}"#
                try await harness.execute(
                    "INSERT INTO notes VALUES (\(text + " id"), \(text + " user"), \(text), \(slot.addingTimeInterval(Double(index) * 60)), \(payload)::jsonb)")
            }
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [{"name": "notes", "every": "5m", "window": "1h", "severity": "warning",
                           "sql": "SELECT id AS item_id, user_id, title, due_at, extra AS payload FROM notes WHERE due_at >= :window_start AND due_at < :window_end"}]}
                """#)
            let settings = try await harness.settings(jobsFile: jobs)
            let ticks = [TickMessage(job: settings.jobs.job(named: "notes")!, slot: slot, producedAt: slot)]
            try await harness.withWorker(jobsFile: jobs) { _ in
                try await harness.publish(ticks)
                try await harness.waitForCompletion(of: ticks)
            }
            let records = try await harness.alertRecords()
            #expect(records.count == hostile.count)
            let decoded = try records.map { try MessageCoding.decode(AlertMessage.self, from: $0.value ?? []) }
            #expect(Set(decoded.map(\.title)) == Set(hostile))
            #expect(Set(decoded.map(\.userId)) == Set(hostile.map { $0 + " user" }))
            let problems = try SchemaValidator.problems(
                of: records.map { $0.value ?? [] }, schema: PipelineHarness.repositoryRoot.appendingPathComponent("topics/schemas/alert.schema.json"))
            #expect(problems.isEmpty, "\(problems)")
        }
    }
}

/// Validates JSON documents against a JSON Schema with Python's `jsonschema` (installed
/// into `.local/python` by `scripts/stack`), strict JSON parsing and format checks on.
enum SchemaValidator {
    /// - Returns: one line per document that is not strict JSON or breaks the schema.
    static func problems(of documents: [[UInt8]], schema: URL) throws -> [String] {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("documents-\(UUID().uuidString).bin")
        // One document per line: strict JSON text never contains a raw newline.
        try Data(documents.map { $0 + [0x0A] }.joined()).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator
            schema = json.load(open(sys.argv[1]))
            validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            for number, line in enumerate(open(sys.argv[2], 'rb').read().split(b'\\n')[:-1]):
                try:
                    document = json.loads(line.decode('utf-8', errors='strict'))
                except Exception as error:
                    print(f'document {number}: not strict JSON: {error}')
                    continue
                for error in validator.iter_errors(document):
                    print(f'document {number}: {error.message}')
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, schema.path, input.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = PipelineHarness.repositoryRoot.appendingPathComponent(".local/python").path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if process.terminationStatus != 0 { return ["the validator failed: \(text)"] }
        return text.split(separator: "\n").map(String.init)
    }
}
