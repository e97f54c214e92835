import Configuration
import Foundation
import Kafka
import Logging
import ProactivityCore
import ProactivityStore

/// Everything a stage needs to know, read through ``SettingsReader``: the command line,
/// environment variables, an optional JSON file (`PROACTIVITY_CONFIG_FILE`), defaults.
///
/// | key (file) | environment | default |
/// | --- | --- | --- |
/// | `kafka.bootstrapServers` | `KAFKA_BOOTSTRAP_SERVERS` | `localhost:9092` |
/// | any librdkafka property | `KAFKA_<NAME>` (`KAFKA_SASL_PASSWORD` → `sasl.password`) | |
/// | `postgres.url` | `POSTGRES_URL` (secret) | required |
/// | `topics.ticks` / `topics.alerts` / `topics.dlq` | `TOPICS_TICKS` … | from `topics/` |
/// | `worker.groupId` | `WORKER_GROUP_ID` | `proactivity-workers` |
/// | `dlq.mirrorGroupId` | `DLQ_MIRROR_GROUP_ID` | `proactivity-dlq-mirror` |
/// | `dlq.apiToken` | `DLQ_API_TOKEN` (secret) | none: the DLQ HTTP API is disabled |
/// | `console.secureCookie` | `CONSOLE_SECURE_COOKIE` | `false`: the console's session cookie is `Secure` only for requests with `X-Forwarded-Proto: https`; `true` always |
/// | `dlq.replayTopics` | `DLQ_REPLAY_TOPICS` | the ticks topic: the only topics replay may publish to (comma-separated) |
/// | `worker.retryAttempts` | `WORKER_RETRY_ATTEMPTS` | `5` (transient failures, then the DLQ) |
/// | `worker.fetchWaitMs` | `WORKER_FETCH_WAIT_MS` | `10`: how long the ticks consumer's fetch may wait for data |
/// | `worker.pageSize` | `WORKER_PAGE_SIZE` | `2000`: rows per page of a tick's window (read, published, recorded together; the first page at most 200) |
/// | `worker.instanceId` | `WORKER_INSTANCE_ID` | none: static group membership (`group.instance.id`) off; `hostname` uses the host name |
/// | `ledger.retention` | `LEDGER_RETENTION` | `30d`: how long the alert and tick ledgers and audit rows are kept |
/// | `dlq.autoReplay.enabled` | `DLQ_AUTO_REPLAY_ENABLED` | `false` |
/// | `dlq.autoReplay.maxReplays` | `DLQ_AUTO_REPLAY_MAX_REPLAYS` | `3` |
/// | `dlq.autoReplay.backoff` / `.interval` | `DLQ_AUTO_REPLAY_BACKOFF` / `_INTERVAL` | `5m` / `1m` |
/// | `http.host` / `http.port` | `HTTP_HOST` / `HTTP_PORT` | `0.0.0.0` / `9100` |
/// | `engine.timezone` | `ENGINE_TIMEZONE` | `UTC` (cron jobs without a zone) |
/// | `jobs.file` | `JOBS_FILE` | none (built-in jobs) |
/// | `log.level` / `log.format` | `LOG_LEVEL` / `LOG_FORMAT` | `info` / `json` |
/// | `shutdown.timeout` | `SHUTDOWN_TIMEOUT` | `30s` (graceful shutdown bound) |
/// | `proactivity.migrationsDir` / `.topicsDir` | `PROACTIVITY_MIGRATIONS_DIR` / `PROACTIVITY_TOPICS_DIR` | found by ``ResourceLocator`` |
///
/// The command line (`--bootstrap-servers`, `-X`, `--log-level`) wins over all of them.
public struct EngineSettings: Sendable {
    public var kafka: KafkaConfiguration
    public var database: DatabaseSettings
    public var ticksTopic: String
    public var alertsTopic: String
    public var dlqTopic: String
    public var workerGroupID: String
    public var mirrorGroupID: String
    public var dlqAPIToken: String?
    /// The topics replay may publish to: the engine's own input topics. A DLQ record
    /// naming another origin (a forged record naming the alerts topic) is not replayed.
    public var replayTopics: Set<String>
    /// Attempts for a tick whose failure is transient while the database answers.
    public var workerRetryAttempts: Int
    /// The ticks consumer's `fetch.wait.max.ms`: brokers that answer a waiting fetch only
    /// when it runs out (Tansu) add up to this much to every tick's latency; lower costs
    /// an idle worker a little more CPU.
    public var workerFetchWaitMilliseconds: Int
    /// Rows per page of a tick's window: read, published and recorded together.
    public var workerPageSize: Int
    /// The worker's static group membership id (`group.instance.id`): a worker that
    /// restarts within the session timeout gets its partitions back without a group-wide
    /// rebalance. Off by default: it must be unique per worker and stable across its
    /// restarts (a StatefulSet pod name, a per-host service name); two workers with one
    /// id fence each other.
    public var workerInstanceID: String?
    /// How long ledger and audit rows are kept, in seconds (at least the longest window
    /// plus catch-up grace, so dedupe never forgets an item that can come back).
    public var ledgerRetention: TimeInterval
    /// The periodic reprocessing of transient dead letters; `nil` when off.
    public var autoReplay: AutoReplayPolicy?
    public var httpHost: String
    public var httpPort: Int
    public var timeZone: TimeZone
    public var jobs: JobCatalog
    public var jobsFile: String?
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// How long a graceful shutdown may take before the rest is cancelled.
    public var shutdownTimeout: Duration
    /// Whether the console's session cookie is always `Secure` (the console is served
    /// behind TLS); otherwise only requests with `X-Forwarded-Proto: https` get it.
    public var consoleSecureCookie = false
    /// The `Migrations` folder named by `PROACTIVITY_MIGRATIONS_DIR`; `nil`: ``ResourceLocator`` looks for it.
    public var migrationsDirectory: String?
    /// The `topics` folder named by `PROACTIVITY_TOPICS_DIR`; `nil`: ``ResourceLocator`` looks for it.
    public var topicsDirectory: String?

