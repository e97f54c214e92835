import Foundation
import Testing

/// Runs `scripts/stack` for a PostgreSQL instance of a test's own (its own data folder
/// and port), and for a broker of its own (`broker-*` commands, its own port), so tests
/// that stop, break or restart them disturb no other test.
struct StackScript {
    let instance: String
    let port: Int
    /// The port of the test's own broker.
    let kafkaPort = Int.random(in: 19_200...19_999)

    /// `bootstrap.servers` of the test's own broker.
    var kafkaAddress: String { "127.0.0.1:\(kafkaPort)" }

    init(prefix: String) {
        instance = TestEnvironment.unique(prefix).replacingOccurrences(of: "-", with: "_")
        port = Int.random(in: 56_000...56_999)
    }

    var url: String { "postgres://proactivity:proactivity@127.0.0.1:\(port)/proactivity" }
    var dataFolder: URL { PipelineHarness.repositoryRoot.appendingPathComponent(".local/\(instance)") }
    var socketFolder: URL { PipelineHarness.repositoryRoot.appendingPathComponent(".local/run/pg-\(instance)") }

    /// What one run printed (stdout and stderr together) and its exit status.
    struct Outcome {
        let status: Int32
        let output: String
    }

    /// Runs `scripts/stack COMMAND` and waits for it. posix_spawn and waitpid with the
    /// output in a file, not a pipe: the server it starts outlives the script and would
    /// hold a pipe open.
    func run(_ command: String) throws -> Outcome {
        let script = PipelineHarness.repositoryRoot.appendingPathComponent("scripts/stack").path
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("stack-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: outputFile) }
        var environment = ProcessInfo.processInfo.environment
        environment["PROACTIVITY_PG_INSTANCE"] = instance
        environment["PROACTIVITY_PG_PORT"] = String(port)
        environment["PROACTIVITY_KAFKA_PORT"] = String(kafkaPort)
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(script), strdup(command), nil]
        let variables: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        guard posix_spawn(&pid, script, &actions, nil, arguments, variables) == 0 else {
            struct SpawnFailed: Error {}
            throw SpawnFailed()
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let output = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        return Outcome(status: (status >> 8) & 0xff, output: output)
    }

    /// Runs `scripts/stack COMMAND`, recording a test issue when it fails.
    func expectSuccess(_ command: String) throws {
        let outcome = try run(command)
        #expect(outcome.status == 0, "scripts/stack \(command) failed: \(outcome.output)")
    }

    /// Stops this instance's servers and deletes the database's data folder, socket
    /// folder and log.
    func remove() {
        _ = try? run("broker-stop")
        _ = try? run("pg-stop")
        try? FileManager.default.removeItem(at: dataFolder)
        try? FileManager.default.removeItem(at: socketFolder)
        try? FileManager.default.removeItem(at: PipelineHarness.repositoryRoot.appendingPathComponent(".local/log/postgres-\(instance).log"))
    }
}
