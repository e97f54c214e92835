import Foundation
import Hummingbird
import HummingbirdTesting
import Observability
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import ProactivityStore
import Testing

/// `proactivity explain` and `GET /explain`: an alert followed back to its tick, attempts,
/// dead letters and replays, and the job's SQL as it ran; an item that was not alerted,
/// with the reason.
@Suite(.timeLimit(.minutes(3)))
struct ExplainTests {
    /// An hourly job over a table the test creates later (so its first run fails).
    static let jobs = """
        {"jobs": [{"name": "explained", "every": "1h", "window": "2h",
          "sql": "SELECT id AS item_id, user_id, title, due_at FROM explain_items WHERE due_at >= :window_start AND due_at < :window_end"}]}
        """

    /// The test's jobs file, the job's current slot, a due time in its window and its tick.
    static func currentSlot(_ harness: PipelineHarness) async throws -> (jobsFile: String, slot: Date, due: Date, tick: TickMessage) {
        let jobsFile = try harness.jobsFile(jobs)
        let job = try #require(try await harness.settings(jobsFile: jobsFile).jobs.job(named: "explained"))
        let slot = job.schedule.slot(atOrBefore: Date())
        return (jobsFile, slot, slot.addingTimeInterval(1800), TickMessage(job: job, slot: slot, producedAt: Date()))
    }

