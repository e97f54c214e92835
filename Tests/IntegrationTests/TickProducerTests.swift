import Foundation
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import Testing

@Suite(.timeLimit(.minutes(2)))
struct TickProducerTests {
    @Test func firstTickAtStartUpThenEachSlotThenCoalescedAfterDowntime() async throws {
        let topic = TestEnvironment.unique("ticks")
        try await TestEnvironment.createTopic(topic, partitions: 2)
        let start = MessageCoding.parseTimestamp("2030-01-07T10:02:00Z")!
        let clock = ManualClock(now: start)
        let metrics = EngineMetrics()
        let stage = TickProducerStage(
            jobs: [BuiltInJobs.eventReminder], topic: topic, producer: try TestEnvironment.producer(), clock: clock,
            metrics: metrics, health: HealthState(stage: "tick"), logger: TestEnvironment.logger)
        let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("ticks"), topics: [topic])
        var ticks = consumer.messages.makeAsyncIterator()
        func nextTick() async throws -> TickMessage {
            let message = try #require(try await ticks.next())
            consumer.markProcessed(message)
            return try MessageCoding.decode(TickMessage.self, from: message.value ?? [])
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await stage.run() }
            let first = try await nextTick()
            #expect(first.tickId == "event-reminder@2030-01-07T10:00:00.000Z")

            try await eventually("the producer sleeps until the next slot") { clock.sleeperCount == 1 }
            clock.advance(to: start.addingTimeInterval(3 * 60))
            let second = try await nextTick()
            #expect(second.slot == MessageCoding.parseTimestamp("2030-01-07T10:05:00Z"))
            #expect(second.coalescedSlots == 0)

            // 40 minutes pass at once (downtime): one tick for the latest slot.
            try await eventually("the producer sleeps again") { clock.sleeperCount == 1 }
            clock.advance(to: start.addingTimeInterval(43 * 60))
            let third = try await nextTick()
            #expect(third.slot == MessageCoding.parseTimestamp("2030-01-07T10:45:00Z"))
            #expect(third.coalescedSlots == 7)
            #expect(third.windowStart == MessageCoding.parseTimestamp("2030-01-07T10:15:00Z"), "the catch-up grace reaches back")
            try await eventually("the missed slots are counted") {
                metrics.render().contains(#"proactivity_missed_slots_total{job_name="event-reminder"} 7"#)
            }
            #expect(metrics.render().contains(#"proactivity_tick_delay_seconds_count{job_name="event-reminder"} 3"#))
            group.cancelAll()
        }
        try await consumer.close()
    }
}
