import Foundation
import Kafka
import Logging
import ProactivityStages
import Testing

/// The typed readers refuse what they cannot use with a line naming the variable, and
/// fall back to the default meanwhile, so every problem is listed at once; none traps.
@Suite struct SettingsReaderTests {
    @Test func aBadWholeNumberIsRefusedNamingTheVariable() async {
        var config = await SettingsReader(environment: ["WORKER_PAGE_SIZE": "many", "HTTP_PORT": "70000", "WORKER_RETRY_ATTEMPTS": "9999999999999999999999"])
        #expect(config.int("worker.pageSize", in: 1...100_000, default: 2000) == 2000)
        #expect(config.int("http.port", in: 0...65535, default: 9100) == 9100)
        #expect(config.int("worker.retryAttempts", in: 1...1000, default: 5) == 5)
        #expect(config.problems == [
            "WORKER_PAGE_SIZE 'many' must be a whole number from 1 to 100000",
            "HTTP_PORT '70000' must be a whole number from 0 to 65535",
            "WORKER_RETRY_ATTEMPTS '9999999999999999999999' must be a whole number from 1 to 1000",
        ])
    }

    @Test func aBooleanIsTrueOrFalseExactly() async {
        var config = await SettingsReader(environment: ["DLQ_AUTO_REPLAY_ENABLED": "yes", "CONSOLE_SECURE_COOKIE": "true"])
        #expect(config.bool("dlq.autoReplay.enabled", default: false) == false)
        #expect(config.bool("console.secureCookie", default: false) == true)
        #expect(config.bool("not.set", default: true) == true)
        #expect(config.problems == ["DLQ_AUTO_REPLAY_ENABLED 'yes' must be true or false"])
    }

    @Test func aChoiceOutsideItsValuesIsRefusedListingThem() async {
        var config = await SettingsReader(environment: ["LOG_FORMAT": "xml", "LOG_LEVEL": "debug"])
        #expect(config.choice("log.format", default: LogFormat.json) == .json)
        #expect(config.choice("log.level", default: Logger.Level.info) == .debug)
        #expect(config.problems == ["LOG_FORMAT 'xml' must be one of json, text"])
    }

    @Test func durationsAndTimeZonesParseOrAreRefused() async {
        var config = await SettingsReader(environment: ["SHUTDOWN_TIMEOUT": "soon", "LEDGER_RETENTION": "2d", "ENGINE_TIMEZONE": "Mars/Base"])
        let refusal = "is not a duration"
        #expect(config.value("shutdown.timeout", as: ConfiguredDuration.self, default: nil, refusal: refusal) == nil)
        #expect(config.value("ledger.retention", as: ConfiguredDuration.self, default: nil, refusal: refusal)?.seconds == 172_800)
        #expect(config.value("engine.timezone", as: ConfiguredTimeZone.self, default: nil, refusal: "is not a known time zone") == nil)
        #expect(config.problems == ["SHUTDOWN_TIMEOUT 'soon' is not a duration", "ENGINE_TIMEZONE 'Mars/Base' is not a known time zone"])
    }

    @Test func theCommandLineWinsOverTheEnvironmentWhichWinsOverTheFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"log": {"level": "error", "format": "text"}, "worker": {"pageSize": 500}, "console": {"secureCookie": true}}"#.utf8).write(to: file)
        var config = await SettingsReader(
            environment: ["PROACTIVITY_CONFIG_FILE": file.path, "LOG_LEVEL": "info", "KAFKA_CLIENT_RACK": "a", "KAFKA_LINGER_MS": "5"],
            commandLine: CommandLineValues(values: ["log.level": "debug"], kafkaProperties: ["linger.ms": "1"]))
        #expect(config.choice("log.level", default: Logger.Level.critical) == .debug)
        #expect(config.choice("log.format", default: LogFormat.json) == .text)
        #expect(config.int("worker.pageSize", in: 1...100_000, default: 2000) == 500, "a JSON number is read as one")
        let secureCookie = config.bool("console.secureCookie", default: false)
        #expect(secureCookie, "a JSON boolean is read as one")
        #expect(config.kafkaProperties == ["client.rack": "a", "linger.ms": "1"])
        #expect(config.problems.isEmpty)
    }

    @Test func aValueOfTheWrongTypeInTheFileIsRefusedAndASecretIsNeverShown() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"worker": {"pageSize": [1, 2]}, "dlq": {"apiToken": 12345678}}"#.utf8).write(to: file)
        var config = await SettingsReader(environment: ["PROACTIVITY_CONFIG_FILE": file.path])
        #expect(config.int("worker.pageSize", in: 1...100_000, default: 2000) == 2000)
        #expect(config.secret("dlq.apiToken") == nil)
        #expect(config.problems == [
            "WORKER_PAGE_SIZE (in the configuration file) must be a whole number from 1 to 100000",
            "DLQ_API_TOKEN must be text",
        ])
    }

    @Test func anUnreadableConfigurationFileIsAProblem() async {
        let config = await SettingsReader(environment: ["PROACTIVITY_CONFIG_FILE": "/nonexistent/config.json"])
        #expect(config.problems.count == 1 && config.problems[0].hasPrefix("PROACTIVITY_CONFIG_FILE /nonexistent/config.json cannot be read"))
    }

    @Test func variablesAreNamedAsTheEnvironmentProviderReadsThem() {
        #expect(SettingsReader.variable("worker.pageSize") == "WORKER_PAGE_SIZE")
        #expect(SettingsReader.variable("dlq.autoReplay.maxReplays") == "DLQ_AUTO_REPLAY_MAX_REPLAYS")
        #expect(SettingsReader.variable("kafka.bootstrapServers") == "KAFKA_BOOTSTRAP_SERVERS")
        #expect(SettingsReader.variable("proactivity.migrationsDir") == "PROACTIVITY_MIGRATIONS_DIR")
    }

    /// What a command hands to a stage process it starts (the benchmarks' workers) is read
    /// back there as the same Kafka configuration, `-X` properties and secrets included.
    @Test func aKafkaConfigurationPassesThroughTheEnvironmentUnchanged() async throws {
        let kafka = KafkaConfiguration(
            bootstrapServers: "broker-1:9093,broker-2:9093", clientID: "bench",
            properties: ["security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.password": "s3cret", "compression.type": "lz4"])
        let environment = EngineSettings.environment(for: kafka)
        #expect(environment["KAFKA_SASL_PASSWORD"] == "s3cret")
        let (read, _) = try await EngineSettings.loadKafka(environment: environment, clientID: "bench")
        #expect(read.bootstrapServers == kafka.bootstrapServers)
        #expect(read.properties == kafka.properties)
    }

    @Test func kafkaCommandsNeedNoDatabaseAndListEveryProblem() async throws {
        let (kafka, level) = try await EngineSettings.loadKafka(
            environment: ["KAFKA_BOOTSTRAP_SERVERS": "broker:9092"], commandLine: CommandLineValues(values: ["log.level": "warning"]), clientID: "c")
        #expect(kafka.bootstrapServers == "broker:9092" && kafka.clientID == "c" && level == .warning)
        await #expect {
            _ = try await EngineSettings.loadKafka(environment: ["LOG_LEVEL": "loud", "KAFKA_BOGUS_PROPERTY": "1"], clientID: "c")
        } throws: { error in
            let text = "\(error)"
            return text.contains("LOG_LEVEL 'loud'") && text.contains("bogus.property")
        }
    }
}
