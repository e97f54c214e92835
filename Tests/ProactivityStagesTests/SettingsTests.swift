import Foundation
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

@Suite struct SettingsTests {
    @Test func everyProblemIsListedWithoutSecrets() async {
        await #expect {
            _ = try await EngineSettings.load(environment: [
                "POSTGRES_URL": "mysql://app:hunter2@db/x", "HTTP_PORT": "ninety", "ENGINE_TIMEZONE": "Mars/Base",
                "LOG_LEVEL": "loud", "JOBS_FILE": "/nonexistent/jobs.json",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("POSTGRES_URL") && text.contains("HTTP_PORT 'ninety'") && text.contains("Mars/Base")
                && text.contains("LOG_LEVEL 'loud'") && text.contains("/nonexistent/jobs.json") && !text.contains("hunter2")
        }
    }

    @Test func failureHandlingSettingsAreValidatedAndAutoReplayIsOffByDefault() async throws {
        await #expect {
            _ = try await EngineSettings.load(environment: [
                "POSTGRES_URL": "postgres://a@b/c", "WORKER_RETRY_ATTEMPTS": "0", "DLQ_AUTO_REPLAY_ENABLED": "yes",
                "DLQ_AUTO_REPLAY_BACKOFF": "soon",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("WORKER_RETRY_ATTEMPTS '0'") && text.contains("DLQ_AUTO_REPLAY_ENABLED 'yes'")
                && text.contains("DLQ_AUTO_REPLAY_BACKOFF 'soon'")
        }
        let defaults = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c"])
        #expect(defaults.autoReplay == nil && defaults.workerRetryAttempts == 5)
        let on = try await EngineSettings.load(environment: [
            "POSTGRES_URL": "postgres://a@b/c", "DLQ_AUTO_REPLAY_ENABLED": "true", "DLQ_AUTO_REPLAY_BACKOFF": "10m",
        ])
        #expect(on.autoReplay == AutoReplayPolicy(maxReplays: 3, backoff: 600, interval: 60))
    }

    @Test func theWorkersHotPathSettingsAreValidatedWithDefaults() async throws {
        await #expect {
            _ = try await EngineSettings.load(environment: [
                "POSTGRES_URL": "postgres://a@b/c", "WORKER_PAGE_SIZE": "0", "WORKER_FETCH_WAIT_MS": "soon",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("WORKER_PAGE_SIZE '0'") && text.contains("WORKER_FETCH_WAIT_MS 'soon'")
        }
        await #expect {
            _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "DLQ_API_TOKEN": ""])
        } throws: { error in
            "\(error)".contains("DLQ_API_TOKEN is empty")
        }
        let defaults = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c"])
        #expect(defaults.workerPageSize == 2000 && defaults.workerFetchWaitMilliseconds == 10)
        let set = try await EngineSettings.load(environment: [
            "POSTGRES_URL": "postgres://a@b/c", "WORKER_PAGE_SIZE": "500", "WORKER_FETCH_WAIT_MS": "5",
        ])
        #expect(set.workerPageSize == 500 && set.workerFetchWaitMilliseconds == 5)
        #expect(set.redactedLines.contains { $0 == ("worker.pageSize", "500") })
    }

