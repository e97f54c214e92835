import Kafka
import Testing

@Suite(.timeLimit(.minutes(3)))
struct ProduceConsumeTests {
    @Test func tenThousandKeyedMessagesArriveOnceInKeyOrderWithHeaders() async throws {
        let topic = TestEnvironment.unique("roundtrip")
        try await TestEnvironment.createTopic(topic, partitions: 6)
        let producer = try TestEnvironment.producer()
        let binary: [UInt8] = [0, 1, 2, 255]
        let total = 10_000
        let keys = 100
        let messages = (0..<total).map { index in
            let sequence = index / keys
            return KafkaProducerMessage(
                topic: topic, key: Array("key-\(index % keys)".utf8), value: Array("\(sequence)".utf8),
                headers: [
                    KafkaHeader(name: "sequence", string: "\(sequence)"),
                    KafkaHeader(name: "binary", value: binary),
                    KafkaHeader(name: "empty", value: nil),
                    // Names longer than a String holds inline, and not ASCII: handed over
                    // with their length, not as C strings.
                    KafkaHeader(name: "__connect.errors.exception.message", string: "long name"),
                    KafkaHeader(name: "größe-ñ", value: []),
                ])
        }
        let reports = await producer.send(messages)
        #expect(reports.allSatisfy { (try? $0.get()) != nil })
        #expect(Set(reports.compactMap { try? $0.get().partition }).count == 6)
        try await producer.close()

        try await readBackInKeyOrder(topic: topic, total: total, keys: keys) { message in
            let key = try #require(message.keyString)
            let sequence = try #require(message.valueString.flatMap(Int.init))
            #expect(message.headers.map(\.name) == ["sequence", "binary", "empty", "__connect.errors.exception.message", "größe-ñ"])
            #expect(message.headers.string(named: "sequence") == "\(sequence)")
            #expect(message.headers.string(named: "__connect.errors.exception.message") == "long name")
            #expect(message.headers.last?.value == [])
            #expect(message.headers.first { $0.name == "binary" }?.value == binary)
            #expect(message.headers.first { $0.name == "empty" }.map { $0.value == nil } == true)
            #expect(message.topic == topic)
            return (key, sequence)
        }
    }

    /// Records laid out in one buffer arrive as sent: key, value, the record's own
    /// header first, then the common ones, each key's records in order.
    @Test func aBatchFromOneBufferArrivesWithItsKeysValuesAndHeaders() async throws {
        let topic = TestEnvironment.unique("batch")
        try await TestEnvironment.createTopic(topic, partitions: 6)
        let total = 3_000
        let keys = 50
        var bytes: [UInt8] = []
        var records: [KafkaProducerBatch.Record] = []
        func append(_ part: [UInt8]) -> Range<Int> {
            bytes.append(contentsOf: part)
            return (bytes.count - part.count)..<bytes.count
        }
        for index in 0..<total {
            let key = append(Array("key-\(index % keys)".utf8))
            let header = append([0, 255] + Array("id-\(index)".utf8))
            let value = append(Array("\(index / keys)".utf8) + (index % 7 == 0 ? [0, 10, 34] : []))
            records.append(KafkaProducerBatch.Record(key: key, value: value, header: header))
        }
        let common = [KafkaHeader(name: "job-name", string: "batch-job"), KafkaHeader(name: "empty", value: nil)]
        let producer = try TestEnvironment.producer()
        let batch = KafkaProducerBatch(topic: topic, headerName: "alert-id", commonHeaders: common, bytes: bytes, records: records)
        let failures = await producer.enqueue(batch).failures()
        #expect(failures.isEmpty)
        try await producer.close()

        try await readBackInKeyOrder(topic: topic, total: total, keys: keys) { message in
            let key = try #require(message.keyString)
            let value = try #require(message.value)
            let sequence = try #require(Int(String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)))
            let index = sequence * keys + Int(key.dropFirst(4))!
            #expect(value == Array(bytes[records[index].value]))
            #expect(message.headers.map(\.name) == ["alert-id", "job-name", "empty"])
            #expect(message.headers.first?.value == [0, 255] + Array("id-\(index)".utf8))
            #expect(message.headers.string(named: "job-name") == "batch-job")
            #expect(message.headers.last?.value == nil)
            return (key, sequence)
        }
    }

