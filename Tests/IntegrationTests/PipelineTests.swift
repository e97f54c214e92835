import Foundation
import HummingbirdTesting
import Kafka
import Observability
import PostgresNIO
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

@Suite(.timeLimit(.minutes(4)))
struct PipelineTests {
    /// A fixed slot far from the real clock: the worker only uses the tick's window.
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    func tick(_ job: JobDefinition, at slot: Date, shard: Int = 0) -> TickMessage {
        TickMessage(job: job, slot: slot, shard: shard, producedAt: slot)
    }

    @Test func knownItemsGiveExactlyTheExpectedAlertsOnceAndAChangedTimeANewOne() async throws {
        try await PipelineHarness.with { harness in
            let at = { (minutes: Double) in slot.addingTimeInterval(minutes * 60) }
            try await harness.execute(
                """
                INSERT INTO events (id, user_id, title, starts_at) VALUES
                  (1, 'alice', 'Standup', \(at(30))), (2, 'bob', 'Too late', \(at(120))), (3, 'carol', 'Long ago', \(at(-120)))
                """)
            try await harness.execute(
                """
                INSERT INTO tasks (id, user_id, title, due_at, status) VALUES
                  (10, 'alice', 'Report', \(at(80)), 'open'), (11, 'bob', 'Done already', \(at(20)), 'done'),
                  (12, 'carol', 'Later', \(at(100)), 'open')
                """)
            try await harness.withWorker { assembly in
                let first = [tick(BuiltInJobs.eventReminder, at: slot), tick(BuiltInJobs.taskReminder, at: slot)]
                try await harness.publish(first)
                try await harness.waitForCompletion(of: first)

                let alerts = try await harness.alerts()
                #expect(alerts.map(\.alert.alertId).sorted() == [
                    "event-reminder:1@2020-01-06T10:30:00.000Z", "task-reminder:10@2020-01-06T11:20:00.000Z",
                ])
                for (alert, key, headerID) in alerts {
                    #expect(key == "alice")
                    #expect(headerID == alert.alertId)
                    #expect(alert.userId == "alice")
                    #expect(!alert.late)
                }
                #expect(alerts.first { $0.alert.jobName == "event-reminder" }?.alert.title == "Standup")

                // The same ticks again, and the next slot (overlapping window): nothing new.
                let again = first + [tick(BuiltInJobs.eventReminder, at: at(5)), tick(BuiltInJobs.taskReminder, at: at(5))]
                try await harness.publish(again)
                try await harness.waitForCompletion(of: again)
                #expect(try await harness.alerts().count == 2)

                // Moving the event makes a new alert with a new id.
                try await harness.execute("UPDATE events SET starts_at = \(at(45)) WHERE id = 1")
                let moved = [tick(BuiltInJobs.eventReminder, at: at(10))]
                try await harness.publish(moved)
                try await harness.waitForCompletion(of: moved)
                let after = try await harness.alerts().map(\.alert.alertId)
                #expect(after.count == 3)
                #expect(after.contains("event-reminder:1@2020-01-06T10:45:00.000Z"))

                // Audit rows: one success per run, with the alert counts.
                #expect(try await harness.count("SELECT count(*)::int FROM worker_job_events WHERE status = 'success'") == 5)
                #expect(
                    try await harness.count("SELECT sum((payload->>'alerted')::int)::int FROM worker_job_events") == 3)

