import Foundation
import HummingbirdTesting
import Kafka
import PostgresNIO
import ProactivityCore
import ProactivityStages
import ProactivityStore
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(4)))
struct DeadLetterTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    func rows(_ harness: PipelineHarness) async throws -> [DeadLetterRow] {
        try await DeadLetterStore(client: harness.client, logger: harness.logger).list(DeadLetterFilter(limit: 1000))
    }

    func send(_ harness: PipelineHarness, value: [UInt8], key: String = "raw") async throws {
        var kafka = try TestEnvironment.kafka()
        kafka.properties["message.max.bytes"] = "8388608"
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: kafka), logger: harness.logger)
        _ = try await producer.send(
            KafkaProducerMessage(topic: harness.ticksTopic, key: Array(key.utf8), value: value, headers: [KafkaHeader(name: "origin", string: "test")]))
        try await producer.close()
    }

    @Test func poisonTicksLandInWorkerDLQWithTheirReasonWhileGoodTicksFlowAndReplayIsIdempotent() async throws {
        try await PipelineHarness.with { harness in
            let jobsFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(harness.schema)-jobs.json")
            try Data(
                #"{"jobs": [{"name": "broken", "every": "5m", "window": "1h", "sql": "SELECT id::text AS item_id, user_id, title, due_at FROM invoices WHERE due_at >= :window_start AND due_at < :window_end"}]}"#
                    .utf8
            ).write(to: jobsFile)
            try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(slot.addingTimeInterval(600)))")
            var broken = BuiltInJobs.eventReminder
            broken.name = "broken"
            var generator = try SeededRandom()
            let random = (0..<1_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let good = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            var future = String(decoding: MessageCoding.encode(good), as: UTF8.self)
            future = future.replacingOccurrences(of: #""schema_version":1"#, with: #""schema_version":2"#)

            try await harness.withWorker(stages: [.worker, .mirror], jobsFile: jobsFile.path) { assembly in
                try await send(harness, value: Array("not json at all".utf8))
                try await send(harness, value: Array(future.utf8))
                try await harness.publish([TickMessage(job: broken, slot: slot, producedAt: slot)])
                try await send(harness, value: random)
                try await harness.publish([good])
                try await harness.waitForCompletion(of: [good])
                try await eventually("four rows mirrored") { try await rows(harness).count == 4 }

                let mirrored = try await rows(harness)
                #expect(mirrored.compactMap(\.errorClass).sorted() == ["job_sql", "undecodable", "undecodable", "unknown_schema_version"])
                let text = try #require(mirrored.first { $0.value == Array("not json at all".utf8) })
                #expect(text.errorClass == "undecodable")
                let big = try #require(mirrored.first { $0.value?.count == random.count })
                #expect(big.value == random, "a 1 MB random value arrives intact")
                let sql = try #require(mirrored.first { $0.errorClass == "job_sql" })
                #expect(sql.jobName == "broken")
                #expect(sql.errorMessage?.contains("invoices") == true)
                for row in mirrored {
                    #expect(row.originTopic == harness.ticksTopic)
                    #expect(row.stage == "worker")
                    #expect(row.correlationId == "\(harness.ticksTopic)/\(row.originPartition!)/\(row.originOffset!)")
                    #expect(row.processedAt == nil && row.retryCount == 0)
                }
                #expect(text.headers.contains { $0.name == "origin" }, "original headers are kept")
                #expect(try await harness.alerts().map(\.alert.userId) == ["alice"], "the good tick still produced its alert")
                try await eventually("the worker counts the dead letter") {
                    assembly.metrics.render().contains(#"proactivity_dlq_messages_total{stage="worker",reason="job_sql"} 1"#)
                }

                // Fix the cause, replay the failed tick: it runs; a second replay does nothing.
                try await harness.execute("CREATE TABLE invoices (id int, user_id text, title text, due_at timestamptz)")
                let store = DeadLetterStore(client: harness.client, logger: harness.logger)
                let producer = try TestEnvironment.producer()
                let replayer = DeadLetterReplayer(
                    store: store, producer: producer, allowedTopics: [harness.ticksTopic], metrics: assembly.metrics, logger: harness.logger)
                let first = try await replayer.replay([sql], force: false, dryRun: false)
                #expect(first.replayed == [sql.id])
                let brokenTick = TickMessage(job: broken, slot: slot, producedAt: slot)
                try await harness.waitForCompletion(of: [brokenTick])
                let again = try await replayer.replay(try await store.list(DeadLetterFilter(ids: [sql.id])), force: false, dryRun: false)
                #expect(again.replayed.isEmpty && again.skipped.map(\.id) == [sql.id])
                let after = try #require(try await store.list(DeadLetterFilter(ids: [sql.id])).first)
                #expect(after.retryCount == 1 && after.processedAt != nil)
                try await producer.close()
            }
        }
    }

    @Test func theHTTPAPIRefusesMissingAndWrongTokensAndReplaysWithTheRightOne() async throws {
        try await PipelineHarness.with { harness in
            try await harness.withWorker(stages: [.mirror]) { assembly in
                let store = DeadLetterStore(client: harness.client, logger: harness.logger)
                let letter = DeadLetter(
                    originTopic: harness.ticksTopic, originPartition: 0, originOffset: 7, originTimestamp: slot, consumerGroup: harness.group,
                    stage: "worker", jobName: "broken", errorClass: .jobSQL, errorMessage: "relation does not exist", attempts: 1,
                    firstFailure: slot, lastFailure: slot, correlationId: "\(harness.ticksTopic)/0/7")
                let record = DeadLetterStore.Record(
                    topic: harness.dlqTopic, partition: 0, offset: 0, key: Array("k".utf8), value: Array("the tick".utf8), headers: [],
                    letter: letter)
                try await store.mirror(record)
                let token: HTTPFields = [.authorization: "Bearer \(PipelineHarness.apiToken)"]
                let app = ObservabilityApp.make(assembly)
                try await app.test(.router) { client in
                    try await client.execute(uri: "/dlq", method: .get) { #expect($0.status == .unauthorized) }
                    try await client.execute(uri: "/dlq/replay?all=true", method: .post, headers: [.authorization: "Bearer wrong"]) {
                        #expect($0.status == .unauthorized)
                    }
                    #expect(try await store.list(DeadLetterFilter())[0].processedAt == nil, "nothing was replayed")
                    try await client.execute(uri: "/dlq", method: .get, headers: token) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body).contains(#""retryCount":0"#))
                    }
                    try await client.execute(uri: "/dlq/replay", method: .post, headers: token) { #expect($0.status == .badRequest) }
                    try await client.execute(uri: "/dlq/replay?error_class=job_sql", method: .post, headers: token) { response in
                        #expect(response.status == .ok)
                        #expect(String(buffer: response.body).contains(#""replayed":[1]"#))
                    }
                    try await client.execute(uri: "/dlq/1/replay", method: .post, headers: token) { response in
                        #expect(String(buffer: response.body).contains(#""replayed":[]"#), "a second replay needs force")
                    }
                }
                let rows = try await store.list(DeadLetterFilter())
                #expect(rows.count == 1 && rows[0].processedAt != nil && rows[0].retryCount == 1)
                // The original record is back on its topic, with the replay headers.
                let consumer = try TestEnvironment.consumer(group: TestEnvironment.unique("check"), topics: [harness.ticksTopic])
                for try await message in consumer.messages {
                    #expect(message.value == Array("the tick".utf8) && message.keyString == "k")
                    #expect(message.headers.string(named: DeadLetter.Header.replayID) == "1")
                    #expect(message.headers.string(named: DeadLetter.Header.replayCount) == "1")
                    break
                }
                try await consumer.close()
                // Mirroring the same DLQ record again (a restarted mirror) adds no row.
                #expect(try await store.mirror(record) == false)
                #expect(try await store.list(DeadLetterFilter()).count == 1)
            }
        }
    }
}

/// The HTTP application of an assembly, for router tests.
enum ObservabilityApp {
    static func make(_ assembly: StageAssembly) -> some ApplicationProtocol {
        Observability.ObservabilityRouter.application(router: assembly.router, host: "127.0.0.1", port: 0, logger: TestEnvironment.logger)
    }
}

import Hummingbird
import Observability
