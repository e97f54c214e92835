import Kafka
import Synchronization
import Testing

/// A held consumer (the worker's circuit is open) hands nothing out and fetches nothing
/// while it stays in its group; released, it goes on where it was.
@Suite(.timeLimit(.minutes(2)))
struct ConsumerHoldTests {
    @Test func aHeldConsumerHandsOutNothingUntilReleased() async throws {
        let topic = TestEnvironment.unique("hold")
        try await TestEnvironment.createTopic(topic, partitions: 2)
        let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("hold"), topics: [topic])
        let producer = try TestEnvironment.producer()
        let received = Received()

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for try await message in consumer.messages {
                    received.append(message.valueString ?? "")
                    consumer.markProcessed(message)
                }
            }
            _ = try await producer.send(KafkaProducerMessage(topic: topic, value: Array("before".utf8)))
            try await eventually("the first message arrives") { received.values == ["before"] }

            try consumer.hold()
            #expect(consumer.isHeld)
            for index in 0..<10 {
                _ = try await producer.send(KafkaProducerMessage(topic: topic, key: Array("k\(index)".utf8), value: Array("held-\(index)".utf8)))
            }
            // Absence needs time to show: the consumer polls every 100 ms meanwhile.
            try await Task.sleep(for: .seconds(2))
            #expect(received.values == ["before"], "nothing handed out while held")
            #expect(!consumer.assignment.isEmpty, "still a member of its group")

            try consumer.release()
            try await eventually("everything arrives once released") { received.values.count == 11 }
            #expect(Set(received.values.dropFirst()) == Set((0..<10).map { "held-\($0)" }))
            tasks.cancelAll()
        }
        try await consumer.close()
        try await producer.close()
    }
}

/// The values a consumer handed out, in order.
final class Received: Sendable {
    private let state = Mutex<[String]>([])

    func append(_ value: String) { state.withLock { $0.append(value) } }

    var values: [String] { state.withLock { $0 } }
}
