import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// The worker's database work for one tick: run the job's query, find which items were
/// alerted already, and record the outcome (alerts sent, tick completed, audit row)
/// atomically.
public struct ReminderStore: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Whether this tick was completed before (a duplicate or a redelivery).
    public func isCompleted(tickId: String) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM worker_ticks_completed WHERE tick_id = \(tickId)")
        for try await _ in rows { return true }
        return false
    }

    /// Runs a job's query for a tick's window and shard.
    ///
    /// The job's SQL is wrapped so that the window is bound (`:window_start` → `$1`,
    /// `:window_end` → `$2`), the optional `payload` column may be absent, and only users
    /// of the tick's shard are returned (shard = the first 28 bits of md5(user_id), a
    /// non-negative number, modulo the shard count: stable across processes and versions).
    public func dueItems(job: JobDefinition, tick: TickMessage) async throws -> [DueItem] {
        let inner = job.sql
            .replacingOccurrences(of: ":window_start", with: "$1::timestamptz")
            .replacingOccurrences(of: ":window_end", with: "$2::timestamptz")
        let sql = """
            SELECT due.item_id::text, due.user_id::text, due.title::text, due.due_at::timestamptz,
                   (to_jsonb(due) -> 'payload')::text
            FROM (\(inner)) AS due
            WHERE $3::int = 1 OR mod(('x' || substr(md5(due.user_id::text), 1, 7))::bit(28)::int, $3::int) = $4::int
            """
        var binds = PostgresBindings()
        binds.append(tick.windowStart)
        binds.append(tick.windowEnd)
        binds.append(tick.shardCount)
        binds.append(tick.shard)
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds))
        var items: [DueItem] = []
        for try await (itemId, userId, title, dueAt, payload) in rows.decode((String, String, String, Date, String?).self) {
            items.append(
                DueItem(
                    itemId: itemId, userId: userId, title: title, dueAt: dueAt,
                    payload: payload.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }))
        }
        return items
    }

    /// The subset of `items` not alerted before (same job, item and due time).
    public func unalerted(_ items: [DueItem], job: String) async throws -> [DueItem] {
        guard !items.isEmpty else { return [] }
        let rows = try await client.query(
            """
            SELECT s.item_id, s.due_at FROM worker_alerts_sent s
            JOIN unnest(\(items.map(\.itemId))::text[], \(items.map(\.dueAt))::timestamptz[]) AS i(item_id, due_at)
              ON s.item_id = i.item_id AND s.due_at = i.due_at
            WHERE s.job_name = \(job)
            """)
        var sent = Set<AlertKey>()
        for try await (itemId, dueAt) in rows.decode((String, Date).self) { sent.insert(AlertKey(itemId: itemId, dueAt: dueAt)) }
        return items.filter { !sent.contains(AlertKey(itemId: $0.itemId, dueAt: $0.dueAt)) }
    }

    private struct AlertKey: Hashable {
        let itemId: String
        let dueAt: Date
    }

    /// What a completed tick records.
    public struct Completion: Sendable {
        public var tick: TickMessage
        public var alerts: [AlertMessage]
        public var execution: JobExecution

        public init(tick: TickMessage, alerts: [AlertMessage], execution: JobExecution) {
            self.tick = tick
            self.alerts = alerts
            self.execution = execution
        }
    }

    /// Records, in one transaction, the alerts published for a tick, the tick as
    /// completed, and its audit row.
    public func complete(_ completion: Completion) async throws {
        let tick = completion.tick
        let alerts = completion.alerts
        try await client.withTransaction(logger: logger) { connection in
            if !alerts.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO worker_alerts_sent (job_name, item_id, due_at, alert_id, tick_id)
                    SELECT \(tick.jobName), a.item_id, a.due_at, a.alert_id, \(tick.tickId)
                    FROM unnest(\(alerts.map(\.itemId))::text[], \(alerts.map(\.dueAt))::timestamptz[], \(alerts.map(\.alertId))::text[])
                      AS a(item_id, due_at, alert_id)
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            try await connection.query(
                """
                INSERT INTO worker_ticks_completed (tick_id, job_name, slot, alerts)
                VALUES (\(tick.tickId), \(tick.jobName), \(tick.slot), \(alerts.count))
                ON CONFLICT (tick_id) DO NOTHING
                """, logger: logger)
            try await JobEventStore.insert(completion.execution, on: connection, logger: logger)
        }
    }
}