    /// Reads `total` messages of `topic` in a group of its own, each checked by `check`,
    /// which names its key and its sequence number within the key; expects `keys` keys,
    /// each with sequences 0, 1, 2… in order.
    private func readBackInKeyOrder(
        topic: String, total: Int, keys: Int, _ check: (KafkaConsumerMessage) throws -> (key: String, sequence: Int)
    ) async throws {
        let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("read-back"), topics: [topic])
        var sequences: [String: [Int]] = [:]
        var received = 0
        for try await message in consumer.messages {
            let (key, sequence) = try check(message)
            sequences[key, default: []].append(sequence)
            consumer.markProcessed(message)
            received += 1
            if received == total { break }
        }
        try await consumer.close()
        #expect(received == total)
        #expect(sequences.count == keys)
        for (key, list) in sequences {
            #expect(list == Array(0..<(total / keys)), "key \(key) arrived out of order or incomplete")
        }
    }

    /// A batch over an empty buffer (every record empty) is sent, not a crash.
    @Test func aBatchOfEmptyRecordsIsDelivered() async throws {
        let topic = TestEnvironment.unique("empty-batch")
        try await TestEnvironment.createTopic(topic, partitions: 1)
        let producer = try TestEnvironment.producer()
        let empty = KafkaProducerBatch.Record(key: 0..<0, value: 0..<0, header: 0..<0)
        let batch = KafkaProducerBatch(topic: topic, headerName: "alert-id", bytes: [], records: [empty, empty])
        let results = await producer.enqueue(batch).results()
        #expect(results.count == 2 && results.allSatisfy { (try? $0.get()) != nil })
        try await producer.close()
    }

    @Test func singleSendReturnsItsDeliveryReport() async throws {
        let topic = TestEnvironment.unique("single")
        try await TestEnvironment.createTopic(topic, partitions: 1)
        let producer = try TestEnvironment.producer()
        let first = try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "one"))
        let second = try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "two"))
        try await producer.close()
        #expect(first.topic == topic)
        #expect(first.partition == 0)
        #expect(second.offset == first.offset + 1)
    }

    /// A paused partition's record is held back: one written after it to a partition
    /// that is not paused is handed out first (no fixed wait decides it), and the held
    /// one follows once resumed.
    @Test func pausedPartitionsHoldBackMessagesUntilResumed() async throws {
        let topic = TestEnvironment.unique("pause")
        try await TestEnvironment.createTopic(topic, partitions: 2)
        let producer = try TestEnvironment.producer()
        func send(_ value: String, to partition: Int32) async throws {
            _ = try await producer.send(KafkaProducerMessage(topic: topic, partition: partition, value: Array(value.utf8)))
        }
        try await send("before", to: 0)
        let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("pause"), topics: [topic])
        var iterator = consumer.messages.makeAsyncIterator()
        let first = try #require(try await iterator.next())
        #expect(first.valueString == "before")
        consumer.markProcessed(first)

        let partition = KafkaTopicPartition(topic: topic, partition: 0)
        try consumer.pause([partition])
        try await send("after", to: 0)
        try await send("mark", to: 1)
        let next = try #require(try await iterator.next())
        #expect(next.valueString == "mark", "a paused partition delivered \(next.valueString ?? "")")
        consumer.markProcessed(next)

        try consumer.resume([partition])
        let resumed = try #require(try await iterator.next())
        #expect(resumed.valueString == "after")
        consumer.markProcessed(resumed)
        try await producer.close()
        try await consumer.close()
    }
}
