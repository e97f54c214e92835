import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// One execution of a job, as audited in `worker_job_events`.
public struct JobExecution: Sendable {
    public enum Status: String, Sendable {
        case success, failure, skipped
    }

    public var jobName: String
    public var status: Status
    public var scheduledAt: Date?
    public var startedAt: Date
    public var finishedAt: Date
    /// A short JSON summary (counts, window), never the alert bodies.
    public var payload: [String: JSONValue]
    public var errorMessage: String?
    public var tickId: String?
    public var correlationId: String?
    /// The definition the job ran with (recorded once per version in
    /// `worker_job_definitions`, named by its digest on the audit row).
    public var definition: JobDefinition?

    public init(
        jobName: String, status: Status, scheduledAt: Date?, startedAt: Date, finishedAt: Date,
        payload: [String: JSONValue], errorMessage: String? = nil, tickId: String?, correlationId: String? = nil,
        definition: JobDefinition? = nil
    ) {
        self.jobName = jobName
        self.status = status
        self.scheduledAt = scheduledAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.payload = payload
        self.errorMessage = errorMessage
        self.tickId = tickId
        self.correlationId = correlationId
        self.definition = definition
    }

    public var runtimeSeconds: Double { finishedAt.timeIntervalSince(startedAt) }
}

/// Writes audit rows.
public struct JobEventStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Records one execution on its own.
    public func record(_ execution: JobExecution) async throws {
        try await client.withConnection { connection in
            try await Self.insert(execution, on: connection, logger: logger)
        }
    }

    /// Inserts the audit row, and the job's definition when this version is new, in one statement.
    static func insert(_ execution: JobExecution, on connection: PostgresConnection, logger: Logger) async throws {
        let payload = String(decoding: MessageCoding.encode(execution.payload), as: UTF8.self)
        // Sorted keys: one definition, one text, one digest.
        let definition = execution.definition.map { String(decoding: MessageCoding.encode($0.auditRecord), as: UTF8.self) }
        try await connection.query(
            """
            WITH version AS (
              SELECT encode(sha256(convert_to(text, 'UTF8')), 'hex') AS digest, text FROM (SELECT \(definition)::text AS text) given
              WHERE text IS NOT NULL),
            recorded AS (
              INSERT INTO worker_job_definitions (definition_digest, job_name, definition)
              SELECT digest, \(execution.jobName), text::jsonb FROM version ON CONFLICT (definition_digest) DO NOTHING)
            INSERT INTO worker_job_events
              (job_name, status, scheduled_at, started_at, finished_at, runtime_seconds, payload, error_message, tick_id, correlation_id,
               definition_digest)
            VALUES (\(execution.jobName), \(execution.status.rawValue), \(execution.scheduledAt), \(execution.startedAt),
                    \(execution.finishedAt), \(execution.runtimeSeconds), \(payload)::jsonb, \(execution.errorMessage),
                    \(execution.tickId), \(execution.correlationId), (SELECT digest FROM version))
            """, logger: logger)
    }

    /// Per job: its last run and counts since `since`, from the audit trail.
    public func summaries(since: Date) async throws -> [JobRunSummary] {
        let rows = try await client.query(
            """
            SELECT DISTINCT ON (job_name) job_name, status, started_at, runtime_seconds, error_message,
                   count(*) FILTER (WHERE started_at >= \(since)) OVER (PARTITION BY job_name)::int,
                   count(*) FILTER (WHERE started_at >= \(since) AND status = 'failure') OVER (PARTITION BY job_name)::int,
                   max(started_at) FILTER (WHERE status = 'success') OVER (PARTITION BY job_name)
            FROM worker_job_events
            ORDER BY job_name, started_at DESC
            """)
        var summaries: [JobRunSummary] = []
        for try await (job, status, started, runtime, error, runs, failures, lastSuccess) in rows.decode(
            (String, String, Date, Double?, String?, Int, Int, Date?).self)
        {
            summaries.append(
                JobRunSummary(
                    jobName: job, lastStatus: status, lastRunAt: started, lastRuntimeSeconds: runtime, lastError: error,
                    runs: runs, failures: failures, lastSuccessAt: lastSuccess))
        }
        return summaries
    }
}

extension JobEventStore {
    /// Each job's last `perJob` runs, newest first (the console's jobs page).
    public func recentRuns(perJob: Int) async throws -> [String: [RecentRun]] {
        let rows = try await client.query(
            """
            SELECT job_name, status, scheduled_at, started_at, runtime_seconds, (payload->>'alerted')::float8, (payload->>'late')::float8,
                   error_message, tick_id
            FROM (SELECT *, row_number() OVER (PARTITION BY job_name ORDER BY started_at DESC) AS rank FROM worker_job_events) runs
            WHERE rank <= \(perJob)
            ORDER BY job_name, started_at DESC
            """)
        var runs: [String: [RecentRun]] = [:]
        for try await (job, status, scheduled, started, runtime, alerted, late, error, tick) in rows.decode(
            (String, String, Date?, Date, Double?, Double?, Double?, String?, String?).self)
        {
            runs[job, default: []].append(
                RecentRun(
                    status: status, scheduledAt: scheduled, startedAt: started, runtimeSeconds: runtime, alerted: alerted.map { Int($0) },
                    late: late.map { Int($0) }, errorMessage: error, tickId: tick))
        }
        return runs
    }
}

/// One run of a job, as the audit trail has it.
public struct RecentRun: Sendable {
    public var status: String
    public var scheduledAt: Date?
    public var startedAt: Date
    public var runtimeSeconds: Double?
    /// Alerts published, and of the due items those found late (successful runs only).
    public var alerted: Int?
    public var late: Int?
    public var errorMessage: String?
    public var tickId: String?
}

/// A job's recent history, for `proactivity status`.
public struct JobRunSummary: Sendable, Codable {
    public var jobName: String
    public var lastStatus: String
    public var lastRunAt: Date
    public var lastRuntimeSeconds: Double?
    public var lastError: String?
    /// Runs and failed runs in the period asked for.
    public var runs: Int
    public var failures: Int
    public var lastSuccessAt: Date?
}
