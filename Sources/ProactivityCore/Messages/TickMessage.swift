import Foundation

/// "Run this job for this slot": what the tick producer publishes and workers consume.
///
/// The id is derived from (job, slot, shard), so every producer, restarted or
/// duplicated, emits the same id for the same work, and workers run each id once.
/// A manual run (`proactivity jobs run`) adds its own run id, so it never takes the
/// place of the scheduled tick of the same slot.
public struct TickMessage: Sendable, Hashable, Codable {
    public var schemaVersion: Int = MessageCoding.schemaVersion
    /// `job@slot` or `job@slot#shard/shards`, followed by `~manual-RUN` for a manual run.
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
    /// The run id (a lowercase UUID) of a manual run, `nil` for a scheduled tick.
    public var manualRun: String?

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

    /// The tick of a manual run of one shard of a job's slot: the same window as the
    /// scheduled tick, an id of its own.
    /// - Parameter run: the run's id; every shard of one run shares it.
    public static func manual(job: JobDefinition, slot: Date, shard: Int = 0, run: UUID, producedAt: Date) -> TickMessage {
        var tick = TickMessage(job: job, slot: slot, shard: shard, producedAt: producedAt)
        tick.manualRun = run.uuidString.lowercased()
        tick.tickId = id(job: job.name, slot: slot, shard: shard, shardCount: job.shards, manualRun: tick.manualRun)
        return tick
    }

    /// The deterministic tick id.
    public static func id(job: String, slot: Date, shard: Int, shardCount: Int, manualRun: String? = nil) -> String {
        var id = "\(job)@\(MessageCoding.timestamp(slot))"
        if shardCount > 1 { id += "#\(shard)/\(shardCount)" }
        if let manualRun { id += "\(manualMarker)\(manualRun)" }
        return id
    }

    /// What a manual run's id adds to its slot's tick id, before the run id.
    public static let manualMarker = "~manual-"

    /// Whether `text` is a run id as ``manual(job:slot:shard:run:producedAt:)`` writes it.
    public static func isManualRunId(_ text: String) -> Bool {
        text.utf8.count == 36 && UUID(uuidString: text)?.uuidString.lowercased() == text
    }

    /// The Kafka key: ticks of one job shard stay in one partition, in order, and
    /// duplicates of a tick meet on the same worker.
    public var partitionKey: String { shardCount > 1 ? "\(jobName)#\(shard)" : jobName }
}