    @Test func thePoolSizeIsValidatedAndLeavesConnectionsBesideTheWindowCursors() async throws {
        for refused in ["4", "1001", "many"] {
            await #expect {
                _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "POSTGRES_MAX_CONNECTIONS": refused])
            } throws: { error in
                "\(error)".contains("POSTGRES_MAX_CONNECTIONS '\(refused)' must be a whole number from 5 to 1000")
            }
        }
        let defaults = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c"])
        #expect(defaults.database.maximumConnections == 20 && defaults.database.windowCursorLimit == 16)
        #expect(defaults.database.clientConfiguration.options.maximumConnections == 20)
        let set = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "POSTGRES_MAX_CONNECTIONS": "5"])
        #expect(set.database.windowCursorLimit == 1)
        #expect(set.database.clientConfiguration.options.maximumConnections == 5)
        #expect(set.redactedLines.contains { $0 == ("postgres.maxConnections", "5 (window cursors at once: 1)") })
    }

    @Test func staticMembershipIsOffByDefaultAndItsIDIsValidated() async throws {
        let defaults = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c"])
        #expect(defaults.workerInstanceID == nil)
        for bad in ["", "two words", String(repeating: "x", count: 250), "ünïcode"] {
            await #expect {
                _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "WORKER_INSTANCE_ID": bad])
            } throws: { error in
                "\(error)".contains("WORKER_INSTANCE_ID")
            }
        }
        let named = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "WORKER_INSTANCE_ID": "worker-0.eu_1"])
        #expect(named.workerInstanceID == "worker-0.eu_1")
        #expect(named.redactedLines.contains { $0 == ("worker.instanceId", "worker-0.eu_1") })
        let host = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "WORKER_INSTANCE_ID": "hostname"])
        #expect(host.workerInstanceID == ProcessInfo.processInfo.hostName)
    }

    @Test func everyBadKafkaPropertyIsListedAndSensitiveOnesRedacted() async throws {
        await #expect {
            _ = try await EngineSettings.load(environment: [
                "POSTGRES_URL": "postgres://a@b/c", "KAFKA_BOGUS_PROPERTY": "1", "KAFKA_SECURITY_PROTOCOL": "NOPE",
            ])
        } throws: { error in
            let text = "\(error)"
            return text.contains("unknown Kafka property 'bogus.property'") && text.contains("security.protocol")
        }
        let settings = try await EngineSettings.load(environment: [
            "POSTGRES_URL": "postgres://a@b/c", "KAFKA_SASL_OAUTHBEARER_CONFIG": "principal=admin secret=oauth-s3cret",
            "KAFKA_SASL_OAUTHBEARER_ASSERTION_PRIVATE_KEY_PASSPHRASE": "pass-s3cret",
        ])
        let text = settings.redactedLines.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
        #expect(!text.contains("oauth-s3cret") && !text.contains("pass-s3cret"), "\(text)")
        #expect(text.contains("sasl.oauthbearer.assertion.private.key.passphrase"), "long property names are shown whole")
    }

    @Test func numbersInTheConfigFileAndDatabaseURLsAreReadExactly() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)" + ".json")
        try Data(#"{"http": {"port": 70000}, "worker": {"retryAttempts": 3}}"#.utf8).write(to: file)
        await #expect {
            _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "PROACTIVITY_CONFIG_FILE": file.path])
        } throws: { error in
            "\(error)".contains("HTTP_PORT '70000'")
        }
        try Data(#"{"http": {"port": 9200}, "worker": {"retryAttempts": 3}}"#.utf8).write(to: file)
        let settings = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "PROACTIVITY_CONFIG_FILE": file.path])
        #expect(settings.httpPort == 9200 && settings.workerRetryAttempts == 3, "numbers in the file are used, not ignored")
        let encoded = try DatabaseSettings(url: "postgres://app:p%2541ss@db:5432/x")
        #expect(encoded.password == "p%41ss", "percent-encoding is decoded once")
        #expect(throws: DatabaseSettings.InvalidURL.self) { try DatabaseSettings(url: "postgres://app@db:99999/x") }
    }

    @Test func aBadJobDefinitionIsRejectedAtStart() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID().uuidString)" + ".json")
        try Data(#"{"jobs": [{"name": "x", "every": "5m", "window": "1h", "sql": "SELECT 1"}]}"#.utf8).write(to: file)
        await #expect {
            _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "JOBS_FILE": file.path])
        } throws: { error in
            "\(error)".contains("job 'x': sql must use :window_start")
        }
    }

    @Test func secretsAreRedactedInTheEffectiveConfiguration() async throws {
        let settings = try await EngineSettings.load(environment: [
            "POSTGRES_URL": "postgres://app:hunter2@db:5432/engine", "KAFKA_SASL_PASSWORD": "s3cret", "KAFKA_SASL_USERNAME": "app",
        ])
        let text = settings.redactedLines.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
        #expect(!text.contains("hunter2") && !text.contains("s3cret"))
        #expect(text.contains("kafka property sasl.username app"))
        #expect(settings.kafka.properties["sasl.password"] == "s3cret")
    }
}
