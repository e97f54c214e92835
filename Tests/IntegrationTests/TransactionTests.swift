import Foundation
import Kafka
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(3)))
struct TransactionTests {
    /// Values a read_committed consumer saw, and whether each arrived before the
    /// transaction that wrote it was committed.
    final class Observations: Sendable {
        let committing = Atomic<Bool>(false)
        private let seen = Mutex<[(value: String, early: Bool)]>([])

        func record(_ value: String) { seen.withLock { $0.append((value, !committing.load(ordering: .acquiring))) } }
        var values: [String] { seen.withLock { $0.map(\.value) } }
        var early: [String] { seen.withLock { $0.filter(\.early).map(\.value) } }
    }

    /// An open transaction's outputs stay unseen until it commits. Shown without a fixed
    /// wait: a record written after them, outside the transaction, to another topic the
    /// reader also reads (`marks`) reaches the reader first; only then is the
    /// transaction committed.
    @Test func abortedIsInvisibleAndCommittedIsVisibleWithItsOffsets() async throws {
        let input = TestEnvironment.unique("tx-in")
        let output = TestEnvironment.unique("tx-out")
        let marks = TestEnvironment.unique("tx-mark")
        let group = TestEnvironment.unique("tx")
        try await TestEnvironment.createTopic(input, partitions: 1)
        try await TestEnvironment.createTopic(output, partitions: 1)
        try await TestEnvironment.createTopic(marks, partitions: 1)

        let plain = try TestEnvironment.producer()
        for index in 0..<5 { _ = try await plain.send(KafkaProducerMessage(topic: input, key: "k", value: "in-\(index)")) }

        let observations = Observations()
        let reader = try TestEnvironment.consumer(group: TestEnvironment.unique("tx-read"), topics: [output, marks])
        let reading = Task {
            for try await message in reader.messages {
                reader.markProcessed(message)
                observations.record(message.valueString ?? "")
                if message.valueString == "end" { break }
            }
        }
        try await eventually("the read_committed reader joined") { !reader.assignment.isEmpty }

        let producer = try TestEnvironment.producer(transactionalID: TestEnvironment.unique("tx"))
        try await producer.initTransactions()

        try producer.beginTransaction()
        _ = try await producer.send(KafkaProducerMessage(topic: output, key: "k", value: "aborted"))
        try await producer.abortTransaction()

        // Consume-transform-produce: outputs and input offsets commit together.
        let source = try TestEnvironment.consumer(group: group, topics: [input], manualCommit: true)
        var consumed: [KafkaConsumerMessage] = []
        for try await message in source.messages {
            consumed.append(message)
            if consumed.count == 5 { break }
        }
        try producer.beginTransaction()
        let transformed = consumed.map { KafkaProducerMessage(topic: output, key: "k", value: "out-" + ($0.valueString ?? "")) }
        for result in await producer.send(transformed) { _ = try result.get() }
        try await producer.sendOffsetsToTransaction([consumed.last!.nextOffset], consumer: source)
        // The outputs are on the broker now; the reader must not see them while the
        // transaction is open, though it fetches a record written after them.
        _ = try await plain.send(KafkaProducerMessage(topic: marks, key: "k", value: "mark"))
        try await plain.close()
        try await eventually("the reader fetched a record written after the open transaction's outputs") {
            observations.values.contains("mark")
        }
        observations.committing.store(true, ordering: .releasing)
        try await producer.commitTransaction()

        let committed = try await source.committedOffsets(for: [KafkaTopicPartition(topic: input, partition: 0)])
        #expect(committed.first?.offset == consumed.last!.offset + 1)
        try await source.close()

        try producer.beginTransaction()
        _ = try await producer.send(KafkaProducerMessage(topic: output, key: "k", value: "end"))
        try await producer.commitTransaction()
        try await producer.close()

        try await reading.value
        try await reader.close()
        let outputs = observations.values.filter { $0 != "aborted" && $0 != "mark" }
        #expect(outputs == ["out-in-0", "out-in-1", "out-in-2", "out-in-3", "out-in-4", "end"])
        #expect(observations.early.filter { $0 != "aborted" && $0 != "mark" }.isEmpty, "seen before commit: \(observations.early)")
        withKnownIssue("Tansu 0.6 hands records of aborted transactions to read_committed consumers") {
            #expect(!observations.values.contains("aborted"))
        } when: {
            ProcessInfo.processInfo.environment["PROACTIVITY_TEST_BROKER"] == "tansu"
        }
    }
}
