import Foundation
import Kafka
import Observability
import ProactivityStages
import Testing

/// Readiness is the conjunction of conditions each owned by one writer: a probe that
/// reaches the broker cannot hide a tick producer whose publishes fail.
@Suite struct HealthStateTests {
    @Test func oneWritersSuccessDoesNotOverwriteAnothersFailure() throws {
        let health = HealthState(stage: "tick")
        health.report(.tickPublish, failing: "ticks could not be published: [event-reminder]")
        health.report(.probeKafka, failing: nil)
        var readiness = health.readiness
        #expect(!readiness.ready)
        #expect(readiness.checks["tick.publish"]?.contains("could not be published") == true && readiness.checks["probe.kafka"] == "ok")
        let failingSince = try #require(readiness.since["tick.publish"])

        // Failing again with another reason keeps the time it started failing.
        health.report(.tickPublish, failing: "ticks could not be published: [task-reminder]")
        #expect(health.readiness.since["tick.publish"] == failingSince)

        health.report(.tickPublish, failing: nil)
        readiness = health.readiness
        #expect(readiness.ready && readiness.checks.values.allSatisfy { $0 == "ok" })
        #expect(MessageCodingCheck.isTimestamp(readiness.since["tick.publish"]))
    }

    @Test func aRequiredConditionFailsUntilItsOwnerReports() {
        let health = HealthState(stage: "worker")
        health.require(.workerAssignment, initially: "the consumer has no partitions yet")
        #expect(!health.readiness.ready)
        health.report(.workerAssignment, failing: nil)
        #expect(health.readiness.ready)
    }
}

enum MessageCodingCheck {
    static func isTimestamp(_ text: String?) -> Bool {
        text.flatMap { try? Date.ISO8601FormatStyle().parse($0) } != nil
    }
}


/// The lag gauge shows only the partitions a consumer still reports.
@Suite struct ConsumerLagMetricTests {
    func statistics(_ partitions: [Int: Int]) -> KafkaStatistics {
        let entries = partitions.map { #""\#($0.key)":{"partition":\#($0.key),"consumer_lag":\#($0.value),"committed_offset":1,"hi_offset":2}"# }
        return KafkaStatistics(
            json: #"{"name":"w#consumer-1","type":"consumer","msg_cnt":0,"topics":{"ticks":{"partitions":{\#(entries.joined(separator: ","))}}}}"#)!
    }

    @Test func revokedPartitionsLoseTheirSeries() {
        let metrics = EngineMetrics()
        metrics.record(statistics([0: 5, 1: 7]))
        #expect(metrics.render().contains(#"proactivity_consumer_lag{topic="ticks",partition="1"} 7"#))
        metrics.record(statistics([0: 3]))
        let text = metrics.render()
        #expect(text.contains(#"proactivity_consumer_lag{topic="ticks",partition="0"} 3"#))
        #expect(!text.contains(#"partition="1""#), "the revoked partition's series is gone")
    }
}
