import Foundation
import ProactivityCore
import Testing

@Suite struct ConnectHeaderTests {
    func letter(_ errorClass: FailureClass) -> DeadLetter {
        let when = Date(timeIntervalSince1970: 1_800_000_000)
        return DeadLetter(
            originTopic: "proactivity.ticks", originPartition: 2, originOffset: 42, originTimestamp: when, consumerGroup: "proactivity-workers",
            stage: "worker", jobName: "event-reminder", errorClass: errorClass, errorMessage: String(repeating: "é", count: 3_000), attempts: 5,
            firstFailure: when, lastFailure: when, correlationId: "proactivity.ticks/2/42")
    }

    @Test func theContextIsWrittenUnderConnectsNamesOnceEach() {
        let headers = letter(.jobSQL).headers
        let connect = headers.filter { $0.name.hasPrefix("__connect.errors.") }
        #expect(Set(connect.map(\.name)).count == connect.count, "each name once")
        let values = Dictionary(uniqueKeysWithValues: connect.map { ($0.name, $0.value) })
        #expect(
            values == [
                "__connect.errors.topic": "proactivity.ticks", "__connect.errors.partition": "2", "__connect.errors.offset": "42",
                "__connect.errors.connector.name": "proactivity-workers", "__connect.errors.stage": "TASK_PUT",
                "__connect.errors.class.name": "proactivity.worker", "__connect.errors.exception.class.name": "job_sql",
                "__connect.errors.exception.message": String(repeating: "é", count: 2_000),
            ])
    }

    @Test func everyFailureClassHasAConnectStage() {
        let stages = Dictionary(uniqueKeysWithValues: FailureClass.allCases.map { ($0, letter($0).connectStage) })
        #expect(stages[.undecodable] == "VALUE_CONVERTER" && stages[.unknownSchemaVersion] == "VALUE_CONVERTER")
        #expect(stages[.messageTooLarge] == "KAFKA_PRODUCE")
        for taskPut in [FailureClass.unknownJob, .invalidTick, .staleTick, .jobSQL, .transient] { #expect(stages[taskPut] == "TASK_PUT") }
    }

    @Test func aNewFailureReplacesEarlierContextButKeepsTheReplayCount() {
        #expect(DeadLetter.isReplacedContext("__connect.errors.topic") && DeadLetter.isReplacedContext("dlq.error.class"))
        #expect(!DeadLetter.isReplacedContext("dlq.replay.count") && !DeadLetter.isReplacedContext("traceparent"))
        #expect(DeadLetter.isContext("dlq.replay.id") && DeadLetter.isContext("__connect.errors.stage") && !DeadLetter.isContext("alert-id"))
    }
}
