import Foundation
import PostgresNIO
import ProactivityCore

extension ReminderStore {
    /// The items of `page` the alert ledger does not have (same job, item and due time),
    /// in their order: those to alert. Looked up with the ledger's latest commits (also
    /// what another run of the tick recorded meanwhile), in a statement of its own per
    /// page, so that its plan is made for the ledger as it is then and never depends on
    /// how the job's SQL was planned.
    ///
    /// The lookup is `worker_alerts_sent_lookup` (migration 0008): one primary-key probe
    /// per item, never a scan of a day partition that the window's own pages are being
    /// written into. Items due inside the window are looked up only in the window's day
    /// partitions (a lookup over every partition costs PostgreSQL more to plan and to
    /// run the more days the ledger keeps); items the job's SQL returned outside its
    /// window, in the whole ledger, so a sloppy job query does not alert twice.
    public func unsent(_ page: [DueItem], job: JobDefinition, tick: TickMessage) async throws -> [DueItem] {
        guard !page.isEmpty else { return [] }
        var inside: [Int] = []
        var outside: [Int] = []
        for index in page.indices {
            if page[index].dueAt >= tick.windowStart && page[index].dueAt < tick.windowEnd {
                inside.append(index)
            } else {
                outside.append(index)
            }
        }
        var sent = Set<Int>()
        for (indices, window) in [(inside, (tick.windowStart, tick.windowEnd)), (outside, nil)] where !indices.isEmpty {
            var binds = PostgresBindings()
            binds.append(job.name)
            binds.append(indices.map { page[$0].itemId })
            binds.append(indices.map { page[$0].dueAt })
            binds.append(window?.0)
            binds.append(window?.1)
            let lookup = PostgresQuery(unsafeSQL: "SELECT worker_alerts_sent_lookup($1, $2, $3, $4, $5)", binds: binds)
            for try await ordinal in try await client.query(lookup, logger: logger).decode(Int.self) { sent.insert(indices[ordinal - 1]) }
        }
        guard !sent.isEmpty else { return page }
        return page.indices.filter { !sent.contains($0) }.map { page[$0] }
    }
}
