import Foundation
import Kafka
import Logging
import Observability
import PostgresNIO
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// A private world for one pipeline test: its own PostgreSQL schema (migrated), its own
/// ticks and alerts topics and worker group, and helpers to publish ticks and read alerts.
struct PipelineHarness {
    let schema: String
    let ticksTopic: String
    let alertsTopic: String
    let dlqTopic: String
    let group: String
    let databaseURL: String
    let client: PostgresClient
    let logger = TestEnvironment.logger

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Creates the schema (migrated unless `migrated` is false) and topics and runs `body`
    /// with a running pool on the schema. The ticks topic has `ticksPartitions`
    /// partitions (``partitions`` by default), the alerts topic ``partitions``.
    static func with(migrated: Bool = true, ticksPartitions: Int32 = partitions, _ body: (PipelineHarness) async throws -> Void) async throws {
        let schema = TestEnvironment.unique("test").replacingOccurrences(of: "-", with: "_")
        let baseURL = try TestEnvironment.variable("POSTGRES_URL")
        let url = baseURL + (baseURL.contains("?") ? "&" : "?") + "schema=\(schema)"
        let ticksTopic = TestEnvironment.unique("ticks"), alertsTopic = TestEnvironment.unique("alerts"), dlqTopic = TestEnvironment.unique("dlq")
        try await TestEnvironment.createTopic(ticksTopic, partitions: ticksPartitions)
        try await TestEnvironment.createTopic(alertsTopic, partitions: partitions)
        try await TestEnvironment.createTopic(dlqTopic, partitions: 1)
        try await withPostgresClient(try DatabaseSettings(url: baseURL), logger: TestEnvironment.logger) { admin in
            try await admin.query("CREATE SCHEMA \(unescaped: schema)")
            try await withPostgresClient(try DatabaseSettings(url: url), logger: TestEnvironment.logger) { client in
                let harness = PipelineHarness(
                    schema: schema, ticksTopic: ticksTopic, alertsTopic: alertsTopic, dlqTopic: dlqTopic,
                    group: TestEnvironment.unique("workers"), databaseURL: url, client: client)
                if migrated { try await harness.migrate() }
                try await body(harness)
            }
            try await admin.query("DROP SCHEMA \(unescaped: schema) CASCADE")
        }
    }

    /// Applies the repository's migrations to this harness's schema.
    func migrate() async throws {
        try await Migrator(directory: Self.repositoryRoot.appendingPathComponent("Migrations"), client: client, logger: logger).migrate()
    }

    /// A silent wait for this harness's migrations, for services built by hand.
    var migrationWait: MigrationWait {
        MigrationWait(database: client, condition: nil, health: HealthState(stage: "worker"), logger: logger)
    }

    /// Engine settings pointing at this harness's schema, topics and group (`extra`
    /// variables win).
    func settings(jobsFile: String? = nil, extra: [String: String] = [:]) async throws -> EngineSettings {
        try await EngineSettings.load(environment: try environment(jobsFile: jobsFile, extra: extra))
    }

    /// The environment variables of ``settings(jobsFile:extra:)``, for a `proactivity` process.
    func environment(jobsFile: String? = nil, extra: [String: String] = [:]) throws -> [String: String] {
        var environment = [
            "KAFKA_BOOTSTRAP_SERVERS": try TestEnvironment.variable("KAFKA_BOOTSTRAP_SERVERS"),
            "KAFKA_SESSION_TIMEOUT_MS": "6000", "KAFKA_FETCH_WAIT_MAX_MS": "20",
            "POSTGRES_URL": databaseURL, "TOPICS_TICKS": ticksTopic, "TOPICS_ALERTS": alertsTopic,
            "WORKER_GROUP_ID": group, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": "0", "TOPICS_DLQ": dlqTopic,
            "DLQ_MIRROR_GROUP_ID": group + "-mirror", "DLQ_API_TOKEN": Self.apiToken,
            // The tests' fixed slots lie years back; with the default 30 days the workers
            // would refuse them as older than the ledger remembers (StaleTickTests).
            "LEDGER_RETENTION": "3650d",
        ]
        environment["JOBS_FILE"] = jobsFile
        environment.merge(extra) { $1 }
        return environment
    }

    static let apiToken = "test-token-\(UUID().uuidString)"

    /// Runs stages (a worker by default, as `proactivity worker` does) while `body` runs.
    func withWorker<T>(
        stages: Set<StageAssembly.Stage> = [.worker], jobsFile: String? = nil, environment: [String: String] = [:],
        _ body: (StageAssembly) async throws -> T
    ) async throws -> T {
        let assembly = try StageAssembly(
            stages: stages, settings: try await settings(jobsFile: jobsFile, extra: environment), logger: logger)
        return try await assembly.running { try await body(assembly) }
    }

