import Foundation
import PostgresNIO
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// Failures that are neither an unreachable dependency nor permanent: retried within
/// the budget, then dead-lettered as `transient`, where automatic replay picks them up.
@Suite(.timeLimit(.minutes(3)))
struct TransientFailureTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    /// A job whose query fails with a serialization failure (SQLSTATE 40001, transient)
    /// while `flaky_switch.failing` is true.
    func createFlakyJob(_ harness: PipelineHarness) async throws -> (file: String, job: JobDefinition) {
        try await harness.execute("CREATE TABLE flaky_switch (failing boolean NOT NULL)")
        try await harness.execute("INSERT INTO flaky_switch VALUES (true)")
        try await harness.execute(
            """
            CREATE FUNCTION flaky_items(window_start timestamptz, window_end timestamptz)
            RETURNS TABLE (item_id text, user_id text, title text, due_at timestamptz) AS $$
            BEGIN
              IF (SELECT failing FROM flaky_switch) THEN
                RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
              END IF;
              RETURN QUERY SELECT 'flaky-1'::text, 'bob'::text, 'Retried'::text, window_start + interval '5 minutes';
            END $$ LANGUAGE plpgsql
            """)
        let file = try harness.jobsFile(
            #"{"jobs": [{"name": "flaky", "every": "5m", "window": "1h", "sql": "SELECT * FROM flaky_items(:window_start, :window_end)"}]}"#)
        var job = BuiltInJobs.eventReminder
        job.name = "flaky"
        return (file, job)
    }

    /// Settings for a worker with this retry budget and automatic replay every second.
    func autoReplay(attempts: Int, maxReplays: Int) -> [String: String] {
        [
            "WORKER_RETRY_ATTEMPTS": String(attempts), "DLQ_AUTO_REPLAY_ENABLED": "true", "DLQ_AUTO_REPLAY_BACKOFF": "1s",
            "DLQ_AUTO_REPLAY_INTERVAL": "1s", "DLQ_AUTO_REPLAY_MAX_REPLAYS": String(maxReplays),
        ]
    }

    @Test func aTransientFailureIsRetriedWithinItsBudgetThenDeadLetteredAndAutoReplayedOnceItClears() async throws {
        try await PipelineHarness.with { harness in
            let (file, job) = try await createFlakyJob(harness)
            let environment = autoReplay(attempts: 2, maxReplays: 5)
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: file, environment: environment) { assembly in
                let tick = TickMessage(job: job, slot: slot, producedAt: slot)
                try await harness.publish([tick])
                try await eventually("the tick is dead-lettered as transient") {
                    try await !store.list(DeadLetterFilter(errorClass: "transient")).isEmpty
                }
                let first = try #require(try await store.list(DeadLetterFilter(errorClass: "transient")).first)
                #expect(first.jobName == "flaky")
                #expect(first.attempts == 2, "two attempts: the budget")
                #expect(first.errorMessage?.contains("could not serialize access") == true)
                #expect(first.earlierReplays == 0)

                try await harness.execute("UPDATE flaky_switch SET failing = false")
                try await harness.waitForCompletion(of: [tick])
                try await eventually("every transient row is replayed") {
                    let rows = try await store.list(DeadLetterFilter(errorClass: "transient"))
                    return rows.allSatisfy { $0.processedAt != nil && $0.retryCount == 1 }
                }
                let rows = try await store.list(DeadLetterFilter(errorClass: "transient"))
                #expect(rows.map { $0.earlierReplays ?? -1 } == Array(0..<rows.count), "each failure of a replay carries the replay count")
                #expect(try await harness.alerts().map(\.alert.userId) == ["bob"])
                let metrics = assembly.metrics.render()
                #expect(metrics.contains(#"proactivity_dlq_messages_total{stage="worker",reason="transient"} \#(rows.count)"#))
                #expect(metrics.contains(#"proactivity_dlq_replays_total{result="replayed"} \#(rows.count)"#))
            }
        }
    }

    @Test func automaticReplayStopsAtItsBudget() async throws {
        try await PipelineHarness.with { harness in
            let (file, job) = try await createFlakyJob(harness)
            let environment = autoReplay(attempts: 1, maxReplays: 1)
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: file, environment: environment) { assembly in
                try await harness.publish([TickMessage(job: job, slot: slot, producedAt: slot)])
                try await eventually("the replayed tick fails again and comes back with its replay count") {
                    try await store.list(DeadLetterFilter(errorClass: "transient")).contains { $0.earlierReplays == 1 }
                }
                // The routine runs every second: several more runs must leave the last row alone.
                let replayer = DeadLetterAutoReplayer(
                    policy: AutoReplayPolicy(maxReplays: 1, backoff: 1, interval: 1), store: store,
                    replayer: DeadLetterReplayer(
                        store: store, producer: try TestEnvironment.producer(), allowedTopics: [harness.ticksTopic], metrics: assembly.metrics,
                        logger: harness.logger),
                    logger: harness.logger)
                #expect(try await replayer.replayDueRows(now: Date().addingTimeInterval(86_400)).isEmpty)
                let rows = try await store.list(DeadLetterFilter(errorClass: "transient"))
                #expect(rows.count == 2)
                #expect(rows.map { $0.processedAt != nil } == [true, false], "the first row was replayed, the second is over budget")
            }
        }
    }

    @Test func anAlertTooLargeForTheBrokerSendsItsTickToTheDLQAtOnce() async throws {
        try await PipelineHarness.with { harness in
            let file = try harness.jobsFile(
                #"{"jobs": [{"name": "huge", "every": "5m", "window": "1h", "sql": "SELECT 'huge-1' AS item_id, 'carol' AS user_id, 'Huge' AS title, :window_start + interval '1 minute' AS due_at, jsonb_build_object('blob', repeat('x', 9000000)) AS payload WHERE :window_end > :window_start"}]}"#)
            var job = BuiltInJobs.eventReminder
            job.name = "huge"
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: file) { _ in
                let tick = TickMessage(job: job, slot: slot, producedAt: slot)
                try await harness.publish([tick])
                try await eventually("the tick is dead-lettered") { try await !store.list(DeadLetterFilter()).isEmpty }
                let row = try #require(try await store.list(DeadLetterFilter()).first)
                #expect(row.errorClass == "message_too_large")
                #expect(row.attempts == 1, "not retried")
                #expect(row.value == MessageCoding.encode(tick), "the tick itself is kept intact")
            }
        }
    }
}
