import Foundation
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// A DLQ record read by a client that knows only Kafka Connect's dead-letter headers:
/// Python's confluent-kafka (librdkafka, not our wrapper) reads the DLQ topic.
@Suite(.timeLimit(.minutes(3)))
struct ConnectHeadersTests {
    @Test func aPoisonTicksDeadLetterCarriesConnectsHeadersOnceEvenAfterAReplayFailsAgain() async throws {
        try await PipelineHarness.with { harness in
            try await harness.withWorker(stages: [.worker, .mirror]) { assembly in
                let producer = try TestEnvironment.producer()
                let poison = try await producer.send(
                    KafkaProducerMessage(topic: harness.ticksTopic, key: Array("x".utf8), value: Array("not json".utf8)))
                try await eventually("the poison tick is mirrored") { try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1 }

                let first = try #require(try ConnectDLQReader.records(topic: harness.dlqTopic, count: 1).first)
                #expect(first.value == "not json", "the original value, unchanged")
                let expected = [
                    "__connect.errors.topic": harness.ticksTopic, "__connect.errors.partition": String(poison.partition),
                    "__connect.errors.offset": String(poison.offset), "__connect.errors.connector.name": harness.group,
                    "__connect.errors.stage": "VALUE_CONVERTER", "__connect.errors.class.name": "proactivity.worker",
                    "__connect.errors.exception.class.name": "undecodable",
                ]
                for (name, value) in expected { #expect(first.values(name) == [value], "\(name): \(first.headers)") }
                let message = try #require(first.values("__connect.errors.exception.message").first)
                #expect(!message.isEmpty && first.values("dlq.error.message") == [message], "the same message as dlq.error.message")

                // Replayed, it fails again: the new record carries one copy of each header.
                let store = DeadLetterStore(client: harness.client, logger: harness.logger)
                let replayer = DeadLetterReplayer(
                    store: store, producer: producer, allowedTopics: [harness.ticksTopic], metrics: assembly.metrics, logger: harness.logger)
                let outcome = try await replayer.replay(try await store.list(DeadLetterFilter()), force: false, dryRun: false)
                #expect(outcome.replayed.count == 1)
                try await eventually("the replayed tick failed again") { try await harness.count("SELECT count(*)::int FROM worker_dlq") == 2 }
                try await producer.close()

                let again = try #require(try ConnectDLQReader.records(topic: harness.dlqTopic, count: 2).last)
                for name in expected.keys.sorted() + ["__connect.errors.exception.message", "dlq.error.class", "dlq.origin.offset"] {
                    #expect(again.values(name).count == 1, "\(name) once: \(again.headers)")
                }
                #expect(again.values("__connect.errors.offset") != [String(poison.offset)], "the replayed record's own offset")
                #expect(again.values("__connect.errors.offset") == again.values("dlq.origin.offset"))
                #expect(again.values("dlq.replay.count") == ["1"])
                #expect(again.headers.allSatisfy { !$0.name.hasPrefix("__connect.errors.task") && !$0.name.hasSuffix("stacktrace") })
            }
        }
    }
}

/// Reads a topic from the start with Python's confluent-kafka (installed into
/// `.local/python` by `scripts/stack`), decoding each header value as strict UTF-8.
enum ConnectDLQReader {
    struct Record: Decodable {
        struct Header: Decodable {
            let name: String
            /// `nil` for a header without value or one that is not UTF-8.
            let value: String?
        }

        let offset: Int64
        let value: String?
        let headers: [Header]

        func values(_ name: String) -> [String] { headers.filter { $0.name == name }.compactMap(\.value) }
    }

    /// The first `count` records of partition 0 (the harness's DLQ topic has one).
    static func records(topic: String, count: Int) throws -> [Record] {
        let script = """
            import json, sys, time
            from confluent_kafka import Consumer, TopicPartition
            bootstrap, topic, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
            consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'connect-reader', 'enable.auto.commit': False})
            consumer.assign([TopicPartition(topic, 0, 0)])
            def text(raw):
                if raw is None:
                    return None
                try:
                    return raw.decode('utf-8', errors='strict')
                except UnicodeDecodeError:
                    return None
            records, deadline = [], time.time() + 60
            while len(records) < count and time.time() < deadline:
                message = consumer.poll(0.5)
                if message is None or message.error():
                    continue
                records.append({'offset': message.offset(), 'value': text(message.value()),
                                'headers': [{'name': name, 'value': text(value)} for name, value in (message.headers() or [])]})
            consumer.close()
            print(json.dumps(records))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, try TestEnvironment.variable("KAFKA_BOOTSTRAP_SERVERS"), topic, String(count)]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = PipelineHarness.repositoryRoot.appendingPathComponent(".local/python").path
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "the reader failed: \(problems)")
        let records = try JSONDecoder().decode([Record].self, from: data)
        try #require(records.count == count, "read \(records.count) of \(count) records: \(problems)")
        return records
    }
}