    /// Publishes ticks as the tick producer does.
    func publish(_ ticks: [TickMessage]) async throws {
        let producer = try TestEnvironment.producer()
        for result in await producer.send(ticks.map { tick in
            KafkaProducerMessage(topic: ticksTopic, key: Array(tick.partitionKey.utf8), value: MessageCoding.encode(tick))
        }) {
            _ = try result.get()
        }
        try await producer.close()
    }

    /// Writes a jobs file (JSON) for this harness and returns its path.
    func jobsFile(_ json: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(schema)-jobs-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: file)
        return file.path
    }

    func execute(_ query: PostgresQuery) async throws {
        try await client.query(query)
    }

    /// Records in the alert ledger, as a worker would after delivery, the alerts `rows`
    /// selects (an SQL query of two columns: item id and due time), one page per UTC day.
    func recordInLedger(job: String = "event-reminder", tickId: String, _ rows: String) async throws {
        try await recordInLedger(job: job, tickId: tickId, rows: rows, binds: PostgresBindings())
    }

    /// Records these alerts in the alert ledger, one page per UTC day.
    func recordInLedger(job: String = "event-reminder", tickId: String, items: [(itemId: String, dueAt: Date)]) async throws {
        var binds = PostgresBindings()
        binds.append(items.map(\.itemId))
        binds.append(items.map(\.dueAt))
        try await recordInLedger(job: job, tickId: tickId, rows: "SELECT * FROM unnest($1::text[], $2::timestamptz[])", binds: binds)
    }

    /// `rows` may use the first parameters of `binds`; job and tick follow them.
    private func recordInLedger(job: String, tickId: String, rows: String, binds: PostgresBindings) async throws {
        var binds = binds
        binds.append(job)
        binds.append(tickId)
        let job = binds.count - 1, tick = binds.count
        try await client.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats)
                    SELECT $\(job), $\(tick), min(due_at), max(due_at), count(*)::int,
                           array_agg(item_id ORDER BY due_at), array_agg(due_at ORDER BY due_at)
                    FROM (\(rows)) AS alert(item_id, due_at)
                    GROUP BY (due_at AT TIME ZONE 'UTC')::date
                    """, binds: binds))
    }

    func count(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await client.query(query).decode(Int.self) { return value }
        return 0
    }

    /// Waits until the worker has completed these ticks.
    func waitForCompletion(of ticks: [TickMessage], within timeout: Duration = .seconds(60)) async throws {
        let ids = ticks.map(\.tickId)
        try await eventually(within: timeout, "ticks completed: \(ids)") {
            try await count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = ANY(\(ids))") == Set(ids).count
        }
    }

    /// Every alert on the alerts topic so far, decoded, in the order of each partition.
    func alerts() async throws -> [(alert: AlertMessage, key: String?, headerID: String?)] {
        try await alertRecords().map { record in
            (try MessageCoding.decode(AlertMessage.self, from: record.value ?? []), record.keyString, record.headers.string(named: "alert-id"))
        }
    }

    /// Every record on the alerts topic so far, as it is, in the order of each partition.
    /// A sentinel record is written to each partition first; reading until every
    /// sentinel arrived proves that everything written before it was read (per-partition
    /// order), without relying on timing.
    func alertRecords() async throws -> [KafkaConsumerMessage] {
        try await records(in: alertsTopic)
    }

    /// Every record of one of this harness's topics (``partitions`` partitions), read
    /// up to sentinels as ``alertRecords()`` does.
    func records(in topic: String) async throws -> [KafkaConsumerMessage] {
        let run = UUID().uuidString
        let producer = try TestEnvironment.producer()
        for partition in 0..<Self.partitions {
            _ = try await producer.send(
                KafkaProducerMessage(topic: topic, partition: partition, value: Array("sentinel".utf8), headers: [KafkaHeader(name: "sentinel", string: run)]))
        }
        try await producer.close()
        let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("read"), topics: [topic])
        var result: [KafkaConsumerMessage] = []
        var sentinels = 0
        for try await message in consumer.messages {
            consumer.markProcessed(message)
            if let sentinel = message.headers.string(named: "sentinel") {
                if sentinel == run { sentinels += 1 }
                if sentinels == Self.partitions { break }
                continue
            }
            result.append(message)
        }
        try await consumer.close()
        return result
    }

    static let partitions: Int32 = 3
}
