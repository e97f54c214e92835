import Foundation
import ProactivityCore
import TestSupport
import Testing

@Suite struct TickValidationTests {
    let now = MessageCoding.parseTimestamp("2026-11-25T15:07:00Z")!
    let slot = MessageCoding.parseTimestamp("2026-11-25T15:05:00Z")!
    let job = BuiltInJobs.eventReminder

    func reason(_ tick: TickMessage, job: JobDefinition? = nil) -> String? {
        do {
            _ = try tick.validated(for: job ?? self.job, now: now)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func theWindowComesFromTheWorkersJobNotTheTick() throws {
        var forged = TickMessage(job: job, slot: slot, producedAt: now)
        forged.windowStart = slot.addingTimeInterval(-86_400 * 3650)
        forged.windowEnd = slot.addingTimeInterval(86_400 * 3650)
        let tick = try forged.validated(for: job, now: now)
        #expect(tick.windowStart == slot.addingTimeInterval(-1800) && tick.windowEnd == slot.addingTimeInterval(3600))
        #expect(tick.tickId == forged.tickId)
    }

    @Test func ticksThatAreNotTheJobsAreRefusedWithTheReason() {
        var long = TickMessage(job: job, slot: slot, producedAt: now)
        long.tickId = String(repeating: "x", count: 10_000)
        #expect(reason(long)?.contains("is not 'event-reminder@2026-11-25T15:05:00.000Z'") == true)
        #expect(reason(long)!.count < 300, "the reason does not repeat a huge id")

        var zero = TickMessage(job: job, slot: slot, producedAt: now)
        zero.shardCount = 0
        #expect(reason(zero)?.contains("shard_count 0") == true)

        var outOfRange = TickMessage(job: job, slot: slot, producedAt: now)
        outOfRange.shard = 3
        #expect(reason(outOfRange)?.contains("shard 3") == true)

        let offSchedule = TickMessage(job: job, slot: slot.addingTimeInterval(17), producedAt: now)
        #expect(reason(offSchedule)?.contains("is not a slot of the job's schedule") == true)

        let farAhead = TickMessage(job: job, slot: slot.addingTimeInterval(600), producedAt: now)
        #expect(reason(farAhead)?.contains("lies beyond the next slot") == true)
        #expect(reason(TickMessage(job: job, slot: slot.addingTimeInterval(300), producedAt: now)) == nil, "the next slot is fine")

        var sharded = job
        sharded.shards = 4
        #expect(reason(TickMessage(job: job, slot: slot, producedAt: now), job: sharded)?.contains("shard_count 1 is not the job's 4") == true)
        #expect(reason(TickMessage(job: sharded, slot: slot, shard: 2, producedAt: now), job: sharded) == nil)
        #expect(reason(TickMessage(job: BuiltInJobs.taskReminder, slot: slot, producedAt: now))?.contains("names job 'task-reminder'") == true)
    }

    /// Random ticks: an answer every time, never a trap. Each keeps the id of the slot it
    /// was made for while its slot, shard and shard count are drawn anew, so each one is
    /// refused, with a short reason.
    @Test func randomTicksAreRefusedWithAShortReason() throws {
        var random = try SeededRandom()
        var refused = 0
        for _ in 0..<5_000 {
            var tick = TickMessage(job: job, slot: slot, producedAt: now)
            tick.shard = Int.random(in: Int.min...Int.max, using: &random)
            tick.shardCount = [0, 1, -1, Int.max, Int.min, Int.random(in: -5...5, using: &random)].randomElement(using: &random)!
            tick.slot = Date(
                timeIntervalSince1970: [Double.random(in: -1e12...1e12, using: &random), .infinity, -.infinity, .nan, 0].randomElement(using: &random)!)
            tick.coalescedSlots = Int.random(in: Int.min...Int.max, using: &random)
            guard let reason = reason(tick) else {
                Issue.record("accepted: shard \(tick.shard) of \(tick.shardCount), slot \(tick.slot.timeIntervalSince1970)")
                continue
            }
            refused += 1
            #expect(reason.count < 300, "\(reason)")
        }
        print("random ticks: \(refused) refused")
        #expect(refused == 5_000)
    }
}