    @Test func anAlertWhoseTickWasDeadLetteredAndReplayedIsExplainedEndToEnd() async throws {
        try await PipelineHarness.with { harness in
            let (jobsFile, slot, due, tick) = try await Self.currentSlot(harness)
            let token: HTTPFields = [.authorization: "Bearer \(PipelineHarness.apiToken)"]
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: jobsFile) { assembly in
                // 1. The table is missing: the tick fails as job_sql and is dead-lettered.
                try await harness.publish([tick])
                try await eventually(within: .seconds(60), "the failed tick is in worker_dlq") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq WHERE error_class = 'job_sql'") == 1
                }
                // 2. Fixed, replayed, run: one alert.
                try await harness.execute("CREATE TABLE explain_items (id text, user_id text, title text, due_at timestamptz)")
                // Microseconds in the table; the alert id carries milliseconds.
                try await harness.execute(
                    "INSERT INTO explain_items VALUES ('item-1', 'user-1', 'Standup', \(due)::timestamptz + interval '0.123456 seconds')")
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    try await client.execute(uri: "/dlq/replay?error_class=job_sql", method: .post, headers: token) { #expect($0.status == .ok) }
                }
                try await harness.waitForCompletion(of: [tick])
                let alertID = try #require(try await harness.alerts().first?.headerID)
                #expect(alertID == "explained:item-1@\(Timestamp.format(due.addingTimeInterval(0.123)))")

                // 3. Explained by the CLI ...
                let environment = try harness.environment(jobsFile: jobsFile)
                let text = try await ProactivityProcess.run(["explain", alertID], environment: environment)
                #expect(text.status == 0, "\(text.output)")
                for expected in [
                    "alert \(alertID)", "user user-1 (\"Standup\")", "tick \(tick.tickId) (scheduled, slot \(Timestamp.format(slot))",
                    "window \(Timestamp.format(tick.windowStart)) – \(Timestamp.format(tick.windowEnd))", "attempt 1: failure",
                    "explain_items", "attempt 2: success", "(job_sql,", "replayed 1 time(s)", "sql: SELECT id AS item_id",
                ] {
                    #expect(text.stdout.contains(expected), "missing '\(expected)' in:\n\(text.stdout)")
                }
                // The tick's trace: the one the alert carries (the replay continued the original trace).
                let traceparent = try #require(try await harness.alertRecords().first?.headers.string(named: "traceparent"))
                let traceID = String(traceparent.split(separator: "-")[1])
                #expect(text.stdout.contains("trace \(traceID)"), "\(text.stdout)")
                let json = try await ProactivityProcess.run(["explain", alertID, "--json"], environment: environment)
                #expect(json.status == 0, "\(json.output)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
                #expect(object["alert_id"] as? String == alertID && object["attempts"] as? Int == 2)
                let tickObject = try #require(object["tick"] as? [String: Any])
                let record = try #require(tickObject["record"] as? [String: Any])
                #expect((record["dead_letters"] as? [[String: Any]])?.first?["replayed_at"] is String)
                #expect(((object["definition"] as? [String: Any])?["digest"] as? String)?.count == 64)

                // ... and over HTTP, behind the token.
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    let encoded = alertID.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    try await client.execute(uri: "/explain?alert_id=\(encoded)", method: .get) { #expect($0.status == .unauthorized) }
                    try await client.execute(uri: "/explain?alert_id=\(encoded)", method: .get, headers: token) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body).contains(#""tick_id":"\#(tick.tickId)""#))
                    }
                    try await client.execute(uri: "/explain?alert_id=explained%3Anope%402020-01-01T00%3A00%3A00Z", method: .get, headers: token) {
                        #expect($0.status == .notFound)
                    }
                    for bad in ["alert_id=nonsense", "job=explained", "alert_id=x:y@2020-01-01T00:00:00Z&job=explained", "job=explained&item=a&due=soon", "other=1"] {
                        try await client.execute(uri: "/explain?\(bad)", method: .get, headers: token) { #expect($0.status == .badRequest, "\(bad)") }
                    }
                }
            }
        }
    }

    @Test func anItemThatWasNotAlertedIsExplainedWithTheReason() async throws {
        try await PipelineHarness.with { harness in
            let (jobsFile, slot, due, tick) = try await Self.currentSlot(harness)
            try await harness.execute("CREATE TABLE explain_items (id text, user_id text, title text, due_at timestamptz)")
            try await harness.execute("INSERT INTO explain_items VALUES ('early', 'user-1', 'Early', \(due))")
            try await harness.withWorker(jobsFile: jobsFile) { _ in
                try await harness.publish([tick])
                try await harness.waitForCompletion(of: [tick])
            }
            // Added after its ticks ran: the reason is that it was not there when they ran.
            try await harness.execute("INSERT INTO explain_items VALUES ('late', 'user-2', 'Late', \(due))")
            let environment = try harness.environment(jobsFile: jobsFile)
            let late = try await ProactivityProcess.run(
                ["explain", "--job", "explained", "--item", "late", "--due", Timestamp.format(due)], environment: environment)
            #expect(late.status == 0, "\(late.output)")
            #expect(late.stdout.contains("not alerted: 1 tick(s) covering its due time ran without it, but the job's SQL returns it now"), "\(late.stdout)")
            #expect(late.stdout.contains("tick \(tick.tickId) (scheduled, slot \(Timestamp.format(slot))"), "\(late.stdout)")
            #expect(late.stdout.contains("completed, ran at"), "\(late.stdout)")
            #expect(late.stdout.contains("tick explained@\(Timestamp.format(slot.addingTimeInterval(3600))) (scheduled"), "the next slot covers it too")

            // Never returned by the job's SQL: said so.
            let absent = try await ProactivityProcess.run(
                ["explain", "--job", "explained", "--item", "ghost", "--due", Timestamp.format(due), "--json"], environment: environment)
            #expect(absent.status == 0, "\(absent.output)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(absent.stdout.utf8)) as? [String: Any])
            #expect((object["summary"] as? String)?.contains("did not return it (nor does it now)") == true, "\(absent.stdout)")
            #expect((object["alerts"] as? [Any])?.isEmpty == true)

            // The alerted one, found by job and item.
            let early = try await ProactivityProcess.run(["explain", "--job", "explained", "--item", "early"], environment: environment)
            #expect(early.stdout.contains("alerted for 1 due time(s)") && early.stdout.contains("alert explained:early@"), "\(early.stdout)")

            for (arguments, expected) in [
                (["explain"], "give an alert id, or --job and --item"), (["explain", "not-an-id"], "is not an alert id"),
                (["explain", "--job", "explained", "--item", "x", "--due", "soon"], "--due must be an ISO 8601 time"),
                (["explain", "explained:zzz@2020-01-01T00:00:00Z"], "no alert explained:zzz@2020-01-01T00:00:00.000Z in the ledger"),
            ] {
                let result = try await ProactivityProcess.run(arguments, environment: environment)
                #expect(result.status != 0 && result.output.contains(expected), "\(arguments): \(result.output)")
            }
        }
    }
}
