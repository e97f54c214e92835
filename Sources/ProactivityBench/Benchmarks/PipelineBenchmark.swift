import Foundation
import Kafka
import Logging
import PostgresNIO
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import ProactivityStore

/// `bench pipeline`: reminder windows through real `proactivity worker` processes, read
/// back by a separate consumer, next to a plain-C librdkafka produce loop in the same run.
///
/// In a schema and topics of its own it seeds `total` events: `due` of them in one
/// event-reminder window (spread over `users` users), as many in another (the busy
/// window), `smallTicks` small windows of `smallDue` items, and, with `workers` > 1, two
/// more windows for a sharded job. Phases:
/// 1. the C loop produces `due` records of an alert's size, then `due` records with an
///    alert's value size and its five headers, then those again into the alerts topic
///    while the reader follows (before and after phase 2);
/// 2. one worker process: idle memory, then one tick for the big window (first alert,
///    alerts/s, peak memory); one tick for the busy window and, once its alerts flow,
///    20-item ticks of another job on another partition one after another while it runs
///    (tick → first alert, p50/max); then the small ticks one after another (tick →
///    first alert, p50/p99); then ticks sliding over the big window 5 minutes at a time,
///    as the event reminder's ticks follow each other: each reads the window's rows again
///    and alerts none (all alerted), the steady work of overlapping windows (tick →
///    completed, the worker's CPU per row);
/// 3. with `ledgerRows` > 0: three big windows, that many rows written into the alert
///    ledger, three more big windows through the same worker (medians compared);
/// 4. with `workers` > 1: the sharded job's window through 1 worker, then another window
///    through `workers` workers on one group.
struct PipelineBenchmark: PhasedBenchmark {
    let settings: EngineSettings
    let total: Int
    let due: Int
    let users: Int
    let smallTicks: Int
    let smallDue: Int
    let workers: Int
    /// Rows written into the alert ledger before a second big window (0: no such run).
    let ledgerRows: Int
    let logger: Logger
    let progress: @Sendable (String) -> Void