    /// Configuration that cannot be used, with every problem found.
    public struct Invalid: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String {
            "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// Reads the settings through the one provider stack (``SettingsReader``).
    /// - Parameters:
    ///   - environment: the variables to read (the process environment by default).
    ///   - commandLine: what the command line sets (wins over all).
    /// - Throws: ``Invalid`` listing every problem; secret values never appear in it.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        commandLine: CommandLineValues = .init()
    ) async throws(Invalid) -> EngineSettings {
        var config = await SettingsReader(environment: environment, commandLine: commandLine)
        let kafka = kafka(&config, clientID: "proactivity", statisticsInterval: .seconds(15))

        var database: DatabaseSettings?
        if let url = config.secret("postgres.url") {
            do {
                database = try DatabaseSettings(url: url)
            } catch {
                config.refuse("POSTGRES_URL: \(error)")
            }
        } else {
            config.refuse("POSTGRES_URL is not set (postgres://user:password@host:5432/database)")
        }
        let maximumConnections = config.int(
            "postgres.maxConnections", in: DatabaseSettings.maximumConnectionsRange, default: DatabaseSettings.defaultMaximumConnections)
        database?.maximumConnections = maximumConnections

        let port = config.int("http.port", in: 0...65535, default: 9100)
        let (jobs, jobsFile, timeZone) = Self.jobs(&config)
        let logLevel = config.choice("log.level", default: Logger.Level.info)
        let logFormat = config.choice("log.format", default: LogFormat.json)

        func duration(_ key: String, default value: Int) -> Int {
            config.value(key, as: ConfiguredDuration.self, default: ConfiguredDuration(seconds: value), refusal: "is not a duration from 1s to 100 years (30s, 5m, 1h)")?.seconds ?? value
        }
        let shutdownTimeout = duration("shutdown.timeout", default: 30)
        let retryAttempts = config.int("worker.retryAttempts", in: 1...1000, default: 5)
        let fetchWait = config.int("worker.fetchWaitMs", in: 1...1000, default: 10)
        let pageSize = config.int("worker.pageSize", in: 1...100_000, default: 2000)
        var instanceID = config.string("worker.instanceId")
        if instanceID == "hostname" { instanceID = ProcessInfo.processInfo.hostName }
        if let id = instanceID, !Self.isValidInstanceID(id) {
            config.refuse("WORKER_INSTANCE_ID '\(id.prefix(300))' must be 1 to 249 characters of A-Z a-z 0-9 . _ - (or 'hostname')")
        }
        let autoReplayEnabled = config.bool("dlq.autoReplay.enabled", default: false)
        let autoReplay = AutoReplayPolicy(
            maxReplays: config.int("dlq.autoReplay.maxReplays", in: 1...1000, default: 3),
            backoff: TimeInterval(duration("dlq.autoReplay.backoff", default: 300)),
            interval: TimeInterval(duration("dlq.autoReplay.interval", default: 60)))

        let retention = duration("ledger.retention", default: 30 * 86_400)
        let needed = jobs.enabled.map { $0.windowSeconds + $0.catchUpGraceSeconds }.max() ?? 0
        if retention < needed {
            config.refuse(
                "LEDGER_RETENTION \(DurationText.format(retention)) is shorter than the longest window plus catch-up grace (\(DurationText.format(needed))): items could be alerted again")
        }

        let ticksTopic = config.string("topics.ticks", default: "proactivity.ticks")
        let replayTopics = Set(config.list("dlq.replayTopics") ?? [ticksTopic])
        let apiToken = config.secret("dlq.apiToken")
        if let apiToken, apiToken.trimmingCharacters(in: .whitespaces).isEmpty {
            config.refuse("DLQ_API_TOKEN is empty: unset it to disable the DLQ API, or set a long random token")
        }
        if replayTopics.isEmpty { config.refuse("DLQ_REPLAY_TOPICS names no topic (default: the ticks topic)") }
        let secureCookie = config.bool("console.secureCookie", default: false)
        let alertsTopic = config.string("topics.alerts", default: "proactivity.alerts")
        let dlqTopic = config.string("topics.dlq", default: "proactivity.dlq")
        let workerGroupID = config.string("worker.groupId", default: "proactivity-workers")
        let mirrorGroupID = config.string("dlq.mirrorGroupId", default: "proactivity-dlq-mirror")
        let httpHost = config.string("http.host", default: "0.0.0.0")
        let migrationsDirectory = config.string("proactivity.migrationsDir")
        let topicsDirectory = config.string("proactivity.topicsDir")

        guard config.problems.isEmpty, let database, let timeZone else { throw Invalid(problems: config.problems) }
        var settings = EngineSettings(
            kafka: kafka, database: database,
            ticksTopic: ticksTopic, alertsTopic: alertsTopic, dlqTopic: dlqTopic,
            workerGroupID: workerGroupID, mirrorGroupID: mirrorGroupID,
            dlqAPIToken: apiToken, replayTopics: replayTopics,
            workerRetryAttempts: retryAttempts, workerFetchWaitMilliseconds: fetchWait, workerPageSize: pageSize, workerInstanceID: instanceID,
            ledgerRetention: TimeInterval(retention), autoReplay: autoReplayEnabled ? autoReplay : nil,
            httpHost: httpHost, httpPort: port,
            timeZone: timeZone, jobs: jobs, jobsFile: jobsFile, logLevel: logLevel, logFormat: logFormat,
            shutdownTimeout: .seconds(shutdownTimeout))
        settings.consoleSecureCookie = secureCookie
        settings.migrationsDirectory = migrationsDirectory
        settings.topicsDirectory = topicsDirectory
        return settings
    }

