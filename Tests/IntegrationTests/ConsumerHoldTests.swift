import Foundation
import Kafka
import Synchronization
import Testing

/// A held consumer (the worker's circuit is open) hands nothing out and fetches nothing
/// while it stays in its group; released, it goes on where it was.
@Suite(.timeLimit(.minutes(4)))
struct ConsumerHoldTests {
    /// "Nothing while held" is shown without a fixed wait: a second consumer (another
    /// group, not held) has fetched every record produced after the hold, and the held
    /// consumer's own statistics reports then keep coming for three more intervals with
    /// its count of fetched records standing still (a fetch already on its way when the
    /// hold began may have brought a record or two; librdkafka keeps them back). Only
    /// then is it released; every record must reach it afterwards, none before.
    @Test func aHeldConsumerHandsOutNothingUntilReleased() async throws {
        let topic = TestEnvironment.unique("hold")
        try await TestEnvironment.createTopic(topic, partitions: 2)
        let reports = FetchedCounts()
        let consumer = try TestEnvironment.consumer(
            group: TestEnvironment.unique("hold"), topics: [topic], statistics: { reports.record($0) })
        let control = try TestEnvironment.consumer(group: TestEnvironment.unique("hold-control"), topics: [topic])
        let producer = try TestEnvironment.producer()
        let received = Received()
        let controlReceived = Received()

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (reader, values) in [(consumer, received), (control, controlReceived)] {
                tasks.addTask {
                    for try await message in reader.messages {
                        values.append(message.valueString ?? "")
                        reader.markProcessed(message)
                    }
                }
            }
            _ = try await producer.send(KafkaProducerMessage(topic: topic, value: Array("before".utf8)))
            try await eventually("the first message reaches both consumers") {
                received.values == ["before"] && controlReceived.values == ["before"]
            }

            try consumer.hold()
            #expect(consumer.isHeld)
            let held = (0..<10).map { "held-\($0)" }
            for (index, value) in held.enumerated() {
                _ = try await producer.send(KafkaProducerMessage(topic: topic, key: Array("k\(index)".utf8), value: Array(value.utf8)))
            }
            try await eventually("a consumer that is not held fetched every record") { controlReceived.values.count == 11 }
            let mark = reports.count
            try await eventually("the held consumer reported three more times") { reports.count >= mark + 3 }
            #expect(received.values == ["before"], "nothing handed out while held")
            let fetched = reports.counts(after: mark)
            #expect(Set(fetched).count == 1, "no fetching while held: records fetched so far, per report: \(fetched)")
            #expect(!consumer.assignment.isEmpty, "still a member of its group")

            try consumer.release()
            try await eventually("everything arrives once released") { received.values.count == 11 }
            #expect(Set(received.values.dropFirst()) == Set(held))
            tasks.cancelAll()
        }
        try await consumer.close()
        try await control.close()
        try await producer.close()
    }
}

/// The values a consumer handed out, in order.
final class Received: Sendable {
    private let state = Mutex<[String]>([])

    func append(_ value: String) { state.withLock { $0.append(value) } }

    var values: [String] { state.withLock { $0 } }
}

/// A consumer's statistics reports, reduced to librdkafka's count of records fetched
/// from the brokers so far (`rxmsgs`).
final class FetchedCounts: Sendable {
    private let counts = Mutex<[Int]>([])

    func record(_ statistics: KafkaStatistics) {
        let document = try? JSONSerialization.jsonObject(with: Data(statistics.json.utf8)) as? [String: Any]
        let fetched = (document?["rxmsgs"] as? NSNumber)?.intValue ?? -1
        counts.withLock { $0.append(fetched) }
    }

    /// How many reports arrived.
    var count: Int { counts.withLock { $0.count } }

    /// The counts of the reports after the first `mark` ones.
    func counts(after mark: Int) -> [Int] { counts.withLock { Array($0.dropFirst(mark)) } }
}
