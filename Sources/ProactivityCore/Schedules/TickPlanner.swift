import Foundation

/// Decides which ticks a producer publishes and when it wakes next.
///
/// The first call publishes the current slot of every job (the first run happens at
/// start-up). After that, a job's tick is due when a new slot has begun; when several
/// slots passed unseen (downtime, broker outage), they are coalesced into one tick for
/// the latest slot, which records how many were skipped. Workers cover what became due
/// meanwhile through the job's catch-up grace.
public struct TickPlanner: Sendable {
    private let jobs: [JobDefinition]
    private var lastPublished: [String: Date] = [:]

    public init(jobs: [JobDefinition]) {
        self.jobs = jobs.filter(\.enabled)
    }

    /// The ticks due at `now` (every shard of every job whose slot changed).
    public func dueTicks(at now: Date) -> [TickMessage] {
        jobs.flatMap { job -> [TickMessage] in
            let slot = job.schedule.slot(atOrBefore: now)
            guard slot != .distantPast else { return [] }
            if let last = lastPublished[job.name], last >= slot { return [] }
            let skipped = lastPublished[job.name].map { max(0, job.schedule.slotCount(after: $0, upTo: slot) - 1) } ?? 0
            return (0..<job.shards).map { TickMessage(job: job, slot: slot, shard: $0, coalescedSlots: skipped, producedAt: now) }
        }
    }

    /// Records that the ticks of these jobs' slots were published.
    public mutating func published(_ ticks: [TickMessage]) {
        for tick in ticks where (lastPublished[tick.jobName] ?? .distantPast) < tick.slot {
            lastPublished[tick.jobName] = tick.slot
        }
    }

    /// When the next slot of any job begins.
    public func nextWake(after now: Date) -> Date {
        jobs.map { $0.schedule.slot(after: now) }.min() ?? now.addingTimeInterval(3600)
    }
}