                // Metrics agree with what ran; health and readiness answer.
                let text = assembly.metrics.render()
                #expect(text.contains(#"sparkone_worker_job_count_total{job_name="event-reminder",status="success"} 3"#))
                #expect(text.contains(#"sparkone_worker_job_count_total{job_name="task-reminder",status="success"} 2"#))
                #expect(text.contains(#"proactivity_alerts_published_total{job_name="event-reminder"} 2"#))
                #expect(text.contains(#"sparkone_worker_job_latency_seconds_count{job_name="event-reminder"} 3"#))
                // Every alert's notice is recorded; the overlapping windows' items were suppressed.
                #expect(text.contains(#"proactivity_alert_lead_seconds_count{job_name="event-reminder"} 2"#), "\(text)")
                #expect(text.contains(#"proactivity_duplicates_suppressed_total{job_name="event-reminder"} 1"#), "\(text)")
                #expect(text.contains(#"proactivity_late_alerts_total{job_name="event-reminder"} 0"#))
            }
        }
    }

    @Test func aWorkerStoppedBetweenPublishingAndRecordingIsReplacedWithNothingLost() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                "INSERT INTO events (user_id, title, starts_at) SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 minute' FROM generate_series(1, 20) n")
            // Recording the completion fails (as if the database went away) until the fault is cleared.
            try await harness.execute("CREATE TABLE fault (on_ boolean)")
            try await harness.execute("INSERT INTO fault VALUES (true)")
            try await harness.execute(
                """
                CREATE FUNCTION fail_completion() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF EXISTS (SELECT 1 FROM fault) THEN RAISE EXCEPTION 'injected outage' USING ERRCODE = '08006'; END IF;
                  RETURN NEW;
                END $$
                """)
            try await harness.execute(
                "CREATE TRIGGER fail_completion BEFORE INSERT ON worker_ticks_completed FOR EACH ROW EXECUTE FUNCTION fail_completion()")
            let ticks = [tick(BuiltInJobs.eventReminder, at: slot)]
            try await harness.publish(ticks)

            // The first worker publishes the alerts, cannot record them, and is stopped.
            try await harness.withWorker { _ in
                try await eventually("the first worker published the alerts") { try await harness.alerts().count >= 20 }
            }
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 0)

            // Its replacement gets the uncommitted tick again and completes it.
            try await harness.execute("DELETE FROM fault")
            try await harness.withWorker { _ in try await harness.waitForCompletion(of: ticks) }

            let alerts = try await harness.alerts()
            let ids = Set(alerts.map(\.alert.alertId))
            #expect(ids.count == 20, "every due item alerted")
            #expect(alerts.count >= 20)
            for id in ids {
                let copies = alerts.filter { $0.alert.alertId == id }
                #expect(Set(copies.map(\.alert.itemId)).count == 1, "duplicates share the alert id")
            }
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 20)
        }
    }

    @Test func aShardedJobSplitsItsWindowAcrossTwoWorkersWithNothingMissed() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                "INSERT INTO tasks (user_id, title, due_at) SELECT 'user-' || (n % 50), 'Task ' || n, \(slot) + (n % 60) * interval '1 minute' FROM generate_series(1, 300) n")
            let jobsFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(harness.schema)-jobs.json")
            try Data(#"{"jobs": [{"name": "task-reminder", "shards": 2}]}"#.utf8).write(to: jobsFile)
            var job = BuiltInJobs.taskReminder
            job.shards = 2
            let ticks = [tick(job, at: slot, shard: 0), tick(job, at: slot, shard: 1)]
            try await harness.withWorker(jobsFile: jobsFile.path) { first in
                try await harness.withWorker(jobsFile: jobsFile.path) { second in
                    try await eventually("both workers own partitions") {
                        first.health.readiness.checks["worker.assignment"] == "ok" && second.health.readiness.checks["worker.assignment"] == "ok"
                    }
                    try await harness.publish(ticks)
                    try await harness.waitForCompletion(of: ticks)
                }
            }
            let alerts = try await harness.alerts()
            #expect(alerts.count == 300)
            #expect(Set(alerts.map(\.alert.alertId)).count == 300)
            // Each user's alerts come from one shard, in due order within the user's partition.
            for user in Set(alerts.map(\.alert.userId)) {
                let mine = alerts.filter { $0.alert.userId == user }
                #expect(Set(mine.map(\.alert.tickId)).count == 1)
                #expect(mine.map(\.alert.dueAt) == mine.map(\.alert.dueAt).sorted())
            }
            #expect(Set(alerts.map(\.alert.tickId)) == Set(ticks.map(\.tickId)))
        }
    }

    @Test func healthAndReadinessAnswerAsSpecified() async throws {
        try await PipelineHarness.with { harness in
            try await harness.withWorker { assembly in
                try await eventually("ready") { assembly.health.readiness.ready }
                let app = ObservabilityRouter.application(router: assembly.router, host: "127.0.0.1", port: 0, logger: harness.logger)
                try await app.test(.router) { client in
                    try await client.execute(uri: "/healthz", method: .get) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body).contains(#""jobs":["event-reminder","task-reminder"]"#))
                    }
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .ok)
                    }
                    try await client.execute(uri: "/metrics", method: .get) { response in
                        #expect(String(buffer: response.body).contains("sparkone_worker_job_count_total"))
                    }
                }
                assembly.health.report(.probeDatabase, failing: "database unreachable: test")
                try await app.test(.router) { client in
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(String(buffer: response.body).contains("database unreachable: test"))
                    }
                }
            }
        }
    }
}

@Suite(.timeLimit(.minutes(4)))
struct DailyBriefTests {
    @Test func theBriefSendsOneAlertPerUserWithTheDaysEventsAndTasks() async throws {
        try await PipelineHarness.with { harness in
            let slot = MessageCoding.parseTimestamp("2020-01-06T07:00:00Z")!
            let at = { (hours: Double) in slot.addingTimeInterval(hours * 3600) }
            try await harness.execute(
                "INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(at(2))), ('alice', 'Lunch', \(at(5))), ('bob', 'Tomorrow', \(at(30)))")
            try await harness.execute(
                "INSERT INTO tasks (user_id, title, due_at, status) VALUES ('bob', 'Report', \(at(3)), 'open'), ('carol', 'Done', \(at(3)), 'done')")
            let jobsFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(harness.schema)-brief.json")
            try Data(#"{"jobs": [{"name": "daily-brief", "enabled": true}]}"#.utf8).write(to: jobsFile)
            var brief = BuiltInJobs.dailyBrief
            brief.enabled = true
            let tick = TickMessage(job: brief, slot: slot, producedAt: slot)
            try await harness.withWorker(jobsFile: jobsFile.path) { _ in
                try await harness.publish([tick])
                try await harness.waitForCompletion(of: [tick])
            }
            let alerts = try await harness.alerts().map(\.alert).sorted { $0.userId < $1.userId }
            #expect(alerts.map(\.userId) == ["alice", "bob"])
            #expect(alerts.map(\.title) == ["Your day: 2 events, 0 tasks", "Your day: 0 events, 1 tasks"])
            #expect(alerts[0].alertId == "daily-brief:brief:alice@2020-01-06T07:00:00.000Z")
            guard case .object(let payload) = alerts[0].payload, case .array(let events) = payload["events"] else {
                Issue.record("the brief's payload lists the events")
                return
            }
            #expect(events.count == 2)
        }
    }
}
