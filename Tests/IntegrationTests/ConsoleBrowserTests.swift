import Foundation
import Kafka
import ProactivityCore
import ProactivityStages
import ProactivityStore
import Testing

/// The operator's walk in a real browser: headless Chromium (Debian's `chromium` and
/// `chromium-driver`) driven by Selenium (`.local/python`), both installed by
/// `scripts/stack`, against a worker and a mirror running here on a real broker and
/// database. `Tests/browser/console_walk.py` does the walk and saves a PNG of each page,
/// at desktop and phone width, into `.build/console-screenshots/`.
@Suite(.timeLimit(.minutes(4)))
struct ConsoleBrowserTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func anOperatorSignsInFindsThePoisonRecordReplaysItAndLooksAnAlertUp() async throws {
        try await PipelineHarness.with { harness in
            try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(slot.addingTimeInterval(600)))")
            let assembly = try StageAssembly(stages: [.worker, .mirror], settings: try await harness.settings(), logger: harness.logger)
            let (ports, portSink) = AsyncStream.makeStream(of: Int?.self)
            try await assembly.running(onServerRunning: { portSink.yield($0) }) {
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next() ?? nil)
                try await walk(harness, port: port)
            }
        }
    }

    func walk(_ harness: PipelineHarness, port: Int) async throws {
        let producer = try TestEnvironment.producer()
        _ = try await producer.send(KafkaProducerMessage(topic: harness.ticksTopic, key: Array("raw".utf8), value: Array("not json at all".utf8)))
        try await producer.close()
        let good = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
        try await harness.publish([good])
        try await harness.waitForCompletion(of: [good])
        let alert = try #require(try await harness.alerts().first?.alert)
        let store = DeadLetterStore(client: harness.client, logger: harness.logger)
        try await eventually("the poison record is mirrored") { try await store.list(DeadLetterFilter()).count == 1 }
        let poison = try #require(try await store.list(DeadLetterFilter()).first)
        #expect(poison.errorClass == "undecodable")

        let shots = PipelineHarness.repositoryRoot.appendingPathComponent(".build/console-screenshots")
        let (status, output) = try await Self.python(
            script: PipelineHarness.repositoryRoot.appendingPathComponent("Tests/browser/console_walk.py").path,
            arguments: ["http://127.0.0.1:\(port)", PipelineHarness.apiToken, alert.alertId, String(poison.id), shots.path])
        print(output)
        print("console screenshots: \(shots.path)")
        #expect(status == 0, "the walk failed:\n\(output)")
        let after = try #require(try await store.list(DeadLetterFilter(ids: [poison.id])).first)
        #expect(after.processedAt != nil && after.retryCount == 1, "the browser's replay marked the row replayed")
    }

    /// Runs a Python script with `.local/python` on its path; waits without blocking a thread.
    static func python(script: String, arguments: [String]) async throws -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("console-walk-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = PipelineHarness.repositoryRoot.appendingPathComponent(".local/python").path
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        try handle.close()
        defer { try? FileManager.default.removeItem(at: log) }
        return (status, try String(contentsOf: log, encoding: .utf8))
    }
}
