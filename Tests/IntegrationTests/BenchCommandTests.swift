import Foundation
import Kafka
import PostgresNIO
import ProactivityLauncher
import ProactivityStore
import Testing

/// The benchmark commands as a user runs them. A benchmark leaves nothing behind on the
/// local broker (which keeps every record in memory until its topic is deleted), also when
/// stopped with Ctrl-C. Serialized: each compares the broker's `bench-` topics before and
/// after it.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BenchCommandTests {
    /// The names of the broker's `bench-` topics.
    func benchTopics() async throws -> Set<String> {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let names = try await withKafkaClient(admin) { try await $0.listTopics() }.map(\.name)
        return Set(names.filter { $0.hasPrefix("bench-") })
    }

    /// Starts `proactivity-bench` (built next to `proactivity`) with `arguments` and only
    /// the `variables` of this environment, its standard output in a file (its standard
    /// error too when `mergingErrors`, else discarded). The caller removes the file.
    func startBench(_ arguments: [String], variables: Set<String>, mergingErrors: Bool) throws -> (bench: Process, output: URL) {
        let binary = ProactivityProcess.binary.deletingLastPathComponent().appendingPathComponent("proactivity-bench")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "no proactivity-bench next to \(ProactivityProcess.binary.path)")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let bench = Process()
        bench.executableURL = binary
        bench.arguments = arguments
        bench.environment = ProcessInfo.processInfo.environment.filter { variables.contains($0.key) }
        bench.standardOutput = try FileHandle(forWritingTo: output)
        bench.standardError = mergingErrors ? bench.standardOutput : FileHandle.nullDevice
        try bench.run()
        return (bench, output)
    }

    /// A short soak through a real `proactivity all`: its JSON report counts every item
    /// inserted alerted once, samples the engine, and finds no error line in its log; its
    /// schema is dropped afterwards. (Its topics are deleted too, unless one of its Kafka
    /// clients is still being released after 30 s: then a warning names it and the topics
    /// stay, which the interrupted benchmark's test covers.)
    @Test func aShortSoakAlertsEveryItemOnceAndRemovesWhatItMade() async throws {
        let schemasBefore = try await benchSchemas()
        let (bench, output) = try startBench(
            ["soak", "--duration", "15s", "--sample-interval", "5s", "--items-per-second", "5", "--window", "1m", "--json"],
            variables: ["KAFKA_BOOTSTRAP_SERVERS", "POSTGRES_URL", "LD_LIBRARY_PATH", "PATH"], mergingErrors: false)
        defer {
            if bench.isRunning { kill(bench.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: output)
        }

        // Liveness: the engine joins its groups (up to about 15 s on the local broker), 15 s
        // of items, their last alerts, the clean-up.
        try await eventually(within: .seconds(150), "the soak ended") { !bench.isRunning }
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(bench.terminationStatus == 0, "\(text)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
        let inserted = try #require(report["items_inserted"] as? Int)
        #expect(inserted >= 5 * 10, "items were inserted second by second: \(text)")
        #expect(report["alerts_read"] as? Int == inserted, "\(text)")
        #expect(report["distinct_alerts"] as? Int == inserted, "\(text)")
        #expect(report["error_lines"] as? Int == 0, "\(text)")
        #expect(((report["samples"] as? [Any])?.count ?? 0) >= 2, "\(text)")
        #expect(try await benchSchemas().isSubset(of: schemasBefore), "the soak's schema was dropped")
    }

    /// The database's `bench_` schemas.
    func benchSchemas() async throws -> Set<String> {
        try await withPostgresClient(try DatabaseSettings(url: try TestEnvironment.variable("POSTGRES_URL")), logger: TestEnvironment.logger) { client in
            var names: Set<String> = []
            for try await name in try await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").decode(String.self) {
                names.insert(name)
            }
            return names
        }
    }

    @Test func aKafkaBenchmarkStoppedWithCtrlCDeletesItsTopicsAndExits130() async throws {
        let before = try await benchTopics()
        let (bench, output) = try startBench(
            ["kafka", "--messages", "1000000", "--warm-up-messages", "0"], variables: ["KAFKA_BOOTSTRAP_SERVERS", "LD_LIBRARY_PATH", "PATH"],
            mergingErrors: true)
        defer {
            if bench.isRunning { kill(bench.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: output)
        }
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
