import Foundation

/// What a worker believes of a tick: only which job, which slot and which shard. The
/// window, the shard count and the id come from the worker's **own** job definition, so
/// a tick written by anyone else (a forged or corrupt record) cannot widen a window,
/// divide by a zero shard count or carry an id the database refuses.
extension TickMessage {
    /// A tick that is not one of its job's, with the reason.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The tick the worker runs for this one: the same job, slot and shard, with the
    /// window, shard count and id of `job`.
    /// - Parameter now: the worker's clock; a slot more than one slot ahead of it is refused.
    /// - Throws: ``Invalid`` when the slot is not on the job's schedule or too far ahead,
    ///   the shard is not one of the job's shards, the id is not `job@slot[#k/n][~manual-RUN]`,
    ///   or a manual run id is not a lowercase UUID.
    public func validated(for job: JobDefinition, now: Date) throws(Invalid) -> TickMessage {
        guard jobName == job.name else { throw Invalid(description: "the tick names job '\(jobName.prefix(100))', not '\(job.name)'") }
        guard shardCount == job.shards else {
            throw Invalid(description: "shard_count \(shardCount) is not the job's \(job.shards)")
        }
        guard (0..<job.shards).contains(shard) else { throw Invalid(description: "shard \(shard) is not one of 0..<\(job.shards)") }
        guard slot.timeIntervalSince1970.isFinite, job.schedule.slot(atOrBefore: slot) == slot else {
            throw Invalid(description: "slot \(Timestamp.format(slot)) is not a slot of the job's schedule (\(job.schedule))")
        }
        let latest = job.schedule.slot(after: now)
        guard slot <= latest else {
            throw Invalid(description: "slot \(Timestamp.format(slot)) lies beyond the next slot (\(Timestamp.format(latest)))")
        }
        var derived = TickMessage(job: job, slot: slot, shard: shard, coalescedSlots: max(0, coalescedSlots), producedAt: producedAt)
        if let manualRun {
            guard TickMessage.isManualRunId(manualRun) else {
                throw Invalid(description: "manual_run '\(manualRun.prefix(100))' is not a lowercase UUID")
            }
            derived.manualRun = manualRun
            derived.tickId = TickMessage.id(job: job.name, slot: slot, shard: shard, shardCount: job.shards, manualRun: manualRun)
        }
        guard tickId == derived.tickId else {
            throw Invalid(description: "tick_id '\(tickId.prefix(100))'\(tickId.count > 100 ? "…" : "") is not '\(derived.tickId)'")
        }
        return derived
    }
}

extension TickMessage {
    /// Whether the window starts before what the alert ledger still remembers
    /// (`now - retention`): the ledger rows that say which of its items were alerted may be
    /// pruned, so running the tick could send old reminders again. Such a tick runs only
    /// as an operator's explicit backfill.
    public func precedesLedger(now: Date, retention: TimeInterval) -> Bool {
        windowStart < now.addingTimeInterval(-retention)
    }
}
