import Foundation
import Observability
import ProactivityCore
import PostgresNIO
@testable import ProactivityStages
import ProactivityStore
import Testing

/// The ledgers stay bounded: rows past the retention go (the alert ledger's old days as
/// whole partitions, other rows in batches); recent ones stay.
@Suite(.timeLimit(.minutes(4)))
struct LedgerRetentionTests {
    @Test func rowsPastTheRetentionArePrunedAndTheRestKept() async throws {
        try await PipelineHarness.with { harness in
            let now = Date()
            let old = now.addingTimeInterval(-86_400 * 40)
            let store = LedgerRetention(client: harness.client, logger: harness.logger)
            // A day partition past the retention (dropped whole, 500 alerts); alerts of a
            // day without a partition (in the default partition: deleted in batches when
            // written before the retention, 12,000; kept when written since, 100: a
            // replayed old tick still finds them); recent alerts (10).
            let oldDay = now.addingTimeInterval(-86_400 * 35)
            #expect(try await store.alertLedger.addPartitions(from: oldDay, through: oldDay) == 1)
            // In pages of up to 100 alerts, as a worker records them.
            try await harness.execute(
                """
                INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats, published_at)
                SELECT 'event-reminder', 't', min(due), max(due), count(*)::int, array_agg('item-' || n ORDER BY n), array_agg(due ORDER BY n), published
                FROM (SELECT n, CASE WHEN n <= 12100 THEN \(old) + n * interval '1 second'
                                     WHEN n <= 12600 THEN \(AlertLedger.utcDay(of: oldDay)) + n * interval '1 second' ELSE \(now) END AS due,
                             CASE WHEN n <= 12000 THEN \(old) ELSE \(now) END AS published
                      FROM generate_series(1, 12610) n) AS alert
                GROUP BY (due AT TIME ZONE 'UTC')::date, published, (n - 1) / 100
                """)
            #expect(try await harness.count("SELECT sum(items)::int FROM worker_alert_pages_default") == 12100)
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
                store: store, retention: 86_400 * 30, metrics: metrics, migrations: harness.migrationWait, logger: harness.logger)
            await pruner.pruneOnce(now: now)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 110)
            #expect(try await harness.count("SELECT sum(items)::int FROM worker_alert_pages_default") == 100)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_job_events") == 1)
            #expect(metrics.render().contains(#"proactivity_ledger_pruned_rows_total{table="worker_alerts_sent"} 12500"#))
            // The old day's partition is gone; yesterday's to three days ahead exist.
            #expect(try await harness.count("SELECT count(*)::int WHERE to_regclass(\(partitionName(oldDay))) IS NOT NULL") == 0)
            let days = (-1...3).map { partitionName(now.addingTimeInterval(86_400 * Double($0))) }
            #expect(try await harness.count("SELECT count(*)::int FROM unnest(\(days)) AS day WHERE to_regclass(day) IS NOT NULL") == 5)
        }
    }

    @Test func aDayAddedLaterTakesItsRowsFromTheDefaultPartitionAndStillDedupes() async throws {
        try await PipelineHarness.with { harness in
            let later = Date().addingTimeInterval(86_400 * 10)
            try await harness.recordInLedger(tickId: "t", items: [("a", later)])
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alert_pages_default") == 1)
            let ledger = AlertLedger(client: harness.client, logger: harness.logger)
            #expect(try await ledger.addPartitions(from: later, through: later) == 1)
            #expect(try await ledger.addPartitions(from: later, through: later) == 0, "a day is added once")
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alert_pages_default") == 0)
            #expect(try await harness.count("SELECT count(*)::int FROM \(unescaped: partitionName(later))") == 1)
            let again = [DueItem(itemId: "a", userId: "u", title: "t", dueAt: later), DueItem(itemId: "b", userId: "u", title: "t", dueAt: later)]
            #expect(try await ledger.unsent(again, job: BuiltInJobs.eventReminder, window: (later, later.addingTimeInterval(3600))).map(\.itemId) == ["b"], "found in its new partition")
        }
    }

    /// Adding a partition waits at most `lock_timeout` (0.5 s) for a lock a running tick
    /// holds. Without that limit the call would queue behind the open transaction for
    /// good (and every ledger user behind it); the 30 s bound only catches that, the
    /// time it took is printed.
    @Test func aPartitionWhoseLockIsHeldIsLeftForTheNextPass() async throws {
        try await PipelineHarness.with { harness in
            let now = Date()
            let old = now.addingTimeInterval(-86_400 * 40)
            try await harness.execute(
                "INSERT INTO worker_ticks_completed (tick_id, job_name, slot, alerts, completed_at) VALUES ('old', 'event-reminder', \(old), 0, \(old))")
            let store = LedgerRetention(client: harness.client, logger: harness.logger)
            let later = now.addingTimeInterval(86_400 * 10)
            try await harness.client.withConnection { connection in
                // A running tick's query holds the ledger's partitions until it ends.
                try await connection.query("BEGIN", logger: harness.logger)
                try await connection.query("SELECT count(*) FROM worker_alerts_sent", logger: harness.logger)
                let started = ContinuousClock.now
                await #expect(throws: (any Error).self, "adding a partition gives up instead of queueing the ledger's users") {
                    try await store.alertLedger.addPartitions(from: later, through: later)
                }
                let gaveUpAfter = ContinuousClock.now - started
                #expect(gaveUpAfter < .seconds(30))
                print("ledger partition behind a held lock: gave up after \(gaveUpAfter.seconds) s (lock_timeout 0.5 s)")
                await LedgerPruner(
                    store: store, retention: 86_400 * 30, metrics: EngineMetrics(), migrations: harness.migrationWait, logger: harness.logger
                ).pruneOnce(now: now)
                #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 0, "the other tables were pruned")
                try await connection.query("ROLLBACK", logger: harness.logger)
            }
            #expect(try await store.alertLedger.addPartitions(from: later, through: later) == 1, "added once the lock is free")
        }
    }

    private func partitionName(_ date: Date) -> String {
        "worker_alert_pages_" + date.formatted(Date.ISO8601FormatStyle().year().month().day().dateSeparator(.omitted))
    }

    @Test func aRetentionShorterThanAWindowIsRefused() async {
        await #expect {
            _ = try await EngineSettings.load(environment: ["POSTGRES_URL": "postgres://a@b/c", "LEDGER_RETENTION": "1h"])
        } throws: { error in
            "\(error)".contains("LEDGER_RETENTION 1h is shorter than the longest window plus catch-up grace (2h)")
        }
    }
}
