import Foundation
import Hummingbird
import HummingbirdTesting
import Observability
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import Testing

/// `proactivity jobs run` and `POST /jobs/{job}/run`: a job's current window run now, with
/// a tick id of its own, audited; the slot's scheduled tick still runs.
@Suite(.timeLimit(.minutes(3)))
struct JobsRunTests {
    /// An hourly job over the test's own table; `quiet` is disabled.
    static let jobs = """
        {"jobs": [
          {"name": "run-now", "every": "1h", "window": "2h",
           "sql": "SELECT id AS item_id, user_id, 'Now' AS title, due_at FROM run_items WHERE due_at >= :window_start AND due_at < :window_end"},
          {"name": "quiet", "every": "1h", "window": "1h", "enabled": false, "sql": "SELECT 'a' AS item_id, 'u' AS user_id, 't' AS title, :window_start::timestamptz AS due_at WHERE :window_end > :window_start"}
        ]}
        """

    static func prepare(_ harness: PipelineHarness) async throws {
        try await harness.execute("CREATE TABLE run_items (id text PRIMARY KEY, user_id text NOT NULL, due_at timestamptz NOT NULL)")
    }

    static func addItem(_ id: String, to harness: PipelineHarness) async throws {
        try await harness.execute("INSERT INTO run_items VALUES (\(id), \("user-" + id), \(Date().addingTimeInterval(600)))")
    }

    /// The tick ids a `jobs run` printed.
    static func published(in output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            line.hasPrefix("published ") ? line.split(separator: " ").dropFirst().first.map(String.init) : nil
        }
    }

    @Test func aJobRunNowAlertsNewItemsAtOnceAndLeavesTheScheduledSlotToRun() async throws {
        try await PipelineHarness.with { harness in
            try await Self.prepare(harness)
            let jobsFile = try harness.jobsFile(Self.jobs)
            let environment = try harness.environment(jobsFile: jobsFile, extra: ["USER": "operator-7"])
            let job = try #require(try await harness.settings(jobsFile: jobsFile).jobs.job(named: "run-now"))
            try await harness.withWorker(jobsFile: jobsFile) { _ in
                try await Self.addItem("a", to: harness)
                let first = try await ProactivityProcess.run(["jobs", "run", "run-now"], environment: environment)
                #expect(first.status == 0, "\(first.output)")
                let firstIDs = Self.published(in: first.stdout)
                #expect(firstIDs.count == 1 && firstIDs[0].contains("~manual-"), "\(first.stdout)")
                try await eventually(within: .seconds(60), "the manual tick completed") {
                    try await harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = ANY(\(firstIDs))") == 1
                }

                // A second run of the same slot is a tick of its own: the new item is alerted, the old one is not again.
                try await Self.addItem("b", to: harness)
                let second = try await ProactivityProcess.run(["jobs", "run", "run-now"], environment: environment)
                #expect(second.status == 0, "\(second.output)")
                let secondIDs = Self.published(in: second.stdout)
                #expect(secondIDs.count == 1 && secondIDs != firstIDs)
                try await eventually(within: .seconds(60), "the second manual tick completed") {
                    try await harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = ANY(\(secondIDs))") == 1
                }
                #expect(try await harness.alerts().map(\.alert.itemId).sorted() == ["a", "b"])

                // The slot's scheduled tick was not taken for done: it runs, and alerts nothing twice.
                let scheduled = TickMessage(job: job, slot: job.schedule.slot(atOrBefore: Date()), producedAt: Date())
                #expect(!firstIDs.contains(scheduled.tickId))
                try await harness.publish([scheduled])
                try await harness.waitForCompletion(of: [scheduled])
                #expect(try await harness.alerts().count == 2)
            }
            let host = ProcessInfo.processInfo.hostName
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_manual_runs WHERE job_name = 'run-now' AND requested_by = 'operator-7' AND requested_host = \(host) AND requested_via = 'cli'"
                ) == 2)
        }
    }

    @Test func aRunThatCannotBeDoneIsRefusedBeforeAnythingIsPublished() async throws {
        try await PipelineHarness.with { harness in
            let environment = try harness.environment(jobsFile: try harness.jobsFile(Self.jobs))
            for (arguments, expected) in [
                (["jobs", "run", "no-such-job"], "no job named 'no-such-job'"),
                (["jobs", "run", "quiet"], "job 'quiet' is disabled"),
                (["jobs", "run", "run-now", "--shard", "1"], "shard 1 is not one of job 'run-now''s shards 0…0"),
            ] {
                let result = try await ProactivityProcess.run(arguments, environment: environment)
                #expect(result.status != 0 && result.output.contains(expected), "\(arguments): \(result.output)")
            }
            #expect(try await harness.count("SELECT count(*)::int FROM worker_manual_runs") == 0)
            #expect(try await harness.records(in: harness.ticksTopic).isEmpty)
        }
    }

    @Test func theHTTPRouteRunsAJobBehindTheTokenAndAuditsThePeer() async throws {
        try await PipelineHarness.with { harness in
            try await Self.prepare(harness)
            try await Self.addItem("h", to: harness)
            let jobsFile = try harness.jobsFile(Self.jobs)
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: jobsFile) { assembly in
                let token: HTTPFields = [.authorization: "Bearer \(PipelineHarness.apiToken)"]
                let tickID = try await ObservabilityApp.make(assembly).test(.router) { client -> String in
                    try await client.execute(uri: "/jobs/run-now/run", method: .post) { #expect($0.status == .unauthorized) }
                    try await client.execute(uri: "/jobs/run-now/run", method: .get, headers: token) { #expect($0.status == .methodNotAllowed) }
                    try await client.execute(uri: "/jobs/nope/run", method: .post, headers: token) { #expect($0.status == .notFound) }
                    try await client.execute(uri: "/jobs/quiet/run", method: .post, headers: token) { #expect($0.status == .conflict) }
                    for bad in ["shard=x", "shard=-1", "shard=1", "shard=99999999999999999999", "other=1", "shard=0&shard=0"] {
                        try await client.execute(uri: "/jobs/run-now/run?\(bad)", method: .post, headers: token) {
                            #expect($0.status == .badRequest, "\(bad)")
                        }
                    }
                    #expect(try await harness.count("SELECT count(*)::int FROM worker_manual_runs") == 0, "nothing refused was recorded")
                    return try await client.execute(uri: "/jobs/run-now/run?shard=0", method: .post, headers: token) { response in
                        #expect(response.status == .accepted)
                        let body = String(buffer: response.body)
                        #expect(body.contains(#""published":true"#), "\(body)")
                        let match = try #require(body.firstMatch(of: /"tickId":"([^"]+)"/), "\(body)")
                        return String(match.1).replacingOccurrences(of: "\\/", with: "/")
                    }
                }
                #expect(tickID.contains("~manual-"))
                try await eventually(within: .seconds(60), "the tick run over HTTP completed") {
                    try await harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = \(tickID)") == 1
                }
            }
            #expect(try await harness.alerts().map(\.alert.itemId) == ["h"])
            #expect(try await harness.count("SELECT count(*)::int FROM worker_manual_runs WHERE requested_via = 'http' AND requested_by = 'http-api'") == 1)
        }
    }
}
