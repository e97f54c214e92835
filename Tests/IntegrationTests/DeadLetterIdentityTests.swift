import Foundation
import Kafka
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// A DLQ record is named by its coordinates and its content: a redelivery finds its row,
/// a new record at an old record's coordinates (the topic created again) gets its own.
@Suite(.timeLimit(.minutes(5)))
struct DeadLetterIdentityTests {
    static func deadLetter(_ message: String, at date: Date) -> DeadLetter {
        DeadLetter(
            originTopic: "ticks", originPartition: 0, originOffset: 7, originTimestamp: date, consumerGroup: "workers",
            stage: "worker", jobName: "event-reminder", errorClass: .jobSQL, errorMessage: message, attempts: 1,
            firstFailure: date, lastFailure: date, correlationId: "ticks/0/7")
    }

    static func record(_ letter: DeadLetter, topic: String, offset: Int64, timestamp: Int64?) -> DeadLetterStore.Record {
        DeadLetterStore.Record(
            topic: topic, partition: 0, offset: offset, key: Array("key".utf8), value: Array("value".utf8),
            headers: letter.headers.map { DeadLetterRow.Header(name: $0.name, value: Data($0.value.utf8).base64EncodedString()) },
            timestampMilliseconds: timestamp, letter: letter)
    }

    @Test func aRedeliveryFindsItsRowAndANewRecordAtTheSameCoordinatesGetsOne() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            let first = Self.record(Self.deadLetter("relation \"invoices\" does not exist", at: Date()), topic: harness.dlqTopic, offset: 0, timestamp: 1_700_000_000_000)
            #expect(try await store.mirror(first), "a first record gets a row")
            #expect(try await store.mirror(first) == false, "a redelivery of the same record finds its row")
            var later = first
            later.timestampMilliseconds = 1_700_000_900_000
            #expect(try await store.mirror(later), "another record at the same coordinates (a recreated topic) gets a row")
            #expect(try await store.mirror(later) == false, "and its redelivery does not")
            let rows = try await store.list(DeadLetterFilter())
            #expect(rows.count == 2)
            #expect(Set(rows.compactMap(\.dlqOffset)) == [0])
        }
    }

    @Test func recordsThatDifferInAnyPartHaveDifferentDigests() {
        let base = Self.record(Self.deadLetter("boom", at: Date(timeIntervalSince1970: 1_700_000_000)), topic: "dlq", offset: 3, timestamp: 5)
        var variants: [DeadLetterStore.Record] = []
        var changed = base
        changed.timestampMilliseconds = nil
        variants.append(changed)
        changed = base
        changed.key = nil
        variants.append(changed)
        changed = base
        changed.key = []
        variants.append(changed)
        changed = base
        changed.value = Array("valu".utf8)
        variants.append(changed)
        changed = base
        changed.headers.removeLast()
        variants.append(changed)
        changed = base
        changed.headers[0].value = nil
        variants.append(changed)
        // Bytes moved from the key to the value: the length prefixes tell them apart.
        changed = base
        changed.key = Array("keyv".utf8)
        changed.value = Array("alue".utf8)
        variants.append(changed)
        let digests = Set(([base] + variants).map(\.digest))
        #expect(digests.count == variants.count + 1)
        #expect(base.digest == base.digest && base.digest.count == 32)
        var moved = base
        moved.offset = 4
        #expect(moved.digest == base.digest, "the digest is the content's; the coordinates are columns of their own")
    }

    /// The issue's reproduction: a DLQ record mirrored, the broker restarted empty, the DLQ
    /// topic created again, a new record at partition 0 offset 0: it gets a row.
    @Test func theMirrorWritesARowForANewRecordOfARecreatedDLQTopic() async throws {
        try await BrokerRestartTests.withOwnBroker { stack, kafka, harness in
            try await harness.withWorker(stages: [.mirror], environment: ["KAFKA_BOOTSTRAP_SERVERS": stack.kafkaAddress]) { assembly in
                func send(_ message: String) async throws {
                    let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: harness.logger)
                    let letter = Self.deadLetter(message, at: Date())
                    _ = try await producer.send(
                        KafkaProducerMessage(
                            topic: harness.dlqTopic, partition: 0, key: Array("k".utf8), value: Array("not a tick".utf8),
                            headers: letter.headers.map { KafkaHeader(name: $0.name, string: $0.value) }))
                    try await producer.close()
                }
                try await send("before the restart")
                try await eventually(within: .seconds(60), "the first dead letter is mirrored") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1
                }

                try stack.expectSuccess("broker-restart")
                try await BrokerRestartTests.createTopics([harness.dlqTopic], on: kafka)
                try await send("after the restart")
                try await eventually(within: .seconds(90), "the dead letter of the recreated topic is mirrored") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq WHERE error_message = 'after the restart'") == 1
                }
                #expect(try await harness.count("SELECT count(*)::int FROM worker_dlq WHERE dlq_partition = 0 AND dlq_offset = 0") == 2)
                // The counter moves right after the row's insert returns: a poll can see the row first.
                try await eventually(within: .seconds(30), "the mirror counts both records as mirrored") {
                    assembly.metrics.render().contains(#"proactivity_dlq_mirror_records_total{outcome="mirrored"} 2"#)
                }
            }
        }
    }
}
