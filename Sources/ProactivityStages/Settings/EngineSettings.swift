import Configuration
import Foundation
import Kafka
import ProactivityCore
import ProactivityStore

/// Everything a stage needs to know, read from environment variables and an optional
/// JSON file (`PROACTIVITY_CONFIG_FILE`; environment variables win), with defaults.
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
/// | `worker.pageSize` | `WORKER_PAGE_SIZE` | `2000`: rows per page of a tick's window (read, published, recorded together) |
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
    public var logLevel: String
    public var logFormat: String
    /// How long a graceful shutdown may take before the rest is cancelled.
    public var shutdownTimeout: Duration
    /// Whether the console's session cookie is always `Secure` (the console is served
    /// behind TLS); otherwise only requests with `X-Forwarded-Proto: https` get it.
    public var consoleSecureCookie = false

    /// Configuration that cannot be used, with every problem found.
    public struct Invalid: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String {
            "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// Reads the settings.
    /// - Parameters:
    ///   - environment: the variables to read (the process environment by default).
    ///   - kafkaProperties: librdkafka properties given on the command line (win over all).
    /// - Throws: ``Invalid`` listing every problem; secret values never appear in it.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        kafkaProperties: [String: String] = [:]
    ) async throws(Invalid) -> EngineSettings {
        var problems: [String] = []
        let config = await reader(environment: environment, problems: &problems)

        var properties: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("KAFKA_") && name != "KAFKA_BOOTSTRAP_SERVERS" {
            properties[name.dropFirst(6).lowercased().replacingOccurrences(of: "_", with: ".")] = value
        }
        properties.merge(kafkaProperties) { $1 }
        let kafka = KafkaConfiguration(
            bootstrapServers: config.string(forKey: "kafka.bootstrapServers", default: "localhost:9092"),
            clientID: config.string(forKey: "kafka.clientId", default: "proactivity"),
            statisticsInterval: .seconds(15),
            properties: properties)

        problems.append(contentsOf: kafka.problems.map { "\($0) (from KAFKA_* or -X)" })

        var database = try? DatabaseSettings(url: "postgres://unset@localhost/unset")
        if let url = config.string(forKey: "postgres.url", isSecret: true) {
            do {
                database = try DatabaseSettings(url: url)
            } catch {
                problems.append("POSTGRES_URL: \(error)")
            }
        } else {
            problems.append("POSTGRES_URL is not set (postgres://user:password@host:5432/database)")
        }

        // A number or boolean in the JSON file is as good as its text in the environment.
        func text(_ key: ConfigKey, default value: String) -> String {
            config.string(forKey: key) ?? config.int(forKey: key).map(String.init) ?? config.bool(forKey: key).map(String.init) ?? value
        }
        let port = text("http.port", default: "9100")
        if Int(port).map({ (0...65535).contains($0) }) != true { problems.append("HTTP_PORT '\(port)' is not a port number") }
        let (jobs, jobsFile, timeZone) = Self.jobs(config, problems: &problems)
        let logLevel = config.string(forKey: "log.level", default: "info")
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            problems.append("LOG_LEVEL '\(logLevel)' is not a level (trace … critical)")
        }
        let logFormat = config.string(forKey: "log.format", default: "json")
        if !["json", "text"].contains(logFormat) { problems.append("LOG_FORMAT '\(logFormat)' must be json or text") }

        func count(_ key: ConfigKey, _ variable: String, default value: Int) -> Int {
            let text = text(key, default: String(value))
            guard let number = Int(text), (1...1000).contains(number) else {
                problems.append("\(variable) '\(text)' must be a whole number from 1 to 1000")
                return value
            }
            return number
        }
        func duration(_ key: ConfigKey, _ variable: String, default value: String) -> TimeInterval {
            let text = config.string(forKey: key, default: value)
            guard let seconds = DurationText.seconds(text) else {
                problems.append("\(variable) '\(text)' is not a duration from 1s to 100 years (30s, 5m, 1h)")
                return TimeInterval(DurationText.seconds(value) ?? 60)
            }
            return TimeInterval(seconds)
        }
        let shutdownTimeout = duration("shutdown.timeout", "SHUTDOWN_TIMEOUT", default: "30s")
        let retryAttempts = count("worker.retryAttempts", "WORKER_RETRY_ATTEMPTS", default: 5)
        let fetchWait = count("worker.fetchWaitMs", "WORKER_FETCH_WAIT_MS", default: 10)
        let pageSizeText = text("worker.pageSize", default: "2000")
        let pageSize = Int(pageSizeText).flatMap { (1...100_000).contains($0) ? $0 : nil }
        if pageSize == nil { problems.append("WORKER_PAGE_SIZE '\(pageSizeText)' must be a whole number from 1 to 100000") }
        var instanceID = config.string(forKey: "worker.instanceId")
        if instanceID == "hostname" { instanceID = ProcessInfo.processInfo.hostName }
        if let id = instanceID, !Self.isValidInstanceID(id) {
            problems.append("WORKER_INSTANCE_ID '\(id.prefix(300))' must be 1 to 249 characters of A-Z a-z 0-9 . _ - (or 'hostname')")
        }
        let autoReplayEnabled = text("dlq.autoReplay.enabled", default: "false")
        if !["true", "false"].contains(autoReplayEnabled) {
            problems.append("DLQ_AUTO_REPLAY_ENABLED '\(autoReplayEnabled)' must be true or false")
        }
        let autoReplay = AutoReplayPolicy(
            maxReplays: count("dlq.autoReplay.maxReplays", "DLQ_AUTO_REPLAY_MAX_REPLAYS", default: 3),
            backoff: duration("dlq.autoReplay.backoff", "DLQ_AUTO_REPLAY_BACKOFF", default: "5m"),
            interval: duration("dlq.autoReplay.interval", "DLQ_AUTO_REPLAY_INTERVAL", default: "1m"))

        let retention = duration("ledger.retention", "LEDGER_RETENTION", default: "30d")
        let needed = jobs.enabled.map { $0.windowSeconds + $0.catchUpGraceSeconds }.max() ?? 0
        if retention < TimeInterval(needed) {
            problems.append(
                "LEDGER_RETENTION \(DurationText.format(Int(retention))) is shorter than the longest window plus catch-up grace (\(DurationText.format(needed))): items could be alerted again")
        }

        let ticksTopic = config.string(forKey: "topics.ticks", default: "proactivity.ticks")
        let replayTopics = Set(
            config.string(forKey: "dlq.replayTopics", default: ticksTopic).split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let apiToken = config.string(forKey: "dlq.apiToken", isSecret: true)
        if let apiToken, apiToken.trimmingCharacters(in: .whitespaces).isEmpty {
            problems.append("DLQ_API_TOKEN is empty: unset it to disable the DLQ API, or set a long random token")
        }
        if replayTopics.isEmpty { problems.append("DLQ_REPLAY_TOPICS names no topic (default: the ticks topic)") }
        let secureCookie = text("console.secureCookie", default: "false")
        if !["true", "false"].contains(secureCookie) { problems.append("CONSOLE_SECURE_COOKIE '\(secureCookie.prefix(100))' must be true or false") }

        guard problems.isEmpty, let database, let timeZone else { throw Invalid(problems: problems) }
        var settings = EngineSettings(
            kafka: kafka, database: database,
            ticksTopic: ticksTopic,
            alertsTopic: config.string(forKey: "topics.alerts", default: "proactivity.alerts"),
            dlqTopic: config.string(forKey: "topics.dlq", default: "proactivity.dlq"),
            workerGroupID: config.string(forKey: "worker.groupId", default: "proactivity-workers"),
            mirrorGroupID: config.string(forKey: "dlq.mirrorGroupId", default: "proactivity-dlq-mirror"),
            dlqAPIToken: apiToken, replayTopics: replayTopics,
            workerRetryAttempts: retryAttempts, workerFetchWaitMilliseconds: fetchWait, workerPageSize: pageSize ?? 2000, workerInstanceID: instanceID, ledgerRetention: retention, autoReplay: autoReplayEnabled == "true" ? autoReplay : nil,
            httpHost: config.string(forKey: "http.host", default: "0.0.0.0"), httpPort: Int(port)!,
            timeZone: timeZone, jobs: jobs, jobsFile: jobsFile, logLevel: logLevel, logFormat: logFormat,
            shutdownTimeout: .seconds(shutdownTimeout))
        settings.consoleSecureCookie = secureCookie == "true"
        return settings
    }

    /// Whether `id` is a valid `group.instance.id` (the characters and length of a topic name).
    static func isValidInstanceID(_ id: String) -> Bool {
        (1...249).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// The job catalog alone (`JOBS_FILE`, `ENGINE_TIMEZONE`, `PROACTIVITY_CONFIG_FILE`):
    /// what `jobs list` and `jobs next` need, without a database or broker.
    /// - Throws: ``Invalid`` listing every problem.
    public static func loadJobs(environment: [String: String] = ProcessInfo.processInfo.environment) async throws(Invalid) -> JobCatalog {
        var problems: [String] = []
        let config = await reader(environment: environment, problems: &problems)
        let (jobs, _, _) = Self.jobs(config, problems: &problems)
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return jobs
    }

    /// Environment variables first, then the optional JSON file.
    private static func reader(environment: [String: String], problems: inout [String]) async -> ConfigReader {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .dynamic { key, _ in KafkaConfiguration.isSecret(property: key.lowercased()) || key.contains("URL") })
        ]
        if let path = environment["PROACTIVITY_CONFIG_FILE"], !path.isEmpty {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: .init(path)))
            } catch {
                problems.append("PROACTIVITY_CONFIG_FILE \(path) cannot be read as JSON: \(error)")
            }
        }
        return ConfigReader(providers: providers)
    }

    /// The engine's time zone and job catalog (built-ins, then the jobs file).
    private static func jobs(_ config: ConfigReader, problems: inout [String]) -> (JobCatalog, String?, TimeZone?) {
        let zoneName = config.string(forKey: "engine.timezone", default: "UTC")
        let timeZone = TimeZone(identifier: zoneName)
        if timeZone == nil { problems.append("ENGINE_TIMEZONE '\(zoneName)' is not a known time zone") }
        let jobsFile = config.string(forKey: "jobs.file")
        var jobs = JobCatalog(builtInsIn: timeZone ?? .gmt)
        if let jobsFile {
            if let data = FileManager.default.contents(atPath: jobsFile) {
                do {
                    jobs = try JobCatalog(builtInsIn: timeZone ?? .gmt, overlay: data)
                } catch {
                    problems.append(contentsOf: error.problems.map { "JOBS_FILE \(jobsFile): \($0)" })
                }
            } else {
                problems.append("JOBS_FILE \(jobsFile) cannot be read")
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
            ("log", "\(logLevel) \(logFormat)"), ("shutdown.timeout", "\(shutdownTimeout)"),
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
