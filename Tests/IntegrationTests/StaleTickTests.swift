import Foundation
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// A tick whose window starts before what the alert ledger remembers (LEDGER_RETENTION)
/// is refused, since its items may have been alerted and forgotten; an operator's
/// recorded backfill runs it.
@Suite(.timeLimit(.minutes(3)))
struct StaleTickTests {
    @Test func aTickOlderThanTheLedgerIsRefusedUntilAnOperatorAsksForABackfill() async throws {
        try await PipelineHarness.with { harness in
            let job = BuiltInJobs.eventReminder
            let old = job.schedule.slot(atOrBefore: Date().addingTimeInterval(-45 * 86_400))
            let recent = job.schedule.slot(atOrBefore: Date().addingTimeInterval(-86_400))
            try await harness.execute(
                """
                INSERT INTO events (user_id, title, starts_at)
                VALUES ('old-user', 'Long ago', \(old.addingTimeInterval(600))), ('recent-user', 'Yesterday', \(recent.addingTimeInterval(600)))
                """)
            let stale = TickMessage(job: job, slot: old, producedAt: Date())
            let fresh = TickMessage(job: job, slot: recent, producedAt: Date())
            try await harness.withWorker(stages: [.worker, .mirror], environment: ["LEDGER_RETENTION": "30d"]) { assembly in
                try await harness.publish([stale, fresh])
                try await harness.waitForCompletion(of: [fresh])
                try await eventually("the stale tick is dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq WHERE error_class = 'stale_tick'") == 1
                }
                let row = try #require(try await DeadLetterStore(client: harness.client, logger: harness.logger).list(DeadLetterFilter(errorClass: "stale_tick")).first)
                #expect(row.errorMessage?.contains("before what the alert ledger remembers (LEDGER_RETENTION 30d") == true, "\(row.errorMessage ?? "")")
                #expect(row.errorMessage?.contains("proactivity jobs backfill event-reminder --slot \(Timestamp.format(old))") == true)
                #expect(try await harness.alerts().map(\.alert.userId) == ["recent-user"], "the stale window alerted nothing")
                try await eventually("the worker counts the dead letter") {
                    assembly.metrics.render().contains(#"proactivity_dlq_messages_total{stage="worker",reason="stale_tick"} 1"#)
                }
                #expect(try await harness.count("SELECT count(*)::int FROM worker_job_events WHERE status = 'failure' AND error_message LIKE '%alert ledger remembers%'") == 1)

                // The operator's backfill: recorded, then the same tick runs.
                try await BackfillStore(client: harness.client, logger: harness.logger).record(
                    Backfill(tickId: stale.tickId, jobName: job.name, slot: old, requestedBy: "tester", requestedHost: "here", reason: "test"))
                try await harness.publish([stale])
                try await harness.waitForCompletion(of: [stale])
            }
            #expect(Set(try await harness.alerts().map(\.alert.userId)) == ["recent-user", "old-user"])
        }
    }
}
