import Foundation
import ProactivityCore
import Testing

/// SIGTERM to a real `proactivity worker` process in the middle of a run.
@Suite(.timeLimit(.minutes(4)))
struct GracefulShutdownTests {
    let slot = MessageCoding.parseTimestamp("2030-01-07T00:00:00Z")!

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
            let environment = try harness.environment(extra: ["LOG_LEVEL": "info"])

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
}
