import Foundation

/// The `proactivity` binary run as a child process, its standard output and standard
/// error captured in files (removed with the object): how the integration tests and
/// `proactivity-bench` start the engine, so each measures or checks a real process.
public final class ProactivityProcess: @unchecked Sendable {
    public let process = Process()
    public let stdoutFile: URL
    public let stderrFile: URL

    /// A process that was still running when its time was up; it has been killed.
    public struct DidNotExit: Error, CustomStringConvertible {
        public let description: String
    }

    /// `PROACTIVITY_BIN` when set, else the `proactivity` built next to the running
    /// executable (`proactivity-bench`) or in its folder's parent (a test bundle's).
    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["PROACTIVITY_BIN"], !path.isEmpty { return URL(fileURLWithPath: path) }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [beside, beside.deletingLastPathComponent()].map { $0.appendingPathComponent("proactivity") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    /// Starts `proactivity ARGUMENTS` with exactly `environment`, plus this process's
    /// `LD_LIBRARY_PATH` (the librdkafka it loads) and `PATH`.
    public init(_ arguments: [String], environment: [String: String]) throws {
        let name = "proactivity-\(UUID().uuidString)"
        stdoutFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).out")
        stderrFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).err")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = Self.binary
        process.arguments = arguments
        var environment = environment
        environment["LD_LIBRARY_PATH"] = ProcessInfo.processInfo.environment["LD_LIBRARY_PATH"]
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"]
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
    }

    /// Runs a command to its end and returns its exit status, all its output, and its
    /// standard output alone.
    /// - Throws: ``DidNotExit`` when it runs longer than `limit`.
    public static func run(_ arguments: [String], environment: [String: String], within limit: Duration = .seconds(60)) async throws
        -> (status: Int32, output: String, stdout: String)
    {
        let child = try ProactivityProcess(arguments, environment: environment)
        let status = try await child.waitForExit(within: limit)
        return (status, child.text, child.stdout)
    }

    /// What the process wrote to standard output so far.
    public var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }

    /// Everything the process wrote so far: standard output, then standard error.
    public var text: String { stdout + ((try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "") }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit.
    /// - Throws: ``DidNotExit``, after killing it, when it takes longer than `limit`.
    public func waitForExit(within limit: Duration) async throws -> Int32 {
        guard try await poll(every: .milliseconds(50), within: limit, until: { !process.isRunning }) else {
            signal(SIGKILL)
            process.waitUntilExit()
            throw DidNotExit(description: "proactivity \(process.arguments ?? []) did not exit within \(limit); output:\n\(text.suffix(3000))")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops the process gracefully (SIGTERM), killing it when it takes longer than `grace`.
    public func stop(grace: Duration) async {
        guard process.isRunning else { return }
        signal(SIGTERM)
        _ = try? await waitForExit(within: grace)
    }

    deinit {
        if process.isRunning { signal(SIGKILL) }
        try? FileManager.default.removeItem(at: stdoutFile)
        try? FileManager.default.removeItem(at: stderrFile)
    }
}
