import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// Which items of a page the alert ledger has already (same job, item and due time): a
/// statement of its own per page, so that its plan is made for the ledger as it is then
/// and never depends on how the job's SQL was planned.
///
/// The lookup is one primary-key probe per item, planned with `enable_seqscan` off. A
/// day partition whose statistics were taken while it was small (autovacuum after a few
/// small ticks, or a manual ANALYZE of the empty partition) looks like a table of a page
/// or two, and a sequential scan is then the cheapest plan for each lookup; but the
/// window's own pages are written into that same partition while the tick runs, so each
/// lookup would read all of them again: a window of 100,000 items slowed to about 2,000
/// alerts/s. The setting is local to the probe's transaction: the job's SQL is planned
/// as PostgreSQL sees fit.
struct LedgerProbe {
    let jobName: String
    let window: (start: Date, end: Date)

    /// The ordinals (1-based) of the items the ledger has, all due inside the window
    /// (`inWindow`) or all outside it. Items due inside are looked up only in the
    /// window's day partitions, pruned when the statement is planned: a statement over
    /// every partition costs PostgreSQL more to plan and to run the more days the ledger
    /// keeps. An item the job's SQL returned outside its window (a sloppy job query) is
    /// looked up in the whole ledger, so it is not alerted twice.
    func query(_ items: [DueItem], inWindow: Bool) -> PostgresQuery {
        let bounds = inWindow ? "AND s.due_at >= $4::timestamptz AND s.due_at < $5::timestamptz" : ""
        let sql = """
            SELECT page.ordinal
            FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS page(item_id, due_at, ordinal)
            CROSS JOIN LATERAL (
                SELECT EXISTS (
                    SELECT FROM worker_alerts_sent s
                    WHERE s.job_name = $3 AND s.item_id = page.item_id AND s.due_at = page.due_at \(bounds)
                ) AS sent
                OFFSET 0
            ) AS ledger
            WHERE ledger.sent
            """
        var binds = PostgresBindings()
        binds.append(items.map(\.itemId))
        binds.append(items.map(\.dueAt))
        binds.append(jobName)
        if inWindow {
            binds.append(window.start)
            binds.append(window.end)
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}

extension ReminderStore {
    /// The items of `page` the alert ledger does not have, in their order: those to alert.
    /// Looked up in a short transaction of its own (see ``LedgerProbe``), with the ledger's
    /// latest commits: also what another run of the tick recorded meanwhile.
    public func unsent(_ page: [DueItem], job: JobDefinition, tick: TickMessage) async throws -> [DueItem] {
        guard !page.isEmpty else { return [] }
        let probe = LedgerProbe(jobName: job.name, window: (tick.windowStart, tick.windowEnd))
        let (inside, outside) = page.indices.reduce(into: ([Int](), [Int]())) { split, index in
            if page[index].dueAt >= tick.windowStart && page[index].dueAt < tick.windowEnd {
                split.0.append(index)
            } else {
                split.1.append(index)
            }
        }
        let sent = try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL enable_seqscan = off", logger: logger)
            var sent = Set<Int>()
            for (indices, inWindow) in [(inside, true), (outside, false)] where !indices.isEmpty {
                let rows = try await connection.query(probe.query(indices.map { page[$0] }, inWindow: inWindow), logger: logger)
                for try await ordinal in rows.decode(Int.self) { sent.insert(indices[ordinal - 1]) }
            }
            return sent
        }
        guard !sent.isEmpty else { return page }
        return page.indices.filter { !sent.contains($0) }.map { page[$0] }
    }
}
