import Foundation
import ProactivityLauncher
import Synchronization
import Testing

/// Runs `scripts/stack` for a PostgreSQL instance of a test's own (its own data folder
/// and port), and for a broker of its own (`broker-*` commands, its own port), so tests
/// that stop, break or restart them disturb no other test.
struct StackScript {
    let instance: String
    let port: Int
    /// The port of the test's own broker.
    let kafkaPort = Self.freePort(in: 19_200...19_999)

    /// `bootstrap.servers` of the test's own broker.
    var kafkaAddress: String { "127.0.0.1:\(kafkaPort)" }

    init(prefix: String) {
        instance = TestEnvironment.unique(prefix).replacingOccurrences(of: "-", with: "_")
        port = Self.freePort(in: 23_000...23_999)
    }

    /// A port of `range` that no other test of this run was given and that no one
    /// listens on now (tried at random, up to 50 times), so two tests, or a test and a
    /// server left running, do not meet on one port. Two tests set up at the same moment
    /// both find a port free before either starts its server; given the same one, the
    /// second test's `broker-start` would take the first's broker (its pid file) for its
    /// own, until the first stops it. A port given out is never probed again: the probe
    /// binds it for a moment, and a broker starting on it then fails with "Address in
    /// use" (seen in CI: Tansu exits at once, its port never answers). The ranges lie
    /// below Linux's ephemeral ports (32768–60999): a client connection's local port
    /// cannot take one between this check and the server's start (seen: the test's own
    /// PostgreSQL refused at start because port 56768 had become a client's).
    static func freePort(in range: ClosedRange<Int>) -> Int {
        for _ in 0..<50 {
            let candidate = Int.random(in: range)
            guard givenOut.withLock({ $0.insert(candidate).inserted }), isFree(candidate) else { continue }
            return candidate
        }
        return Int.random(in: range)
    }

    /// The ports handed to tests in this process.
    private static let givenOut = Mutex<Set<Int>>([])

    /// Whether a server could listen on `port` of 127.0.0.1 now.
    private static func isFree(_ port: Int) -> Bool {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return true }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    var url: String { "postgres://proactivity:proactivity@127.0.0.1:\(port)/proactivity" }
    var dataFolder: URL { PipelineHarness.repositoryRoot.appendingPathComponent(".local/\(instance)") }
    var socketFolder: URL { PipelineHarness.repositoryRoot.appendingPathComponent(".local/run/pg-\(instance)") }

    /// What one run printed (stdout and stderr together) and its exit status.
    struct Outcome {
        let status: Int32
        let output: String
    }

    /// The environment of this instance's scripts: the tests' own, with this
    /// instance's PostgreSQL data folder and ports and its broker's port.
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PROACTIVITY_PG_INSTANCE"] = instance
        environment["PROACTIVITY_PG_PORT"] = String(port)
        environment["PROACTIVITY_KAFKA_PORT"] = String(kafkaPort)
        return environment
    }

    /// Runs `scripts/stack COMMAND` and waits for it.
    func run(_ command: String) throws -> Outcome {
        let script = try ScriptProcess("scripts/stack", [command], environment: environment)
        let status = script.waitUntilExit()
        return Outcome(status: status, output: script.output)
    }

    /// Runs `scripts/stack COMMAND`, recording a test issue when it fails.
    func expectSuccess(_ command: String) throws {
        let outcome = try run(command)
        #expect(outcome.status == 0, "scripts/stack \(command) failed: \(outcome.output)")
    }

    /// The end of this instance's broker log (`scripts/stack broker-*`), for a failure's message.
    func brokerLog() -> String {
        let file = PipelineHarness.repositoryRoot.appendingPathComponent(".local/log/tansu-\(kafkaPort).log")
        return String((try? String(contentsOf: file, encoding: .utf8))?.suffix(3000) ?? "(no log at \(file.path))")
    }

    /// Stops this instance's servers and deletes the database's data folder, socket
    /// folder, the logs named after this instance or its broker's port, and the console
    /// token a demo on that port wrote.
    func remove() {
        _ = try? run("broker-stop")
        _ = try? run("pg-stop")
        try? FileManager.default.removeItem(at: dataFolder)
        try? FileManager.default.removeItem(at: socketFolder)
        try? FileManager.default.removeItem(at: PipelineHarness.repositoryRoot.appendingPathComponent(".local/run/console-token-\(kafkaPort)"))
        let logs = PipelineHarness.repositoryRoot.appendingPathComponent(".local/log")
        for name in ["postgres-\(instance).log", "tansu-\(kafkaPort).log", "demo-\(kafkaPort).log", "engine-\(kafkaPort).log"] {
            try? FileManager.default.removeItem(at: logs.appendingPathComponent(name))
        }
    }
}

/// A script of the repository (`scripts/…`) run as a child in a process group of its
/// own, as a terminal runs a foreground command, so that a test can send the whole group
/// a signal as Ctrl-C does. Its output (both streams) goes to a file, not a pipe: servers
/// it starts outlive it and would hold a pipe open.
final class ScriptProcess: @unchecked Sendable {
    /// The script's process id, which is also its process group's id.
    let pid: pid_t
    private let outputFile: String
    private let exitState = Mutex<Int32?>(nil)

    /// Starts `script` (a path below the repository root) with `arguments` and exactly `environment`.
    init(_ script: String, _ arguments: [String], environment: [String: String]) throws {
        let path = PipelineHarness.repositoryRoot.appendingPathComponent(script).path
        outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("script-\(UUID().uuidString).log").path
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let variables: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // As a shell starts a command: every signal at its default action and none
        // blocked, whatever the test runner ignores or blocks.
        var defaults = sigset_t()
        sigfillset(&defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, &attributes, argv, variables) == 0 else {
            struct SpawnFailed: Error {}
            throw SpawnFailed()
        }
        self.pid = pid
    }

    /// What the script printed so far.
    var output: String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }

    /// Sends `signal` to every process of the script's group (SIGINT: a Ctrl-C).
    func signalGroup(_ signal: Int32) { kill(-pid, signal) }

    /// Whether a process of the script's group still runs (after the script was reaped:
    /// what it started in its group and did not stop).
    var groupIsAlive: Bool { kill(-pid, 0) == 0 }

    /// The exit status once the script has exited (128 + the signal when one ended it),
    /// without waiting.
    var exitStatus: Int32? { reap(waiting: false) }

    /// Waits for the script to exit and returns its exit status.
    func waitUntilExit() -> Int32 { reap(waiting: true)! }

    /// Waits for the script to exit; kills its group and fails when it takes longer.
    func waitForExit(within limit: Duration) async throws -> Int32 {
        guard let status = try await poll(every: .milliseconds(50), within: limit, { exitStatus }) else {
            signalGroup(SIGKILL)
            Issue.record("\(pid) did not exit within \(limit); output:\n\(output.suffix(3000))")
            return waitUntilExit()
        }
        return status
    }

    private func reap(waiting: Bool) -> Int32? {
        exitState.withLock { exit in
            if exit == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, waiting ? 0 : WNOHANG) == pid {
                    exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                }
            }
            return exit
        }
    }

    deinit {
        if exitStatus == nil {
            signalGroup(SIGKILL)
            _ = waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: outputFile)
    }
}
