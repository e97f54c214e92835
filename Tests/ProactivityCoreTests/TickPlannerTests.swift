import Foundation
import ProactivityCore
import Testing

@Suite struct TickPlannerTests {
    func date(_ text: String) -> Date { MessageCoding.parseTimestamp(text)! }

    @Test func firstTickIsAtStartUpForTheCurrentSlot() {
        let planner = TickPlanner(jobs: [BuiltInJobs.eventReminder, BuiltInJobs.taskReminder, BuiltInJobs.dailyBrief])
        let ticks = planner.dueTicks(at: date("2026-11-25T15:07:31Z"))
        #expect(ticks.map(\.jobName).sorted() == ["event-reminder", "task-reminder"])  // daily-brief is off
        let event = ticks.first { $0.jobName == "event-reminder" }!
        #expect(event.tickId == "event-reminder@2026-11-25T15:05:00.000Z")
        #expect(event.windowEnd == date("2026-11-25T16:05:00Z"))
        #expect(event.windowStart == date("2026-11-25T14:35:00Z"))
        #expect(event.coalescedSlots == 0)
    }

    @Test func sameSlotIsNotRepublishedAndIdsAreStable() {
        var planner = TickPlanner(jobs: [BuiltInJobs.eventReminder])
        let first = planner.dueTicks(at: date("2026-11-25T15:05:10Z"))
        planner.published(first)
        #expect(planner.dueTicks(at: date("2026-11-25T15:09:59Z")).isEmpty)
        // Another producer (or a restart) computes the same id for the same slot.
        let other = TickPlanner(jobs: [BuiltInJobs.eventReminder]).dueTicks(at: date("2026-11-25T15:06:00Z"))
        #expect(other.map(\.tickId) == first.map(\.tickId))
        #expect(planner.nextWake(after: date("2026-11-25T15:05:10Z")) == date("2026-11-25T15:10:00Z"))
    }

    @Test func missedSlotsCoalesceIntoOneTick() {
        var planner = TickPlanner(jobs: [BuiltInJobs.eventReminder])
        planner.published(planner.dueTicks(at: date("2026-11-25T15:00:00Z")))
        let ticks = planner.dueTicks(at: date("2026-11-25T15:42:00Z"))
        #expect(ticks.count == 1)
        #expect(ticks[0].slot == date("2026-11-25T15:40:00Z"))
        #expect(ticks[0].coalescedSlots == 7)
    }

    @Test func shardedJobsGetOneTickPerShard() {
        var job = BuiltInJobs.taskReminder
        job.shards = 3
        let ticks = TickPlanner(jobs: [job]).dueTicks(at: date("2026-11-25T15:00:00Z"))
        #expect(ticks.map(\.tickId) == (0..<3).map { "task-reminder@2026-11-25T15:00:00.000Z#\($0)/3" })
        #expect(Set(ticks.map(\.partitionKey)).count == 3)
    }
}
