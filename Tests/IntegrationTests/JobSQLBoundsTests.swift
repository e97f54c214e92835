import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Observability
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import ProactivityStore
import ServiceLifecycle
import Testing

/// A job's SQL is outside code: it cannot change data, and it cannot run forever.
@Suite(.timeLimit(.minutes(4)))
struct JobSQLBoundsTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func aJobQueryThatWritesFailsAsJobSQLAndOneTooSlowTimesOut() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                "INSERT INTO events (user_id, title, starts_at) SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 minute' FROM generate_series(1, 5) n")
            try await harness.execute(
                "CREATE FUNCTION forget_events() RETURNS int LANGUAGE sql VOLATILE AS $$ DELETE FROM events RETURNING 1 $$")
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [
                  {"name": "writer", "every": "5m", "window": "1h",
                   "sql": "SELECT e.id::text AS item_id, e.user_id, e.title, e.starts_at AS due_at FROM events e, forget_events() f WHERE e.starts_at >= :window_start AND e.starts_at < :window_end"},
                  {"name": "sleeper", "every": "5m", "window": "1h", "statement_timeout": "1s",
                   "sql": "SELECT 'x' AS item_id, 'u' AS user_id, 't' AS title, :window_start AS due_at FROM pg_sleep(5) WHERE :window_end IS NOT NULL"}
                ]}
                """#)
            let settings = try await harness.settings(jobsFile: jobs)
            let ticks = ["writer", "sleeper"].map { TickMessage(job: settings.jobs.job(named: $0)!, slot: slot, producedAt: slot) }
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: jobs, environment: ["WORKER_RETRY_ATTEMPTS": "1"]) { _ in
                try await harness.publish(ticks)
                try await eventually(within: .seconds(60), "both ticks dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == 2
                }
            }
            #expect(try await harness.count("SELECT count(*)::int FROM events") == 5, "the job's query changed nothing")
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_dlq WHERE job_name = 'writer' AND error_class = 'job_sql' AND error_message LIKE '%read-only%'") == 1)
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_dlq WHERE job_name = 'sleeper' AND error_class = 'transient' AND error_message LIKE '%statement timeout%'") == 1)
        }
    }
}

extension JobSQLBoundsTests {
    /// A job's rows are read from a cursor, in pages; its statement timeout bounds the
    /// whole run, not each page: here every page takes 0.4 s, under the 1 s timeout, and
    /// the 8 pages together 3 s.
    @Test func aJobQueryReadInPagesStopsAtItsStatementTimeoutOverAllOfThem() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute(
                "INSERT INTO events (user_id, title, starts_at) SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 second' FROM generate_series(1, 1500) n")
            // 2 ms per row as it is fetched (an expensive function is evaluated after the sort).
            try await harness.execute(
                "CREATE FUNCTION slow_title(title text) RETURNS text LANGUAGE plpgsql STABLE COST 1000 AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN title; END $$")
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [{"name": "steady", "every": "5m", "window": "1h", "statement_timeout": "1s",
                  "sql": "SELECT e.id::text AS item_id, e.user_id, slow_title(e.title) AS title, e.starts_at AS due_at FROM events e WHERE e.starts_at >= :window_start AND e.starts_at < :window_end"}]}
                """#)
            let settings = try await harness.settings(jobsFile: jobs)
            let tick = TickMessage(job: settings.jobs.job(named: "steady")!, slot: slot, producedAt: slot)
            try await harness.withWorker(
                stages: [.worker, .mirror], jobsFile: jobs, environment: ["WORKER_RETRY_ATTEMPTS": "1", "WORKER_PAGE_SIZE": "200"]
            ) { _ in
                try await harness.publish([tick])
                try await eventually(within: .seconds(60), "the tick dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1
                }
            }
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_dlq WHERE job_name = 'steady' AND error_class = 'transient' AND error_message LIKE '%statement timeout%'") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") == 0)
        }
    }

    /// Every job's query is checked when a worker starts, and every problem is listed.
    @Test func aWorkerListsEveryBrokenJobQueryAtStart() async throws {
        try await PipelineHarness.with { harness in
            let jobs = try harness.jobsFile(
                #"""
                {"jobs": [
                  {"name": "no-table", "every": "5m", "window": "1h",
                   "sql": "SELECT id::text AS item_id, user_id, title, due_at FROM invoices WHERE due_at >= :window_start AND due_at < :window_end"},
                  {"name": "no-title", "every": "5m", "window": "1h",
                   "sql": "SELECT e.id::text AS item_id, e.user_id, e.starts_at AS due_at FROM events e WHERE e.starts_at >= :window_start AND e.starts_at < :window_end"}
                ]}
                """#)
            let worker = try ProactivityProcess(["worker"], environment: try harness.environment(jobsFile: jobs))
            try await eventually(within: .seconds(30), "the worker lists both broken jobs") {
                let text = worker.text
                return text.contains("worker_jobs_invalid") && text.contains("job 'no-table'") && text.contains("invoices")
                    && text.contains("job 'no-title'") && text.contains("title")
            }
            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(within: .seconds(30)) == 0)
        }
    }
}

/// A tick names its job, slot and shard; everything else comes from the worker's own

extension JobSQLBoundsTests {
    /// A payload is JSON by its type (`json`, `jsonb`: taken as they are) or checked as
    /// JSON (any other type): a text payload that is not JSON fails the job's SQL, and
    /// nothing of that window is alerted.
    @Test func aPayloadIsJSONByItsTypeOrCheckedAsJSON() async throws {
        try await PipelineHarness.with { harness in
            func job(_ name: String, payload: String) -> String {
                #"{"name": "\#(name)", "every": "5m", "window": "1h", "sql": "SELECT '\#(name)-1' AS item_id, 'u' AS user_id, 'T' AS title, :window_start + interval '1 minute' AS due_at, \#(payload) AS payload WHERE :window_end > :window_start"}"#
            }
            let jobs = try harness.jobsFile(
                #"{"jobs": ["# + [
                    job("as-text", payload: #"'{\"a\": [1, \"x\"], \"b\": null}'::text"#),
                    job("as-json", payload: "json_build_object('n', 2)"),
                    job("as-jsonb", payload: "jsonb_build_object('m', 'é')"),
                    job("not-json", payload: "'{not json'::text"),
                ].joined(separator: ", ") + "]}")
            let settings = try await harness.settings(jobsFile: jobs)
            let ticks = ["as-text", "as-json", "as-jsonb", "not-json"].map {
                TickMessage(job: settings.jobs.job(named: $0)!, slot: slot, producedAt: slot)
            }
            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: jobs, environment: ["WORKER_RETRY_ATTEMPTS": "1"]) { _ in
                try await harness.publish(ticks)
                try await harness.waitForCompletion(of: Array(ticks.prefix(3)))
                try await eventually(within: .seconds(60), "the tick whose payload is not JSON is dead-lettered") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1
                }
            }
            let payloads = Dictionary(uniqueKeysWithValues: try await harness.alerts().map { ($0.alert.jobName, $0.alert.payload) })
            #expect(payloads.count == 3, "one alert for each job whose payload is JSON: \(payloads)")
            #expect(payloads["as-text"] == .object(["a": .array([.number(1), .string("x")]), "b": .null]))
            #expect(payloads["as-json"] == .object(["n": .number(2)]))
            #expect(payloads["as-jsonb"] == .object(["m": .string("é")]))
            #expect(
                try await harness.count(
                    "SELECT count(*)::int FROM worker_dlq WHERE job_name = 'not-json' AND error_class = 'job_sql' AND error_message LIKE '%type json%'") == 1)
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent WHERE job_name = 'not-json'") == 0)
        }
    }
}
