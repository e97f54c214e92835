import Foundation
import Testing

/// The `proactivity` binary of this build, run as a child process with its standard
/// output and standard error captured in files.
final class ProactivityProcess: @unchecked Sendable {
    let process = Process()
    let stdoutFile: URL
    let stderrFile: URL

    /// The binary next to the test bundle (`swift build --build-tests` builds both).
    static var binary: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for folder in [besideTests, besideTests.deletingLastPathComponent(), PipelineHarness.repositoryRoot.appendingPathComponent(".build/debug")] {
            let candidate = folder.appendingPathComponent("proactivity")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return PipelineHarness.repositoryRoot.appendingPathComponent(".build/debug/proactivity")
    }

    /// Starts `proactivity ARGUMENTS` with exactly `environment` (plus the library path).
    init(_ arguments: [String], environment: [String: String]) throws {
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
    static func run(_ arguments: [String], environment: [String: String], within limit: Duration = .seconds(60)) async throws
        -> (status: Int32, output: String, stdout: String)
    {
        let child = try ProactivityProcess(arguments, environment: environment)
        let status = try await child.waitForExit(within: limit)
        return (status, child.text, child.stdout)
    }

    /// What the process wrote to standard output so far.
    var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }

    /// Everything the process wrote so far: standard output, then standard error.
    var text: String { stdout + ((try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "") }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit; kills it and fails when it takes longer.
    func waitForExit(within limit: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + limit
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                signal(SIGKILL)
                Issue.record("proactivity \(process.arguments ?? []) did not exit within \(limit)")
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { signal(SIGKILL) }
        try? FileManager.default.removeItem(at: stdoutFile)
        try? FileManager.default.removeItem(at: stderrFile)
    }
}
