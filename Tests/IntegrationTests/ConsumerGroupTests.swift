import Kafka
import Synchronization
import Testing

/// Which member processed which message, and how often.
final class Ledger: Sendable {
    private let entries = Mutex<[String: [String]]>([:])

    func record(_ message: KafkaConsumerMessage, by member: String) {
        entries.withLock { $0["\(message.partition)@\(message.offset)", default: []].append(member) }
    }

    var distinct: Int { entries.withLock { $0.count } }
    var snapshot: [String: [String]] { entries.withLock { $0 } }
}

@Suite(.timeLimit(.minutes(3)))
struct ConsumerGroupTests {
    @Test func twoMembersSplitPartitionsAndTheSurvivorTakesOverExactlyOnce() async throws {
        let topic = TestEnvironment.unique("group")
        let group = TestEnvironment.unique("group")
        try await TestEnvironment.createTopic(topic, partitions: 4)
        let ledger = Ledger()
        let first = try TestEnvironment.consumer(group: group, topics: [topic], manualCommit: true)
        let second = try TestEnvironment.consumer(group: group, topics: [topic], manualCommit: true)
        let producer = try TestEnvironment.producer()

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (name, consumer) in [("first", first), ("second", second)] {
                tasks.addTask {
                    var processed = 0
                    for try await message in consumer.messages {
                        ledger.record(message, by: name)
                        consumer.markProcessed(message)
                        processed += 1
                        if processed % 50 == 0 { try await consumer.commit() }
                    }
                }
            }
            try await eventually("both members own partitions") {
                !first.assignment.isEmpty && !second.assignment.isEmpty
                    && first.assignment.union(second.assignment).count == 4
            }
            #expect(first.assignment.isDisjoint(with: second.assignment))

            try await send(1000, to: topic, with: producer, from: 0)
            try await eventually("the first 1000 processed") { ledger.distinct == 1000 }
            let members = Set(ledger.snapshot.values.flatMap { $0 })
            #expect(members == ["first", "second"], "both members should have processed part of the topic")

            try await first.close()
            try await eventually("the survivor owns every partition") { second.assignment.count == 4 }
            try await send(1000, to: topic, with: producer, from: 1000)
            try await eventually("all 2000 processed") { ledger.distinct == 2000 }
            try await second.close()
            try await tasks.waitForAll()
        }
        try await producer.close()

        let duplicates = ledger.snapshot.filter { $0.value.count > 1 }
        #expect(duplicates.isEmpty, "processed more than once: \(duplicates.prefix(5))")
        #expect(ledger.distinct == 2000)
    }

    /// One partition, two members: the one left without it is a member all the same
    /// (what readiness asks), and takes the partition over when its owner leaves.
    @Test func aMemberLeftWithoutPartitionsIsAMemberAndTakesOverWhenTheOwnerLeaves() async throws {
        let topic = TestEnvironment.unique("idle")
        let group = TestEnvironment.unique("idle")
        try await TestEnvironment.createTopic(topic, partitions: 1)
        let first = try TestEnvironment.consumer(group: group, topics: [topic])
        let second = try TestEnvironment.consumer(group: group, topics: [topic])
        #expect(!first.isGroupMember, "not a member before its first assignment")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for consumer in [first, second] {
                tasks.addTask { for try await message in consumer.messages { consumer.markProcessed(message) } }
            }
            try await eventually("both consumers are members, one of them with the partition") {
                first.isGroupMember && second.isGroupMember && first.assignment.count + second.assignment.count == 1
            }
            let (owner, idle) = first.assignment.isEmpty ? (second, first) : (first, second)
            try await owner.close()
            #expect(!owner.isGroupMember, "a closed consumer left its group")
            try await eventually("the idle member takes the partition over") { idle.assignment.count == 1 }
            #expect(idle.isGroupMember)
            try await idle.close()
            try await tasks.waitForAll()
        }
    }

    @Test func committedOffsetsSurviveTheConsumer() async throws {
        let topic = TestEnvironment.unique("commit")
        let group = TestEnvironment.unique("commit")
        try await TestEnvironment.createTopic(topic, partitions: 2)
        let producer = try TestEnvironment.producer()
        try await send(20, to: topic, with: producer, from: 0)

        let consumer = try TestEnvironment.consumer(group: group, topics: [topic], manualCommit: true)
        var seen = 0
        for try await message in consumer.messages {
            consumer.markProcessed(message)
            seen += 1
            if seen == 20 { break }
        }
        try await consumer.commit()
        let committed = try await consumer.committedOffsets(for: [
            KafkaTopicPartition(topic: topic, partition: 0), KafkaTopicPartition(topic: topic, partition: 1),
        ])
        try await consumer.close()
        #expect(committed.map(\.offset).reduce(0, +) == 20)

        // A new member of the group starts after the committed messages.
        try await send(1, to: topic, with: producer, from: 20)
        let next = try TestEnvironment.consumer(group: group, topics: [topic])
        var iterator = next.messages.makeAsyncIterator()
        let message = try #require(try await iterator.next())
        #expect(message.valueString == "20")
        next.markProcessed(message)
        try await next.close()
        try await producer.close()
    }

    private func send(_ count: Int, to topic: String, with producer: KafkaProducer, from start: Int) async throws {
        let results = await producer.send((start..<start + count).map {
            KafkaProducerMessage(topic: topic, key: "key-\($0 % 17)", value: "\($0)")
        })
        for result in results { _ = try result.get() }
    }
}