    private let id = UUID().uuidString.prefix(8).lowercased()
    /// The big window's slot, a past one (workers refuse slots ahead of their clock);
    /// the sharded windows are 1 and 2 days before it, the warm-up tick's 20 days before
    /// it, the small ones 30 days before it, 3 hours apart; the other rows 2 days after it
    /// and later.
    private let slot = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 300).rounded(.down) * 300 - 86_400 * 60)

    init(
        settings: EngineSettings, total: Int, due: Int, users: Int, smallTicks: Int, smallDue: Int, workers: Int, ledgerRows: Int,
        logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) {
        self.ledgerRows = ledgerRows
        self.settings = settings
        self.total = total
        self.due = due
        self.users = users
        self.smallTicks = smallTicks
        self.smallDue = smallDue
        self.workers = workers
        self.logger = logger
        self.progress = progress
    }

    func run() async throws -> PipelineBenchmarkReport {
        let schema = "bench_\(id)"
        let ticksTopic = "bench-\(id)-ticks"
        let alertsTopic = "bench-\(id)-alerts"
        let baselineTopic = "bench-\(id)-c"
        let dlqTopic = "bench-\(id)-dlq"
        let topics = [
            KafkaTopicSpecification(name: ticksTopic, partitions: 6),
            KafkaTopicSpecification(name: alertsTopic, partitions: 12),
            KafkaTopicSpecification(name: baselineTopic, partitions: 12),
            // The worker is not ready while one of its topics is missing.
            KafkaTopicSpecification(name: dlqTopic, partitions: 1),
        ]
        return try await withBenchTopics(topics, configuration: settings.kafka, logger: logger, progress: progress) {
            try await withBenchSchema(schema, settings: settings, logger: logger) { client, database in
                try await measure(
                    client: client, schemaURL: database.url, ticksTopic: ticksTopic, alertsTopic: alertsTopic, dlqTopic: dlqTopic,
                    baselineTopic: baselineTopic)
            }
        }
    }

    private func measure(
        client: PostgresClient, schemaURL: String, ticksTopic: String, alertsTopic: String, dlqTopic: String, baselineTopic: String
    ) async throws -> PipelineBenchmarkReport {
        // The ledger's info lines (a partition per day: about 150) would bury the progress
        // lines; its warnings still show.
        var setupLogger = logger
        setupLogger.logLevel = max(logger.logLevel, .notice)
        try phase("seeding \(total) events (\(due) due in one window, \(users) users)…")
        try await seed(client)
        // The benchmark's windows lie in the past; a running ledger has its current days'
        // partitions (the worker's pruner adds them ahead of time), so these days get theirs.
        try await AlertLedger(client: client, logger: setupLogger).addPartitions(
            from: smallSlot(0).addingTimeInterval(-86_400 * 4), through: slot.addingTimeInterval(86_400))
        let query = try await timeQuery(client)
        try phase("reminder query alone: \(query.rows) rows in \(String(format: "%.3f", query.seconds)) s")

        let readerConsumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                kafka: settings.kafka, groupID: "bench-\(id)-reader", sessionTimeout: .seconds(6), fetchWaitMax: .milliseconds(Self.readerFetchWaitMs)),
            logger: logger)
        try readerConsumer.subscribe(topics: [alertsTopic])
        let reader = AlertReader(consumer: readerConsumer)
        let ticks = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: settings.kafka, linger: .zero), logger: logger)
        return try await withKafkaClient(readerConsumer) { readerConsumer in
            try await withKafkaClient(ticks) { ticks in
                try await withThrowingTaskGroup(of: Void.self) { reading in
                    reading.addTask { try await reader.run() }
                    defer { reading.cancelAll() }

                    let workerSettings = [
                        "POSTGRES_URL": schemaURL, "TOPICS_TICKS": ticksTopic, "TOPICS_ALERTS": alertsTopic,
                        "TOPICS_DLQ": dlqTopic, "WORKER_GROUP_ID": "bench-\(id)-workers", "KAFKA_SESSION_TIMEOUT_MS": "6000",
                        // Longer than the oldest window's age: the pruner keeps their days' partitions.
                        "LEDGER_RETENTION": "120d",
                    ]
                    let record = Self.alertRecord()
                    let recordSize = record.bytes
                    let baseline = BaselineProducer(configuration: settings.kafka, extraProperties: ["message.max.bytes": "8388608"])
                    try phase("C baseline: \(due) records of \(recordSize) B…")
                    let baselineStart = CPUUsage.Snapshot.take(worker: nil)
                    let before = try await baseline.produce(topic: baselineTopic, messages: due, size: recordSize)
                    let baselineCPU = CPUUsage.between(baselineStart, CPUUsage.Snapshot.take(worker: nil))
                    try phase("C baseline with the alerts' five headers: \(due) records of \(record.valueBytes) B plus headers…")
                    let beforeWithHeaders = try await baseline.produce(topic: baselineTopic, messages: due, size: record.valueBytes, headers: record.headers)
                    try await eventually("the reader got no partitions") { !readerConsumer.assignment.isEmpty }
                    try phase("C baseline with the alerts' headers into the alerts topic, read by the reader…")
                    let (readBefore, producedBefore) = try await readBaseline(baseline, topic: alertsTopic, record: record, reader: reader)

                    try phase("starting a worker process…")
                    let worker = try WorkerProcess(kafka: settings.kafka, settings: workerSettings)
                    try await worker.waitUntilReady()
                    let idle = worker.memory.current
                    // A running worker is warm: its database connections open, the ledger's
                    // partitions known to them. One small tick warms this one up.
                    try phase("worker ready (\(String(format: "%.0f", idle)) MB); a warm-up tick of \(Self.concurrentTasks) items…")
                    reader.reset()
                    try await publish([TickMessage(job: BuiltInJobs.taskReminder, slot: warmUpSlot, producedAt: Date())], to: ticksTopic, partition: 1, with: ticks)
                    _ = try await reader.wait(for: Self.concurrentTasks, within: .seconds(60))
                    try phase("one tick for \(due) items…")
                    let walStart = try await walPosition(client)
                    let windowStart = CPUUsage.Snapshot.take(worker: worker.child.process.processIdentifier)
                    let bigWindow = try await runWindow(slot: slot, ticksTopic: ticksTopic, reader: reader, producer: ticks)
                    let windowCPU = CPUUsage.between(windowStart, CPUUsage.Snapshot.take(worker: worker.child.process.processIdentifier))
                    let storage = try await windowStorage(client: client, walStart: walStart)
                    let peak = worker.memory.peak
                    try phase("another tick for \(due) items, and up to \(Self.concurrentTicks) ticks of another job one after another while it runs…")
                    let concurrentLatencies = try await concurrentTickLatencies(ticksTopic: ticksTopic, reader: reader, producer: ticks)

                    try phase("\(smallTicks) small ticks of \(smallDue) items…")
                    var latencies: [Double] = []
                    for index in 0..<smallTicks {
                        reader.reset()
                        let tickStarted = ContinuousClock.now
                        try await publish([TickMessage(job: BuiltInJobs.eventReminder, slot: smallSlot(index), producedAt: Date())], to: ticksTopic, with: ticks)
                        let (first, _) = try await reader.wait(for: smallDue, within: .seconds(30))
                        latencies.append((first - tickStarted).seconds)
                    }
                    let sliding = try await slidingTicks(client: client, ticksTopic: ticksTopic, worker: worker, producer: ticks)
                    var ledger: PipelineBenchmarkReport.LedgerComparison?
                    if ledgerRows > 0 {
                        // One window varies by ±20% on 2 shared cores: three on the empty ledger, three
                        // after the rows were written, medians compared.
                        var empty: [PipelineBenchmarkReport.Window] = []
                        for index in 0..<Self.ledgerRuns {
                            try phase("one tick for \(due) items, empty ledger (\(index + 1)/\(Self.ledgerRuns))…")
                            empty.append(try await runWindow(slot: ledgerSlot(index), ticksTopic: ticksTopic, reader: reader, producer: ticks))
                        }
                        try phase("writing \(ledgerRows) alerts into the alert ledger…")
                        // What a 30-day retention holds: alerts due over the 30 days up to the day
                        // after the windows, in pages of 2,000 as a worker records them, none inside
                        // the windows to come (new windows: alerts of other items there would make
                        // them overlapping windows, which read their covered part first) and no
                        // page across one of them.
                        let end = ledgerSlot(Self.ledgerRuns).addingTimeInterval(86_400)
                        let windows = (Self.ledgerRuns..<(2 * Self.ledgerRuns)).map {
                            TickMessage(job: BuiltInJobs.eventReminder, slot: ledgerSlot($0), producedAt: ledgerSlot($0))
                        }
                        let starts = windows.map(\.windowStart), ends = windows.map(\.windowEnd)
                        let windowSeconds = windows.map { $0.windowEnd.timeIntervalSince($0.windowStart) }.reduce(0, +)
                        let spread = Int((Double(ledgerRows) * 30 * 86_400 / (30 * 86_400 - windowSeconds)).rounded())
                        try await client.query(
                            """
                            INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats)
                            SELECT 'event-reminder', 'bench', min(due), max(due), count(*)::int,
                                   array_agg('ledger-' || n ORDER BY n), array_agg(due ORDER BY n)
                            FROM (SELECT n, due, (SELECT count(*) FROM unnest(\(starts)::timestamptz[]) AS w WHERE due >= w) AS segment
                                  FROM (SELECT n, \(end) - interval '30 days' + n * (interval '30 days' / \(spread)) AS due
                                        FROM generate_series(1, \(spread)) AS n) AS spread
                                  WHERE NOT EXISTS (
                                      SELECT FROM unnest(\(starts)::timestamptz[], \(ends)::timestamptz[]) AS w(start, stop)
                                      WHERE due >= w.start AND due < w.stop)) AS alert
                            GROUP BY (due AT TIME ZONE 'UTC')::date, segment, (n - 1) / 2000
                            """)
                        // A ledger that grew over 30 days has been vacuumed: without this, autovacuum
                        // would work through the fresh pages while the windows run.
                        try await client.query("VACUUM (ANALYZE) worker_alert_pages")
                        // …and its writes reached the data files long ago: the checkpoints that the
                        // write of 10 million rows sets off would otherwise write during the windows.
                        do {
                            try await client.query("CHECKPOINT")
                        } catch {
                            try phase("CHECKPOINT refused (\(DatabaseError.describe(error))): the checkpointer may run during the next windows")
                        }
                        var full: [PipelineBenchmarkReport.Window] = []
                        for index in Self.ledgerRuns..<(2 * Self.ledgerRuns) {
                            try phase("one tick for \(due) items with \(ledgerRows) alerts in the ledger (\(index - Self.ledgerRuns + 1)/\(Self.ledgerRuns))…")
                            full.append(try await runWindow(slot: ledgerSlot(index), ticksTopic: ticksTopic, reader: reader, producer: ticks))
                        }
                        ledger = .init(rows: ledgerRows, empty: empty, full: full)
                    }
                    await worker.stop()
                    try phase("C baseline again…")
                    let after = try await baseline.produce(topic: baselineTopic, messages: due, size: recordSize)
                    let afterWithHeaders = try await baseline.produce(topic: baselineTopic, messages: due, size: record.valueBytes, headers: record.headers)
                    let (readAfter, producedAfter) = try await readBaseline(baseline, topic: alertsTopic, record: record, reader: reader)

                    var scaling: [PipelineBenchmarkReport.Scaling] = []
                    if workers > 1 {
                        for (count, window) in [(1, 1), (workers, 2)] {
                            try phase("sharded job (\(workers) shards), \(due) items through \(count) worker process(es)…")
                            scaling.append(try await runSharded(workers: count, window: window, settings: workerSettings, ticksTopic: ticksTopic, reader: reader, producer: ticks))
                        }
                    }
                    return PipelineBenchmarkReport(
                        dueItems: due, tableRows: total, users: users, alertRecordBytes: recordSize, querySeconds: query.seconds,
                        baseline: .init(before: before, after: after), baselineWithHeaders: .init(before: beforeWithHeaders, after: afterWithHeaders),
                        baselineRead: .init(before: readBefore, after: readAfter), baselineReadProduced: .init(before: producedBefore, after: producedAfter),
                        window: bigWindow, baselineCPU: baselineCPU, windowCPU: windowCPU, windowStorage: storage, workerIdleMegabytes: idle,
                        workerPeakMegabytes: peak, smallTicks: .init(latencies), concurrentSmallTicks: .init(concurrentLatencies), sliding: sliding,
                        readerFetchWaitMilliseconds: Self.readerFetchWaitMs, ledger: ledger,
                        scaling: scaling, librdkafka: KafkaLibrary.version)
                }
            }
        }
    }

    /// Ticks sent sliding over the big window.
    static let slidingTicks = 3

    /// Ticks of the event reminder for the slots after the big window's, 5 minutes apart,
    /// one after another: each reads the big window's rows again (its window still covers
    /// them), finds every one in the ledger and alerts none. Each is timed from its
    /// publication until the worker recorded it completed.
    private func slidingTicks(
        client: PostgresClient, ticksTopic: String, worker: WorkerProcess, producer: KafkaProducer
    ) async throws -> PipelineBenchmarkReport.Sliding {
        try phase("\(Self.slidingTicks) ticks sliding over the big window, 5 minutes apart (its items all alerted already)…")
        let job = BuiltInJobs.eventReminder
        var seconds: [Double] = []
        var rows = 0
        let start = CPUUsage.Snapshot.take(worker: worker.child.process.processIdentifier)
        for index in 1...Self.slidingTicks {
            let tick = TickMessage(job: job, slot: slot.addingTimeInterval(Double(index) * 300), producedAt: Date())
            for try await count in try await client.query(
                "SELECT count(*)::int FROM events WHERE starts_at >= \(tick.windowStart) AND starts_at < \(tick.windowEnd)"
            ).decode(Int.self) { rows += count }
            let started = ContinuousClock.now
            try await publish([tick], to: ticksTopic, partition: 0, with: producer)
            try await eventually("tick \(tick.tickId) did not complete", within: .seconds(120)) { try await completed(tick.tickId, client) }
            seconds.append((ContinuousClock.now - started).seconds)
        }
        let cpu = CPUUsage.between(start, CPUUsage.Snapshot.take(worker: worker.child.process.processIdentifier))
        return .init(ticks: seconds, rows: rows, workerCPUSeconds: cpu?.worker)
    }

    private func walPosition(_ client: PostgresClient) async throws -> String {
        for try await position in try await client.query("SELECT pg_current_wal_lsn()::text").decode(String.self) { return position }
        throw BenchmarkFailure("PostgreSQL returned no WAL position")
    }

    /// What the big window left in PostgreSQL once its tick completed: the WAL the
    /// cluster wrote since `walStart` (before the tick; the benchmark runs alone, so
    /// that is the window's ledger writes, its completion and audit row, and whatever
    /// autovacuum did meanwhile), and the size of the window's day partition of the
    /// alert ledger, which then holds the window's alerts alone.
    private func windowStorage(client: PostgresClient, walStart: String) async throws -> PipelineBenchmarkReport.WindowStorage {
        let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: Date())
        try await eventually("tick \(tick.tickId) did not complete") { try await completed(tick.tickId, client) }
        let day = AlertLedger.utcDay(of: slot)
        let partition = "worker_alert_pages_" + day.formatted(Date.ISO8601FormatStyle().year().month().day().dateSeparator(.omitted))
        for try await (wal, partitionBytes, alerts) in try await client.query(
            """
            SELECT (pg_current_wal_lsn() - \(walStart)::pg_lsn)::float8, pg_total_relation_size(to_regclass(\(partition)))::float8,
                   (SELECT coalesce(sum(items), 0) FROM worker_alert_pages WHERE first_due >= \(day) AND first_due < \(day.addingTimeInterval(86_400)))::float8
            """
        ).decode((Double, Double?, Double).self) {
            return .init(walBytesPerAlert: wal / Double(due), ledgerBytesPerAlert: alerts > 0 ? partitionBytes.map { $0 / alerts } : nil)
        }
        throw BenchmarkFailure("PostgreSQL returned no WAL or ledger sizes")
    }

    private func completed(_ tickId: String, _ client: PostgresClient) async throws -> Bool {
        for try await _ in try await client.query("SELECT 1 FROM worker_ticks_completed WHERE tick_id = \(tickId)") { return true }
        return false
    }

    /// The reader's own `fetch.wait.max.ms`, part of every latency measured.
    static let readerFetchWaitMs = 5
    /// Open tasks due in each task-reminder window: the small ticks sent while the big window runs.
    static let concurrentTasks = 20
    /// Small ticks sent while the big window runs, at most (one after another).
    static let concurrentTicks = 8

    /// The slot of the `index`th small tick sent while the big window runs: 3 hours apart
    /// from the big window's slot on (another job: the windows do not meet).
    private func concurrentSlot(_ index: Int) -> Date { slot.addingTimeInterval(Double(index) * 10_800) }

    private func runSharded(
        workers count: Int, window: Int, settings workerSettings: [String: String], ticksTopic: String, reader: AlertReader,
        producer: KafkaProducer
    ) async throws -> PipelineBenchmarkReport.Scaling {
        var job = BuiltInJobs.eventReminder
        job.shards = workers
        let jobsFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(id)-jobs.json")
        try Data(#"{"jobs": [{"name": "event-reminder", "shards": \#(workers)}]}"#.utf8).write(to: jobsFile)
        defer { try? FileManager.default.removeItem(at: jobsFile) }
        var environment = workerSettings
        environment["JOBS_FILE"] = jobsFile.path
        environment["WORKER_GROUP_ID"] = "bench-\(id)-sharded-\(count)"
        var processes: [WorkerProcess] = []
        let last: ContinuousClock.Instant
        let started: ContinuousClock.Instant
        do {
            for _ in 0..<count { processes.append(try WorkerProcess(kafka: settings.kafka, settings: environment)) }
            for process in processes { try await process.waitUntilReady() }
            reader.reset()
            let slot = slot.addingTimeInterval(-86_400 * Double(window))
            started = ContinuousClock.now
            try await publish((0..<workers).map { TickMessage(job: job, slot: slot, shard: $0, producedAt: Date()) }, to: ticksTopic, with: producer)
            (_, last) = try await reader.wait(for: due, within: .seconds(600))
        } catch {
            for process in processes { await process.stop() }
            throw error
        }
        for process in processes { await process.stop() }
        let seconds = (last - started).seconds
        return .init(workers: count, alerts: due, seconds: seconds, alertsPerSecond: Double(due) / seconds)
    }

    /// Big windows seeded: the main one, two for the sharded runs, those of the ledger
    /// runs, the busy one (small ticks of another job while it runs).
    private var windowCount: Int { 1 + (workers > 1 ? 2 : 0) + (ledgerRows > 0 ? 2 * Self.ledgerRuns : 0) + 1 }

    /// The busy window's slot: the last of the big windows' days.
    private var busySlot: Date { slot.addingTimeInterval(-86_400 * Double(windowCount - 1)) }

    /// Windows through the worker on the empty ledger, and as many after `ledgerRows`.
    static let ledgerRuns = 3

    /// The slot of the `index`th window of the ledger runs (after the main and the sharded ones).
    private func ledgerSlot(_ index: Int) -> Date { slot.addingTimeInterval(-86_400 * Double(1 + (workers > 1 ? 2 : 0) + index)) }

    /// The C loop with the alerts' value size and headers, producing `due` records into
    /// the alerts topic while the reader follows it: timed from its start to the reader's
    /// last record, as a window is timed from its tick to the reader's last alert, so the
    /// reader's CPU and the broker's fetches for it weigh on both.
    /// - Returns: its throughput to the reader's last record, with where the CPU went
    ///   meanwhile (the C loop and the reader share the benchmark's process), and to the
    ///   loop's own last delivery report (which of the two sets the pace).
    private func readBaseline(
        _ baseline: BaselineProducer, topic: String, record: (valueBytes: Int, headers: [(name: String, size: Int)], bytes: Int),
        reader: AlertReader
    ) async throws -> (read: KafkaBenchmarkReport.Throughput, produced: KafkaBenchmarkReport.Throughput) {
        reader.reset()
        let started = ContinuousClock.now
        let cpuStart = CPUUsage.Snapshot.take(worker: nil)
        let produced = try await baseline.produce(topic: topic, messages: due, size: record.valueBytes, headers: record.headers)
        let (_, last) = try await reader.wait(for: due, within: .seconds(600))
        var throughput = KafkaBenchmarkReport.Throughput(messages: due, size: record.valueBytes, seconds: (last - started).seconds)
        throughput.cpu = CPUUsage.between(cpuStart, CPUUsage.Snapshot.take(worker: nil))
        return (throughput, produced)
    }

    /// One tick for a big window through the running worker, read to its last alert.
    private func runWindow(
        slot: Date, ticksTopic: String, reader: AlertReader, producer: KafkaProducer
    ) async throws -> PipelineBenchmarkReport.Window {
        reader.reset()
        let started = ContinuousClock.now
        try await publish([TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: Date())], to: ticksTopic, partition: 0, with: producer)
        let (first, last) = try await reader.wait(for: due, within: .seconds(600))
        return .init(alerts: due, firstAlertSeconds: (first - started).seconds, seconds: (last - started).seconds)
    }

    /// One tick for the busy window and, once its alerts flow, 20-item ticks of another
    /// job on another partition, one after another while it runs (each waits for all
    /// its alerts before the next is sent): tick → first alert of each.
    private func concurrentTickLatencies(ticksTopic: String, reader: AlertReader, producer: KafkaProducer) async throws -> [Double] {
        reader.reset()
        try await publish([TickMessage(job: BuiltInJobs.eventReminder, slot: busySlot, producedAt: Date())], to: ticksTopic, partition: 0, with: producer)
        _ = try await reader.waitForFirstArrival(ofJob: BuiltInJobs.eventReminder.name, within: .seconds(60))
        var latencies: [Double] = []
        while latencies.count < Self.concurrentTicks, reader.received(ofJob: BuiltInJobs.eventReminder.name) < due {
            reader.forgetFirstArrival(ofJob: BuiltInJobs.taskReminder.name)
            let started = ContinuousClock.now
            let tick = TickMessage(job: BuiltInJobs.taskReminder, slot: concurrentSlot(latencies.count), producedAt: Date())
            try await publish([tick], to: ticksTopic, partition: 1, with: producer)
            let first = try await reader.waitForFirstArrival(ofJob: BuiltInJobs.taskReminder.name, within: .seconds(60))
            latencies.append((first - started).seconds)
            try await reader.wait(forJob: BuiltInJobs.taskReminder.name, count: latencies.count * Self.concurrentTasks, within: .seconds(60))
        }
        _ = try await reader.wait(for: due + latencies.count * Self.concurrentTasks, within: .seconds(600))
        return latencies
    }

    /// The warm-up tick's slot (task reminders), apart from every other window.
    private var warmUpSlot: Date { slot.addingTimeInterval(-86_400 * 20) }

    private func smallSlot(_ index: Int) -> Date { slot.addingTimeInterval(-86_400 * 30 + Double(index) * 10_800) }

    /// Inserts the windows' items and the rest in later days.
    private func seed(_ client: PostgresClient) async throws {
        let smallStart = windowCount * due
        let small = smallTicks * smallDue
        guard total >= smallStart + small else {
            throw BenchmarkFailure("--rows must be at least \(smallStart + small) for these windows")
        }
        let smallBase = smallSlot(0)
        try await client.query(
            """
            INSERT INTO events (user_id, title, starts_at)
            SELECT 'user-' || (n % \(users)), 'Event ' || n,
                   CASE WHEN n <= \(smallStart) THEN \(slot) - ((n - 1) / \(due)) * interval '1 day' + (n % 3600) * interval '1 second'
                        WHEN n <= \(smallStart + small) THEN \(smallBase) + ((n - \(smallStart) - 1) / \(smallDue)) * interval '3 hours'
                                                             + ((n - \(smallStart)) % 1800) * interval '1 second'
                        ELSE \(slot) + interval '2 days' + (n % 2000000) * interval '1 second' END
            FROM generate_series(1, \(total)) AS n
            """)
        try await client.query(
            """
            INSERT INTO tasks (user_id, title, due_at, status)
            SELECT 'user-' || n, 'Task ' || n, \(slot) + (n / \(Self.concurrentTasks)) * interval '3 hours' + (n % \(Self.concurrentTasks)) * interval '1 minute', 'open'
            FROM generate_series(0, \(Self.concurrentTicks * Self.concurrentTasks - 1)) AS n
            UNION ALL
            SELECT 'user-' || n, 'Warm-up ' || n, \(warmUpSlot) + n * interval '1 minute', 'open' FROM generate_series(1, \(Self.concurrentTasks)) AS n
            """)
        // Vacuumed as autovacuum leaves a table that has been in use a while (its pages
        // all-visible), not as a bulk load leaves it.
        try await client.query("VACUUM (ANALYZE) events")
    }

    /// The big window's query alone, read to its end (no publishing).
    private func timeQuery(_ client: PostgresClient) async throws -> (rows: Int, seconds: Double) {
        let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: Date())
        let started = ContinuousClock.now
        let rows = try await ReminderStore(client: client, logger: logger).forEachDuePage(
            job: BuiltInJobs.eventReminder, tick: tick, pageSize: 2_000) { _ in }.total
        guard rows == due else { throw BenchmarkFailure("the window holds \(rows) rows, not \(due)") }
        return (rows, (ContinuousClock.now - started).seconds)
    }

    private func publish(_ ticks: [TickMessage], to topic: String, partition: Int32? = nil, with producer: KafkaProducer) async throws {
        for result in await producer.send(ticks.map {
            KafkaProducerMessage(topic: topic, partition: partition, key: Array($0.partitionKey.utf8), value: MessageCoding.encode($0))
        }) {
            _ = try result.get()
        }
    }

    /// A typical benchmark alert's record: its value's size and its headers' names and
    /// value sizes.
    private static func alertRecord() -> (valueBytes: Int, headers: [(name: String, size: Int)], bytes: Int) {
        let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: Date(), producedAt: Date())
        let writer = AlertWriter(job: BuiltInJobs.eventReminder, tick: tick, createdAt: Date())
        let item = DueItem(
            itemId: "123456", userId: "user-1234", title: "Event 123456", dueAt: Date(), payloadJSON: #"{"kind":"event","event_id":123456}"#)
        let alert = writer.write(item)
        let headers = [
            ("alert-id", alert.id.count), ("job-name", writer.jobName.utf8.count),
            ("schema-version", String(MessageCoding.schemaVersion).count), ("content-type", "application/json".count),
            ("traceparent", 55),
        ]
        return (alert.json.count, headers, alert.json.count + headers.reduce(0) { $0 + $1.0.utf8.count + $1.1 })
    }

    /// Polls `condition` every 2 ms until it holds. - Throws: `failure` after `limit`.
    private func eventually(_ failure: String, within limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        guard try await poll(every: .milliseconds(2), within: limit, until: condition) else { throw BenchmarkFailure("\(failure) within \(limit)") }
    }
}
