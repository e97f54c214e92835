import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore
import ServiceLifecycle
import Testing

/// Whatever a DLQ record carries, the mirror gives it a row and moves on.
@Suite(.timeLimit(.minutes(4)))
struct HostileDeadLetterTests {
    @Test func recordsPostgreSQLWouldRefuseGetRowsAndTheMirrorMovesOn() async throws {
        try await PipelineHarness.with { harness in
            func context(_ extra: [String: String]) -> [KafkaHeader] {
                var headers = [
                    DeadLetter.Header.originTopic: harness.ticksTopic, DeadLetter.Header.originPartition: "0",
                    DeadLetter.Header.originOffset: "7", DeadLetter.Header.errorClass: "undecodable",
                ]
                headers.merge(extra) { $1 }
                return headers.sorted { $0.key < $1.key }.map { KafkaHeader(name: $0.key, string: $0.value) }
            }
            let hostile: [(value: String, headers: [KafkaHeader])] = [
                (#"{"a":1}"#, context([DeadLetter.Header.errorMessage: "nul \u{0} inside"])),
                (#"{"text":"nul \u0000 escaped"}"#, context([:])),
                ("{}", context([DeadLetter.Header.jobName: String(repeating: "j", count: 10_000)])),
                ("{}", context([DeadLetter.Header.attempts: "99999999999"])),
                ("{}", context([:]) + [KafkaHeader(name: "bad\u{0}name", string: "v")]),
                (#"{"good":true}"#, context([DeadLetter.Header.jobName: "event-reminder"])),
            ]
            let producer = try TestEnvironment.producer()
            for record in hostile {
                _ = try await producer.send(
                    KafkaProducerMessage(topic: harness.dlqTopic, key: Array("k".utf8), value: Array(record.value.utf8), headers: record.headers))
            }
            try await producer.close()
            try await harness.withWorker(stages: [.mirror]) { _ in
                try await eventually(within: .seconds(60), "every record mirrored, the good one behind the rest too") {
                    try await harness.count("SELECT count(*)::int FROM worker_dlq") == hostile.count
                }
            }
            let rows = try await DeadLetterStore(client: harness.client, logger: harness.logger).list(DeadLetterFilter())
            #expect(rows.map { String(decoding: $0.value ?? [], as: UTF8.self) } == hostile.map(\.value), "raw values kept byte for byte")
            #expect(rows.allSatisfy { ($0.jobName?.count ?? 0) <= 200 })
            #expect(rows[0].errorMessage?.contains("\u{FFFD}") == true)
            #expect(rows[3].attempts == Int(Int32.max))
            // librdkafka hands header names over as C strings: a NUL ends the name.
            #expect(rows[4].headers.contains { $0.name.hasPrefix("bad") })
            #expect(rows[5].jobName == "event-reminder")
        }
    }
}
