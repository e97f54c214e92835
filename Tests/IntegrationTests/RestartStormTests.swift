import Foundation
import PostgresNIO
import ProactivityCore
import ProactivityLauncher
import Testing

/// Two `proactivity worker` processes in one group while ticks flow; one of them is
/// killed (SIGKILL) and started again 8 times in 30 s. The group keeps completing
/// ticks, and every tick published is completed.
///
/// What is asserted holds on a loaded 2-core machine: nothing lost, and no stall as long
/// as the whole storm (a liveness bound). The longest gaps, the figures to improve, are
/// printed, not asserted: on a busy machine they vary by seconds.
@Suite(.timeLimit(.minutes(5)))
struct RestartStormTests {
    /// Six jobs due every 2 s, spread over the ticks topic's partitions.
    static var sixFastJobs: String {
        let jobs = (1...6).map { index in
            #"{"name": "fast\#(index)", "every": "2s", "window": "2s", "sql": "SELECT 'item-' || extract(epoch from :window_start::timestamptz)::bigint AS item_id, 'user-\#(index)' AS user_id, 'Fast' AS title, :window_start::timestamptz AS due_at WHERE :window_end > :window_start"}"#
        }
        return #"{"jobs": ["# + jobs.joined(separator: ", ") + "]}"
    }

    /// Dynamic membership (the default). Static membership (`WORKER_INSTANCE_ID`) is not
    /// run here: on Tansu a restarted static member was left without its partitions in 2
    /// of 4 runs (see the README).
    @Test func aWorkerRestartedEightTimesInThirtySecondsStallsNothingAndLosesNothing() async throws {
        try await PipelineHarness.with { harness in
            let environment = try harness.environment(jobsFile: try harness.jobsFile(Self.sixFastJobs), extra: ["LOG_LEVEL": "info"])
            let tick = try ProactivityProcess(["tick"], environment: environment)
            let steady = try ProactivityProcess(["worker"], environment: environment)
            var restarted = try ProactivityProcess(["worker"], environment: environment)
            try await eventually(within: .seconds(60), "both workers complete ticks") {
                try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") >= 12
            }

            let stormStart = Date()
            for _ in 0..<8 {
                restarted.signal(SIGKILL)
                _ = try await restarted.waitForExit(within: .seconds(10))
                restarted = try ProactivityProcess(["worker"], environment: environment)
                try await Task.sleep(for: .milliseconds(3_500))  // the storm's pace, not a synchronisation
            }
            let stormEnd = Date()

            // Every tick published by now is completed (none lost), ...
            tick.signal(SIGTERM)
            #expect(try await tick.waitForExit(within: .seconds(30)) == 0)
            let published = Self.publishedTickIDs(in: tick.text)
            #expect(published.count >= 60, "ticks flowed during the storm: \(published.count)")
            try await eventually(within: .seconds(90), "every published tick completed") {
                try await harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = ANY(\(published))") == published.count
            }
            // ... and the group never stopped completing them for long.
            let longestGap = try await harness.seconds(
                """
                SELECT coalesce(extract(epoch FROM max(gap)), 0)::float8 FROM (
                  SELECT completed_at - lag(completed_at) OVER (ORDER BY completed_at) AS gap
                  FROM worker_ticks_completed WHERE completed_at BETWEEN \(stormStart) AND \(stormEnd.addingTimeInterval(10))) gaps
                """)
            let longestJobGap = try await harness.seconds(
                """
                SELECT coalesce(extract(epoch FROM max(gap)), 0)::float8 FROM (
                  SELECT completed_at - lag(completed_at) OVER (PARTITION BY job_name ORDER BY completed_at) AS gap
                  FROM worker_ticks_completed WHERE completed_at > \(stormStart)) gaps
                """)
            // 60 s: twice the storm; a group that stopped completing ticks stalls for
            // longer (session timeouts, rejoins that never settle).
            #expect(longestGap < 60, "longest gap between completed ticks during the storm: \(longestGap) s")
            print(
                "restart storm: \(published.count) ticks published, all completed; longest gap between completed ticks \(String(format: "%.1f", longestGap)) s; longest gap of one job \(String(format: "%.1f", longestJobGap)) s"
            )

            for worker in [steady, restarted] { worker.signal(SIGTERM) }
            #expect(try await steady.waitForExit(within: .seconds(40)) == 0)
            #expect(try await restarted.waitForExit(within: .seconds(40)) == 0)
        }
    }

    /// The tick ids of the `tick_published` lines of a tick producer's output.
    static func publishedTickIDs(in output: String) -> [String] {
        output.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("\"tick_published\""),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            else { return nil }
            return object["tick_id"] as? String
        }
    }
}

extension PipelineHarness {
    /// A query's single `float8` value.
    func seconds(_ query: PostgresQuery) async throws -> Double {
        for try await value in try await client.query(query).decode(Double.self) { return value }
        return 0
    }
}
