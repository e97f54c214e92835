import Foundation

/// "Run this job for this slot": what the tick producer publishes and workers consume.
///
/// The id is derived from (job, slot, shard), so every producer, restarted or
/// duplicated, emits the same id for the same work, and workers run each id once.
public struct TickMessage: Sendable, Hashable, Codable {
    public var schemaVersion: Int = MessageCoding.schemaVersion
    /// `job@slot` or `job@slot#shard/shards`.
    public var tickId: String
    public var jobName: String
    /// The schedule slot this tick stands for.
    public var slot: Date
    /// Items due in `[windowStart, windowEnd)` are alerted; those before `slot` are late.
    public var windowStart: Date
    public var windowEnd: Date
    public var shard: Int
    public var shardCount: Int
    /// Slots skipped since the previous tick this producer published (coalesced into this one).
    public var coalescedSlots: Int
    public var producedAt: Date

    /// The tick for one shard of a job's slot.
    public init(job: JobDefinition, slot: Date, shard: Int = 0, coalescedSlots: Int = 0, producedAt: Date) {
        self.tickId = Self.id(job: job.name, slot: slot, shard: shard, shardCount: job.shards)
        self.jobName = job.name
        self.slot = slot
        self.windowStart = slot.addingTimeInterval(-Double(job.catchUpGraceSeconds))
        self.windowEnd = slot.addingTimeInterval(Double(job.windowSeconds))
        self.shard = shard
        self.shardCount = job.shards
        self.coalescedSlots = coalescedSlots
        self.producedAt = producedAt
    }

    /// The deterministic tick id.
    public static func id(job: String, slot: Date, shard: Int, shardCount: Int) -> String {
        let base = "\(job)@\(MessageCoding.timestamp(slot))"
        return shardCount > 1 ? "\(base)#\(shard)/\(shardCount)" : base
    }

    /// The Kafka key: ticks of one job shard stay in one partition, in order, and
    /// duplicates of a tick meet on the same worker.
    public var partitionKey: String { shardCount > 1 ? "\(jobName)#\(shard)" : jobName }
}
