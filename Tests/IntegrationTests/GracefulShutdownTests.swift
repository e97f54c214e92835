import Foundation
import PostgresNIO
import ProactivityCore
import ProactivityLauncher
import Testing

/// SIGTERM (and SIGHUP) to real `proactivity` processes in the middle of a run.
@Suite(.timeLimit(.minutes(4)))
struct GracefulShutdownTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T00:00:00Z")!

    @Test func aWorkerStoppedMidRunExitsZeroAndNoAlertIsLostOrDuplicated() async throws {
        try await PipelineHarness.with { harness in
            // 40 hourly ticks with 1,000 due events each, windows not overlapping: 40,000 alerts.
            let hours = 40
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || (n % 500), 'Event ' || n, \(slot) + n * interval '3.6 seconds' FROM generate_series(0, \(hours * 1000 - 1)) n
                """)
            let ticks = (0..<hours).map {
                TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(Double($0) * 3600), producedAt: slot)
            }
            try await harness.publish(ticks)
            // The built-in job's query, plus 0.2 s per tick: the ticks (one job, one
            // partition, one at a time) take 8 s at least, so SIGTERM lands mid-run however
            // fast the machine is.
            let file = try harness.jobsFile(
                #"{"jobs": [{"name": "event-reminder", "sql": "WITH pause AS MATERIALIZED (SELECT pg_sleep(0.2)) SELECT e.id::text AS item_id, e.user_id, e.title, e.starts_at AS due_at FROM events e, pause WHERE e.starts_at >= :window_start AND e.starts_at < :window_end"}]}"#)
            let environment = try harness.environment(jobsFile: file, extra: ["LOG_LEVEL": "info"])

            let first = try ProactivityProcess(["worker"], environment: environment)
            try await eventually(within: .seconds(90), "the first worker completes some ticks") {
                try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") >= 3
            }
            first.signal(SIGTERM)
            let status = try await first.waitForExit(within: .seconds(40))
            let completedByFirst = try await harness.count("SELECT count(*)::int FROM worker_ticks_completed")
            #expect(status == 0, "exit status after SIGTERM; output:\n\(first.text.suffix(3000))")
            #expect(first.text.contains("shutdown_started") && first.text.contains("stage_stopped"))
            #expect(first.text.contains("worker_stopped"))
            #expect(completedByFirst < hours, "stopped mid-run (it completed \(completedByFirst) of \(hours) ticks)")

            // A second worker in the same group takes over from the committed offsets.
            let second = try ProactivityProcess(["worker"], environment: environment)
            try await harness.waitForCompletion(of: ticks, within: .seconds(120))
            second.signal(SIGTERM)
            #expect(try await second.waitForExit(within: .seconds(40)) == 0)

            let alerts = try await harness.alerts()
            #expect(alerts.count == hours * 1000, "every alert published")
            #expect(Set(alerts.map(\.alert.alertId)).count == alerts.count, "no alert published twice")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == hours * 1000)
        }
    }

    /// A closing terminal (SIGHUP) stops the stages as SIGTERM does, instead of killing
    /// them in their consumer group; `alerts tail` leaves its group and exits 129.
    @Test func aHangUpIsAGracefulShutdown() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(slot.addingTimeInterval(600)))")
            let environment = try harness.environment(extra: ["LOG_LEVEL": "info"])
            let engine = try ProactivityProcess(["all"], environment: environment)
            let tail = try ProactivityProcess(["alerts", "tail", "--from-beginning"], environment: environment)
            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            try await harness.publish([tick])
            try await harness.waitForCompletion(of: [tick])
            try await eventually("the tail prints the alert") { tail.stdout.contains("ALERT event-reminder:") }

            engine.signal(SIGHUP)
            tail.signal(SIGHUP)
            #expect(try await engine.waitForExit(within: .seconds(40)) == 0, "exit status after SIGHUP; output:\n\(engine.text.suffix(3000))")
            #expect(engine.text.contains("shutdown_started") && engine.text.contains("stage_stopped") && engine.text.contains("worker_stopped"))
            #expect(try await tail.waitForExit(within: .seconds(40)) == 129, "\(tail.text.suffix(2000))")
        }
    }

    @Test func aShutdownPastItsLimitExitsNonZeroNamingTheAbandonedTick() async throws {
        try await PipelineHarness.with { harness in
            let file = try harness.jobsFile(
                #"{"jobs": [{"name": "slow-shutdown", "every": "5m", "window": "1h", "sql": "SELECT 'slow-1' AS item_id, 'dave' AS user_id, 'Slow' AS title, :window_start::timestamptz AS due_at FROM pg_sleep(60) WHERE :window_end > :window_start"}]}"#)
            var job = BuiltInJobs.eventReminder
            job.name = "slow-shutdown"
            let tick = TickMessage(job: job, slot: slot, producedAt: slot)
            let worker = try ProactivityProcess(
                ["worker"], environment: try harness.environment(jobsFile: file, extra: ["SHUTDOWN_TIMEOUT": "2s", "LOG_FORMAT": "text"]))
            try await harness.publish([tick])
            // The job's rows are fetched from a cursor named after it.
            let sleeping: PostgresQuery = """
                SELECT count(*)::int FROM pg_stat_activity
                WHERE query LIKE 'FETCH%"job_slow-shutdown"' AND state = 'active' AND wait_event = 'PgSleep'
                """
            try await eventually("the worker is inside the slow query") { try await harness.count(sleeping) >= 1 }
            worker.signal(SIGTERM)
            let status = try await worker.waitForExit(within: .seconds(30))
            #expect(status != 0, "a shutdown that ran out of time is not a success")
            #expect(worker.text.contains("shutdown_timed_out"), "\(worker.text.suffix(2000))")
            #expect(worker.text.contains("tick \(tick.tickId)"), "the abandoned tick is named")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 0)
            try await harness.execute(
                #"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'FETCH%"job_slow-shutdown"'"#)
        }
    }
}
