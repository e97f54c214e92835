import Foundation
import Observability
import Testing

/// Readiness is the conjunction of conditions each owned by one writer: a probe that
/// reaches the broker cannot hide a tick producer whose publishes fail.
@Suite struct HealthStateTests {
    @Test func oneWritersSuccessDoesNotOverwriteAnothersFailure() throws {
        let health = HealthState(stage: "tick")
        health.report("tick.publish", failing: "ticks could not be published: [event-reminder]")
        health.report("probe.kafka", failing: nil)
        var readiness = health.readiness
        #expect(!readiness.ready)
        #expect(readiness.checks["tick.publish"]?.contains("could not be published") == true && readiness.checks["probe.kafka"] == "ok")
        let failingSince = try #require(readiness.since["tick.publish"])

        // Failing again with another reason keeps the time it started failing.
        health.report("tick.publish", failing: "ticks could not be published: [task-reminder]")
        #expect(health.readiness.since["tick.publish"] == failingSince)

        health.report("tick.publish", failing: nil)
        readiness = health.readiness
        #expect(readiness.ready && readiness.checks.values.allSatisfy { $0 == "ok" })
        #expect(MessageCodingCheck.isTimestamp(readiness.since["tick.publish"]))
    }

    @Test func aRequiredConditionFailsUntilItsOwnerReports() {
        let health = HealthState(stage: "worker")
        health.require("worker.assignment", initially: "the consumer has no partitions yet")
        #expect(!health.readiness.ready)
        health.report("worker.assignment", failing: nil)
        #expect(health.readiness.ready)
    }
}

enum MessageCodingCheck {
    static func isTimestamp(_ text: String?) -> Bool {
        text.flatMap { try? Date.ISO8601FormatStyle().parse($0) } != nil
    }
}