    /// The Kafka client settings and the log level, through the same stack as ``load(environment:commandLine:)``:
    /// what a command that talks only to Kafka needs (no database URL required).
    /// - Throws: ``Invalid`` listing every problem.
    public static func loadKafka(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        commandLine: CommandLineValues = .init(),
        clientID: String
    ) async throws(Invalid) -> (KafkaConfiguration, Logger.Level) {
        var config = await SettingsReader(environment: environment, commandLine: commandLine)
        let kafka = kafka(&config, clientID: clientID, statisticsInterval: nil)
        let level = config.choice("log.level", default: Logger.Level.info)
        guard config.problems.isEmpty else { throw Invalid(problems: config.problems) }
        return (kafka, level)
    }

    /// The variables that give a process this Kafka configuration: its bootstrap servers
    /// and every librdkafka property (`security.protocol` as `KAFKA_SECURITY_PROTOCOL`), which
    /// ``load(environment:commandLine:)`` reads back as they were (librdkafka's property
    /// names have no underscore). How a command hands its own Kafka settings, `-X` ones
    /// included, to a stage it starts, without putting a secret on a command line.
    public static func environment(for kafka: KafkaConfiguration) -> [String: String] {
        var environment = ["KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrapServers]
        for (name, value) in kafka.properties {
            environment["KAFKA_" + name.uppercased().replacingOccurrences(of: ".", with: "_")] = value
        }
        return environment
    }

    /// Whether `id` is a valid `group.instance.id` (the characters and length of a topic name).
    static func isValidInstanceID(_ id: String) -> Bool {
        (1...249).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// The job catalog and the engine's time zone alone (`JOBS_FILE`, `ENGINE_TIMEZONE`,
    /// `PROACTIVITY_CONFIG_FILE`): what `jobs list` and `jobs next` need, without a
    /// database or broker.
    /// - Throws: ``Invalid`` listing every problem.
    public static func loadJobs(environment: [String: String] = ProcessInfo.processInfo.environment) async throws(Invalid) -> (JobCatalog, TimeZone) {
        var config = await SettingsReader(environment: environment)
        let (jobs, _, timeZone) = Self.jobs(&config)
        guard config.problems.isEmpty, let timeZone else { throw Invalid(problems: config.problems) }
        return (jobs, timeZone)
    }

    /// The Kafka client configuration: bootstrap servers, `KAFKA_*` and `-X` properties.
    private static func kafka(_ config: inout SettingsReader, clientID: String, statisticsInterval: Duration?) -> KafkaConfiguration {
        let kafka = KafkaConfiguration(
            bootstrapServers: config.string("kafka.bootstrapServers", default: "localhost:9092"),
            clientID: config.string("kafka.clientId", default: clientID),
            statisticsInterval: statisticsInterval,
            properties: config.kafkaProperties)
        for problem in kafka.problems { config.refuse("\(problem) (from KAFKA_* or -X)") }
        return kafka
    }

    /// The engine's time zone and job catalog (built-ins, then the jobs file).
    private static func jobs(_ config: inout SettingsReader) -> (JobCatalog, String?, TimeZone?) {
        let timeZone = config.value(
            "engine.timezone", as: ConfiguredTimeZone.self, default: ConfiguredTimeZone(configString: "UTC"), refusal: "is not a known time zone"
        )?.timeZone
        let jobsFile = config.string("jobs.file")
        var jobs = JobCatalog(builtInsIn: timeZone ?? .gmt)
        if let jobsFile {
            if let data = FileManager.default.contents(atPath: jobsFile) {
                do {
                    jobs = try JobCatalog(builtInsIn: timeZone ?? .gmt, overlay: data)
                } catch {
                    for problem in error.problems { config.refuse("JOBS_FILE \(jobsFile): \(problem)") }
                }
            } else {
                config.refuse("JOBS_FILE \(jobsFile) cannot be read")
            }
        }
        return (jobs, jobsFile, timeZone)
    }

    /// The topic name for a role of `topics/` (`ticks`, `alerts`, `dlq`).
    public func topicName(role: String, default name: String) -> String {
        switch role {
        case "ticks": ticksTopic
        case "alerts": alertsTopic
        case "dlq": dlqTopic
        default: name
        }
    }

    /// The effective settings as (name, value) lines, secrets redacted.
    public var redactedLines: [(String, String)] {
        var lines: [(String, String)] = [
            ("kafka.bootstrapServers", kafka.bootstrapServers),
            ("postgres.url", database.description),
            ("postgres.maxConnections", "\(database.maximumConnections) (window cursors at once: \(database.windowCursorLimit))"),
            ("topics.ticks", ticksTopic), ("topics.alerts", alertsTopic), ("topics.dlq", dlqTopic),
            ("worker.groupId", workerGroupID), ("dlq.mirrorGroupId", mirrorGroupID),
            ("dlq.apiToken", dlqAPIToken == nil ? "(not set: DLQ API disabled)" : "[redacted]"),
            ("dlq.replayTopics", replayTopics.sorted().joined(separator: ",")), ("console.secureCookie", String(consoleSecureCookie)), ("http", "\(httpHost):\(httpPort)"),
            ("worker.retryAttempts", String(workerRetryAttempts)), ("worker.fetchWaitMs", String(workerFetchWaitMilliseconds)), ("worker.pageSize", String(workerPageSize)),
            ("worker.instanceId", workerInstanceID ?? "(not set: dynamic membership)"), ("ledger.retention", DurationText.format(Int(ledgerRetention))),
            ("dlq.autoReplay", autoReplay.map {
                "on: at most \($0.maxReplays) replays, backoff \(DurationText.format(Int($0.backoff))) doubling, every \(DurationText.format(Int($0.interval)))"
            } ?? "off"),
            ("engine.timezone", timeZone.displayIdentifier), ("jobs.file", jobsFile ?? "(built-in jobs)"),
            ("log", "\(logLevel.rawValue) \(logFormat.rawValue)"), ("shutdown.timeout", "\(shutdownTimeout)"),
        ]
        for (name, value) in kafka.properties.sorted(by: { $0.key < $1.key }) {
            lines.append(("kafka property \(name)", KafkaConfiguration.isSecret(property: name) ? "[redacted]" : value))
        }
        for job in jobs.jobs {
            lines.append((
                "job \(job.name)",
                "\(job.enabled ? "enabled" : "disabled"), \(job.schedule), window \(DurationText.format(job.windowSeconds)), shards \(job.shards)"
            ))
        }
        return lines
    }
}

/// How the stages write their log lines.
public enum LogFormat: String, CaseIterable, Sendable {
    /// One JSON object per line.
    case json
    /// Plain text lines.
    case text
}
