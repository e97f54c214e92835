import Foundation
import ProactivityCore
import Testing

/// A manual run's tick (`proactivity jobs run`): the slot's window, an id of its own.
@Suite struct ManualTickTests {
    let now = MessageCoding.parseTimestamp("2026-11-25T15:07:00Z")!
    let slot = MessageCoding.parseTimestamp("2026-11-25T15:05:00Z")!
    let job = BuiltInJobs.eventReminder
    let run = UUID(uuidString: "0E5F1C1A-8B2D-4C6E-9F00-1234567890AB")!

    @Test func aManualTickHasTheSlotsWindowAndAnIdThatCannotBeTheScheduledOnes() throws {
        let scheduled = TickMessage(job: job, slot: slot, producedAt: now)
        let manual = TickMessage.manual(job: job, slot: slot, run: run, producedAt: now)
        #expect(manual.tickId == "event-reminder@2026-11-25T15:05:00.000Z~manual-0e5f1c1a-8b2d-4c6e-9f00-1234567890ab")
        #expect(manual.manualRun == "0e5f1c1a-8b2d-4c6e-9f00-1234567890ab")
        #expect(manual.tickId != scheduled.tickId && manual.partitionKey == scheduled.partitionKey)
        #expect(manual.windowStart == scheduled.windowStart && manual.windowEnd == scheduled.windowEnd)
        #expect(scheduled.manualRun == nil)
        #expect(try manual.validated(for: job, now: now) == manual)

        var sharded = job
        sharded.shards = 3
        #expect(
            TickMessage.manual(job: sharded, slot: slot, shard: 2, run: run, producedAt: now).tickId
                == "event-reminder@2026-11-25T15:05:00.000Z#2/3~manual-0e5f1c1a-8b2d-4c6e-9f00-1234567890ab")
    }

    @Test func theJSONOfAScheduledTickIsUnchangedAndAManualOneRoundTrips() throws {
        let scheduled = String(decoding: MessageCoding.encode(TickMessage(job: job, slot: slot, producedAt: now)), as: UTF8.self)
        #expect(!scheduled.contains("manual"))
        let manual = TickMessage.manual(job: job, slot: slot, run: run, producedAt: now)
        let bytes = MessageCoding.encode(manual)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""manual_run":"0e5f1c1a-8b2d-4c6e-9f00-1234567890ab""#))
        #expect(try MessageCoding.decode(TickMessage.self, from: bytes) == manual)
    }

    /// Whoever writes the ticks topic cannot use a manual tick to widen a window or to
    /// carry an id the database refuses.
    @Test func aForgedManualTickIsRefusedOrNarrowedLikeAnyTick() throws {
        var widened = TickMessage.manual(job: job, slot: slot, run: run, producedAt: now)
        widened.windowStart = .distantPast
        widened.windowEnd = .distantFuture
        let tick = try widened.validated(for: job, now: now)
        #expect(tick.windowStart == slot.addingTimeInterval(-1800) && tick.windowEnd == slot.addingTimeInterval(3600))

        for bad in ["", "x", "0E5F1C1A-8B2D-4C6E-9F00-1234567890AB", "0e5f1c1a8b2d4c6e9f001234567890ab", "../../../etc/passwd",
            String(repeating: "a", count: 10_000), "0e5f1c1a-8b2d-4c6e-9f00-1234567890ab\u{0}"]
        {
            var forged = TickMessage.manual(job: job, slot: slot, run: run, producedAt: now)
            forged.manualRun = bad
            #expect(throws: TickMessage.Invalid.self, "manual_run \(bad.prefix(40).debugDescription)") { try forged.validated(for: job, now: now) }
        }

        var otherRun = TickMessage.manual(job: job, slot: slot, run: run, producedAt: now)
        otherRun.manualRun = UUID().uuidString.lowercased()
        #expect(throws: TickMessage.Invalid.self, "the id names another run") { try otherRun.validated(for: job, now: now) }

        var scheduledID = TickMessage.manual(job: job, slot: slot, run: run, producedAt: now)
        scheduledID.tickId = TickMessage(job: job, slot: slot, producedAt: now).tickId
        #expect(throws: TickMessage.Invalid.self, "a manual tick cannot take the scheduled tick's id") { try scheduledID.validated(for: job, now: now) }

        var unmarked = TickMessage(job: job, slot: slot, producedAt: now)
        unmarked.tickId += "~manual-\(run.uuidString.lowercased())"
        #expect(throws: TickMessage.Invalid.self, "a manual id without its run id") { try unmarked.validated(for: job, now: now) }
    }
}
