import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore
import ServiceLifecycle
import Testing

/// definition, and a tick that is not one of its job's goes to the DLQ as `invalid_tick`.
@Suite(.timeLimit(.minutes(4)))
struct ForgedTickTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func aForgedWindowAlertsOnlyTheJobsWindowAndInvalidTicksAreDeadLettered() async throws {
        try await PipelineHarness.with { harness in
            // 5 events in the job's window, 20 far outside it.
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                SELECT 'user-' || n, 'Event ' || n, CASE WHEN n <= 5 THEN \(slot) + n * interval '1 minute' ELSE \(slot) + n * interval '30 days' END
                FROM generate_series(1, 25) n
                """)
            var wide = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            wide.windowEnd = slot.addingTimeInterval(86_400 * 3650)
            var longID = TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(300), producedAt: slot)
            longID.tickId = String(repeating: "x", count: 10_000)
            var zeroShards = TickMessage(job: BuiltInJobs.eventReminder, slot: slot.addingTimeInterval(600), producedAt: slot)
            zeroShards.shardCount = 0
            let future = TickMessage(job: BuiltInJobs.eventReminder, slot: Date().addingTimeInterval(86_400 * 365), producedAt: slot)
            try await harness.withWorker(stages: [.worker, .mirror]) { _ in
                try await harness.publish([wide, longID, zeroShards, future])
                try await harness.waitForCompletion(of: [wide])
                try await eventually("three invalid ticks dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq WHERE error_class = 'invalid_tick'") == 3
                }
            }
            let alerts = try await harness.alerts()
            #expect(alerts.count == 5, "only the job's own window was alerted")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 5, "nothing outside it recorded as sent")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 1)
        }
    }
}
