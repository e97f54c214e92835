import Foundation
import Kafka
import Logging
import Observability
import ProactivityCore
import ProactivityStages
import ServiceLifecycle
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(4)))
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
        let services = ServiceGroup(services: [stage], logger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
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
            await services.triggerGracefulShutdown()
        }
        try await consumer.close()
    }

    /// Each tick starts a trace of its own: its record's `traceparent` is the `send` span
    /// whose ids the `tick_published` line carries.
    @Test func eachTickStartsATraceThatItsRecordAndItsLogLineCarry() async throws {
        let topic = TestEnvironment.unique("ticks")
        try await TestEnvironment.createTopic(topic, partitions: 2)
        let start = MessageCoding.parseTimestamp("2030-01-07T10:02:00Z")!
        let clock = ManualClock(now: start)
        let lines = Mutex<[String]>([])
        let handler = JSONLogHandler(label: "tick", level: .info, metadataProvider: .traceContext) { line in lines.withLock { $0.append(line) } }
        let stage = TickProducerStage(
            jobs: [BuiltInJobs.eventReminder], topic: topic, producer: try TestEnvironment.producer(), clock: clock,
            metrics: EngineMetrics(), health: HealthState(stage: "tick"), logger: Logger(label: "tick") { _ in handler })
        let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("ticks"), topics: [topic])
        var records = consumer.messages.makeAsyncIterator()
        var traces: [(traceID: String, spanID: String)] = []
        let services = ServiceGroup(services: [stage], logger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            for slot in 1...2 {
                if slot == 2 {
                    try await eventually("the producer sleeps until the next slot") { clock.sleeperCount == 1 }
                    clock.advance(to: start.addingTimeInterval(3 * 60))
                }
                let message = try #require(try await records.next())
                consumer.markProcessed(message)
                let trace = try #require(
                    try TraceHeaders.parse(traceParent: message.headers.string(named: "traceparent"), traceState: nil)?.get(),
                    "a valid traceparent on tick \(slot)")
                traces.append((trace.traceID.description, trace.spanID.description))
            }
            try await eventually("both ticks logged") { lines.withLock { $0.count { $0.contains("tick_published") } } == 2 }
            await services.triggerGracefulShutdown()
        }
        try await consumer.close()
        #expect(traces[0].traceID != traces[1].traceID, "a trace per tick")
        let published = lines.withLock { $0 }.filter { $0.contains("tick_published") }.map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        for (line, trace) in zip(published, traces) {
            #expect(line["trace_id"] as? String == trace.traceID && line["span_id"] as? String == trace.spanID, "\(line)")
        }
    }
}
