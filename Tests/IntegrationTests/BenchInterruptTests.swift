import Foundation
import Kafka
import ProactivityLauncher
import Testing

/// A benchmark stopped with Ctrl-C leaves nothing behind on the local broker, which keeps
/// every record in memory until its topic is deleted.
@Suite(.timeLimit(.minutes(3)))
struct BenchInterruptTests {
    /// The names of the broker's `bench-` topics.
    func benchTopics() async throws -> Set<String> {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let names = try await withKafkaClient(admin) { try await $0.listTopics() }.map(\.name)
        return Set(names.filter { $0.hasPrefix("bench-") })
    }

    @Test func aKafkaBenchmarkStoppedWithCtrlCDeletesItsTopicsAndExits130() async throws {
        let binary = ProactivityProcess.binary.deletingLastPathComponent().appendingPathComponent("proactivity-bench")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no proactivity-bench next to \(ProactivityProcess.binary.path)")
        let before = try await benchTopics()

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bench-interrupt-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let bench = Process()
        bench.executableURL = binary
        bench.arguments = ["kafka", "--messages", "1000000", "--warm-up-messages", "0"]
        bench.environment = ProcessInfo.processInfo.environment.filter { ["KAFKA_BOOTSTRAP_SERVERS", "LD_LIBRARY_PATH", "PATH"].contains($0.key) }
        bench.standardOutput = try FileHandle(forWritingTo: output)
        bench.standardError = bench.standardOutput
        try bench.run()
        defer { if bench.isRunning { kill(bench.processIdentifier, SIGKILL) } }
        let text: @Sendable () -> String = { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        try await eventually(within: .seconds(60), "the first round started") { text().contains("round 1/3") }
        let created = try await benchTopics().subtracting(before)
        #expect(!created.isEmpty, "the run's topics were not seen")
        bench.interrupt()

        // Liveness: the phase under way ends (a round of a million messages, about 2 s),
        // then up to 30 s for librdkafka to release the run's clients.
        try await eventually(within: .seconds(90), "the benchmark stopped") { !bench.isRunning }
        #expect(bench.terminationStatus == 130, "\(text())")
        #expect(text().contains("deleted the benchmark's"), "\(text())")
        #expect(try await benchTopics().isDisjoint(with: created))
    }
}
