import Foundation
import ProactivityLauncher
import Testing

/// Inputs an attacker or a careless operator gives the command line and settings: the
/// answer is an error naming the input, never a crash.
@Suite(.timeLimit(.minutes(4)))
struct HostileInputTests {
    /// Durations so long they overflowed the date arithmetic (the binary died with
    /// signal 4, exit 132).
    @Test func hugeDurationsAreRefusedNotCrashing() async throws {
        let environment = [
            "POSTGRES_URL": try TestEnvironment.variable("POSTGRES_URL"),
            "KAFKA_BOOTSTRAP_SERVERS": try TestEnvironment.variable("KAFKA_BOOTSTRAP_SERVERS"),
        ]
        let jobs = FileManager.default.temporaryDirectory.appendingPathComponent("jobs-\(UUID().uuidString).json")
        try Data(#"{"jobs": [{"name": "event-reminder", "every": "999999999999999d"}]}"#.utf8).write(to: jobs)
        defer { try? FileManager.default.removeItem(at: jobs) }
        let runs: [([String], [String: String], String)] = [
            (["dlq", "purge", "--older-than", "99999999999999d"], environment, "--older-than"),
            (["status", "--period", "99999999999999d"], environment, "--period"),
            (["config", "check"], environment.merging(["SHUTDOWN_TIMEOUT": "999999999999999d"]) { $1 }, "SHUTDOWN_TIMEOUT"),
            (["config", "check"], environment.merging(["JOBS_FILE": jobs.path]) { $1 }, "every"),
        ]
        for (arguments, environment, named) in runs {
            let (status, output, _) = try await ProactivityProcess.run(arguments, environment: environment)
            #expect(status != 0 && status < 128, "\(arguments) exited \(status): \(output)")
            #expect(output.contains(named) && output.contains("100 years"), "\(arguments): \(output)")
        }
    }
}
