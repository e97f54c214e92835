import Foundation
import ProactivityLauncher
import Testing

/// `proactivity jobs list` and `jobs next`: upcoming runs for operators, and a way to
/// check the daylight-saving rules from outside.
@Suite(.timeLimit(.minutes(4)))
struct JobsCommandTests {
    @Test func nextPrintsTheDaylightSavingExamplesExactly() async throws {
        let springForward = try await ProactivityProcess.run(
            ["jobs", "next", "--cron", "30 2 * * *", "--timezone", "America/New_York", "--from", "2027-03-14T00:00:00Z", "--count", "1", "--json"],
            environment: [:])
        #expect(springForward.status == 0)
        #expect(springForward.stdout == #"[{"slot": "2027-03-14T07:00:00Z", "local": "2027-03-14T03:00:00-04:00"}]"# + "\n")
        let fallBack = try await ProactivityProcess.run(
            ["jobs", "next", "--cron", "30 1 * * *", "--timezone", "America/New_York", "--from", "2026-11-01T00:00:00Z", "--count", "2", "--json"],
            environment: [:])
        #expect(
            fallBack.stdout
                == #"[{"slot": "2026-11-01T05:30:00Z", "local": "2026-11-01T01:30:00-04:00"}, {"slot": "2026-11-02T06:30:00Z", "local": "2026-11-02T01:30:00-05:00"}]"#
                + "\n")
    }

    @Test func listShowsEveryJobWithItsNextRunAndBadInputIsRefused() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(TestEnvironment.unique("jobs") + ".json")
        try Data(#"{"jobs": [{"name": "daily-brief", "enabled": true, "cron": "30 2 * * *", "timezone": "America/New_York"}]}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let list = try await ProactivityProcess.run(["jobs", "list", "--from", "2027-03-14T00:00:00Z"], environment: ["JOBS_FILE": file.path])
        #expect(list.status == 0)
        #expect(list.stdout.contains("daily-brief") && list.stdout.contains("America/New_York") && list.stdout.contains("2027-03-14T07:00:00Z"))
        #expect(list.stdout.contains("event-reminder") && list.stdout.contains("every 5m"))
        let next = try await ProactivityProcess.run(["jobs", "next", "daily-brief", "--from", "2027-03-14T00:00:00Z", "--count", "1"], environment: ["JOBS_FILE": file.path])
        #expect(next.stdout.contains("2027-03-14T07:00:00Z  2027-03-14T03:00:00-04:00"), "\(next.output)")
        for arguments in [["jobs", "next"], ["jobs", "next", "--cron", "61 * * * *"], ["jobs", "next", "--every", "soon"], ["jobs", "next", "nosuch"]] {
            let refused = try await ProactivityProcess.run(arguments, environment: [:])
            #expect(refused.status != 0 && refused.status < 128, "\(arguments): \(refused.output)")
        }
    }
}
