import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// What the database remembers of alerts and ticks, for `proactivity explain`: the
/// ledger, completed ticks, the audit trail, manual runs and backfills, the DLQ mirror.
public struct LineageStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Ledger entries of an item (one per due time it was alerted for, its first record
    /// where two runs recorded it), latest due first, at most 100.
    /// - Parameter due: a due time to the millisecond, as alert ids carry it (the ledger
    ///   keeps PostgreSQL's microseconds). With it, only the pages whose due range holds
    ///   that millisecond are read; without it, every page of the job.
    public func ledgerEntries(job: String, item: String, due: Date?) async throws -> [Lineage.LedgerEntry] {
        let rows =
            if let due {
                try await client.query(
                    """
                    SELECT DISTINCT ON (sent.due_at) p.job_name, sent.item_id, sent.due_at, p.tick_id, p.published_at
                    FROM worker_alert_pages p CROSS JOIN LATERAL unnest(p.item_ids, p.due_ats) AS sent(item_id, due_at)
                    WHERE p.job_name = \(job) AND p.last_due >= \(due) AND p.first_due < \(due.addingTimeInterval(0.001))
                      AND p.first_due >= \(AlertLedger.utcDay(of: due))
                      AND sent.item_id = \(item) AND sent.due_at >= \(due) AND sent.due_at < \(due.addingTimeInterval(0.001))
                    ORDER BY sent.due_at DESC, p.published_at
                    """, logger: logger)
            } else {
                try await client.query(
                    """
                    SELECT DISTINCT ON (sent.due_at) p.job_name, sent.item_id, sent.due_at, p.tick_id, p.published_at
                    FROM worker_alert_pages p CROSS JOIN LATERAL unnest(p.item_ids, p.due_ats) AS sent(item_id, due_at)
                    WHERE p.job_name = \(job) AND p.item_ids @> ARRAY[\(item)]::text[] AND sent.item_id = \(item)
                    ORDER BY sent.due_at DESC, p.published_at LIMIT 100
                    """, logger: logger)
            }
        var entries: [Lineage.LedgerEntry] = []
        for try await (job, item, due, tick, published) in rows.decode((String, String, Date, String, Date).self) {
            entries.append(Lineage.LedgerEntry(jobName: job, itemId: item, dueAt: due, tickId: tick, publishedAt: published))
        }
        return entries
    }

    /// The ids of the manual runs' ticks of these slots of a job.
    public func manualTickIds(job: String, slots: [Date]) async throws -> [String] {
        var ids: [String] = []
        let rows = try await client.query(
            "SELECT tick_id FROM worker_manual_runs WHERE job_name = \(job) AND slot = ANY(\(slots)) ORDER BY requested_at", logger: logger)
        for try await id in rows.decode(String.self) { ids.append(id) }
        return ids
    }

    /// Everything remembered of these ticks (ids nothing is known of are left out).
    public func ticks(ids: [String]) async throws -> [Lineage.TickRecord] {
        guard !ids.isEmpty else { return [] }
        var records: [String: Lineage.TickRecord] = [:]

        for try await (id, slot, alerts, completed) in try await client.query(
            "SELECT tick_id, slot, alerts, completed_at FROM worker_ticks_completed WHERE tick_id = ANY(\(ids))", logger: logger
        ).decode((String, Date, Int, Date).self) {
            records[id, default: Lineage.TickRecord(tickId: id)].completion = .init(slot: slot, alerts: alerts, completedAt: completed)
        }
        for try await (id, status, started, finished, runtime, payload, error, correlation, digest) in try await client.query(
            """
            SELECT tick_id, status, started_at, finished_at, runtime_seconds, payload::text, error_message, correlation_id, definition_digest
            FROM worker_job_events WHERE tick_id = ANY(\(ids)) ORDER BY started_at, id
            """, logger: logger
        ).decode((String, String, Date, Date?, Double?, String?, String?, String?, String?).self) {
            let fields = payload.flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) } ?? [:]
            records[id, default: Lineage.TickRecord(tickId: id)].runs.append(
                .init(
                    status: status, startedAt: started, finishedAt: finished, runtimeSeconds: runtime, payload: fields, errorMessage: error,
                    correlationId: correlation, definitionDigest: digest))
        }
        for try await (id, by, host, via, at) in try await client.query(
            "SELECT tick_id, requested_by, requested_host, requested_via, requested_at FROM worker_manual_runs WHERE tick_id = ANY(\(ids))",
            logger: logger
        ).decode((String, String, String, String, Date).self) {
            records[id, default: Lineage.TickRecord(tickId: id)].request = .init(kind: "manual run", by: by, host: host, via: via, reason: nil, at: at)
        }
        for try await (id, by, host, reason, at) in try await client.query(
            "SELECT tick_id, requested_by, requested_host, reason, requested_at FROM worker_backfills WHERE tick_id = ANY(\(ids))",
            logger: logger
        ).decode((String, String, String, String, Date).self) {
            records[id, default: Lineage.TickRecord(tickId: id)].request = .init(kind: "backfill", by: by, host: host, via: "cli", reason: reason, at: at)
        }
        // Dead letters: by the correlation id of each failed run (the tick's coordinates).
        let correlations = Array(Set(records.values.flatMap { $0.runs.compactMap(\.correlationId) }))
        if !correlations.isEmpty {
            let tickOf = Dictionary(
                records.values.flatMap { record in record.runs.compactMap { run in run.correlationId.map { ($0, record.tickId) } } },
                uniquingKeysWith: { first, _ in first })
            for try await (rowId, correlation, errorClass, error, created, processed, retries) in try await client.query(
                """
                SELECT id, correlation_id, error_class, error_message, created_at, processed_at, retry_count
                FROM worker_dlq WHERE correlation_id = ANY(\(correlations)) ORDER BY id
                """, logger: logger
            ).decode((Int64, String, String?, String?, Date, Date?, Int).self) {
                guard let id = tickOf[correlation] else { continue }
                records[id]?.deadLetters.append(
                    .init(id: rowId, errorClass: errorClass, errorMessage: error, createdAt: created, replayedAt: processed, replays: retries))
            }
        }
        return ids.compactMap { records[$0] }
    }

    /// A version of a job's definition, as recorded the first time a worker ran it.
    public func definition(digest: String) async throws -> Lineage.DefinitionRecord? {
        for try await (text, firstSeen) in try await client.query(
            "SELECT definition::text, first_seen_at FROM worker_job_definitions WHERE definition_digest = \(digest)", logger: logger
        ).decode((String, Date).self) {
            let fields = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8))) ?? [:]
            return Lineage.DefinitionRecord(digest: digest, definition: fields, firstSeenAt: firstSeen)
        }
        return nil
    }

    /// The item as the job's SQL returns it now for a window (user id and title), read-only
    /// and within the job's statement timeout; `nil` when the SQL does not return it.
    public func currentRow(of item: String, dueAt: Date, job: JobDefinition, window: (start: Date, end: Date)) async throws
        -> (userId: String, title: String?)?
    {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION READ ONLY", logger: logger)
            try await connection.query(
                "SELECT set_config('statement_timeout', \(String(job.statementTimeoutSeconds * 1000)), true)", logger: logger)
            for try await (user, title) in try await connection.query(
                JobQuery(job: job).item(item, dueAt: dueAt, window: window), logger: logger
            ).decode((String, String?).self) {
                return (user, title)
            }
            return nil
        }
    }
}
