import Foundation
import ProactivityStages
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

    @Test func aBadJobDefinitionIsRejectedAtStart() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("jobs") + ".json")
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
