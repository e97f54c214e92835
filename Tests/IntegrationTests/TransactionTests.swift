import Kafka
import Testing

@Suite(.timeLimit(.minutes(3)))
struct TransactionTests {
    @Test func abortedIsInvisibleAndCommittedIsVisibleWithItsOffsets() async throws {
        let input = TestEnvironment.unique("tx-in")
        let output = TestEnvironment.unique("tx-out")
        let group = TestEnvironment.unique("tx")
        try await TestEnvironment.createTopic(input, partitions: 1)
        try await TestEnvironment.createTopic(output, partitions: 1)

        let plain = try TestEnvironment.producer()
        for index in 0..<5 { _ = try await plain.send(KafkaProducerMessage(topic: input, key: "k", value: "in-\(index)")) }
        try await plain.close()

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
        let transformed = consumed.map { KafkaProducerMessage(topic: output, key: "k", value: Array(("out-" + ($0.valueString ?? "")).utf8)) }
        for result in await producer.send(transformed) { _ = try result.get() }
        try await producer.sendOffsetsToTransaction([consumed.last!.nextOffset], consumer: source)
        try await producer.commitTransaction()

        let committed = try await source.committedOffsets(for: [KafkaTopicPartition(topic: input, partition: 0)])
        #expect(committed.first?.offset == consumed.last!.offset + 1)
        try await source.close()

        try producer.beginTransaction()
        _ = try await producer.send(KafkaProducerMessage(topic: output, key: "k", value: "end"))
        try await producer.commitTransaction()
        try await producer.close()

        let reader = try TestEnvironment.consumer(group: TestEnvironment.unique("tx-read"), topics: [output])
        var values: [String] = []
        for try await message in reader.messages {
            values.append(message.valueString ?? "")
            if message.valueString == "end" { break }
        }
        try await reader.close()
        #expect(values == ["out-in-0", "out-in-1", "out-in-2", "out-in-3", "out-in-4", "end"])
    }
}
