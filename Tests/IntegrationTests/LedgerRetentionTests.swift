import Foundation
import Observability
import PostgresNIO
@testable import ProactivityStages
import ProactivityStore
import Testing

/// The ledgers stay bounded: rows past the retention go, in batches; recent ones stay.
@Suite(.timeLimit(.minutes(2)))
struct LedgerRetentionTests {
    @Test func rowsPastTheRetentionArePrunedInBatchesAndTheRestKept() async throws {
        try await PipelineHarness.with { harness in
            let now = Date()
            let old = now.addingTimeInterval(-86_400 * 40)
            try await harness.execute(
                """
                INSERT INTO worker_alerts_sent (job_name, item_id, due_at, tick_id, published_at)
                SELECT 'event-reminder', 'item-' || n, \(old) + n * interval '1 second', 't', CASE WHEN n <= 12000 THEN \(old) ELSE \(now) END
                FROM generate_series(1, 12010) n
                """)
            try await harness.execute(
                """
                INSERT INTO worker_ticks_completed (tick_id, job_name, slot, alerts, completed_at)
                VALUES ('old', 'event-reminder', \(old), 0, \(old)), ('new', 'event-reminder', \(now), 0, \(now))
                """)
            try await harness.execute(
                """
                INSERT INTO worker_job_events (job_name, status, scheduled_at, started_at, finished_at, runtime_seconds, payload, created_at)
                VALUES ('event-reminder', 'success', \(old), \(old), \(old), 0, '{}', \(old)), ('event-reminder', 'success', \(now), \(now), \(now), 0, '{}', \(now))
                """)
            let metrics = EngineMetrics()
            let pruner = LedgerPruner(
                store: LedgerStore(client: harness.client, logger: harness.logger), retention: 86_400 * 30, metrics: metrics,
                logger: harness.logger)
            await pruner.pruneOnce(now: now)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 10)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_job_events") == 1)
            #expect(metrics.render().contains(#"proactivity_ledger_pruned_rows_total{table="worker_alerts_sent"} 12000"#))
        }
    }

    @Test func aRetentionShorterThanAWindowIsRefused() async {
        await #expect {
            _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "LEDGER_RETENTION": "1h"])
        } throws: { error in
            "\(error)".contains("LEDGER_RETENTION 1h is shorter than the longest window plus catch-up grace (2h)")
        }
    }
}
