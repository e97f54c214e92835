import Logging
import ProactivityStages
import ServiceLifecycle
import Synchronization
import Testing

extension StageAssembly {
    /// Runs the stages in a service group of the test's own while `body` runs, then shuts
    /// the group down gracefully, as SIGTERM does (cancelling would be ServiceLifecycle's
    /// hard stop), also when `body` throws.
    ///
    /// A group still running `shutdownLimit` + 60 s after the shutdown began fails the
    /// test with the service it waits for (from the group's own debug lines) instead of
    /// holding the run until its time limit; the group is left behind.
    /// - Parameter shutdownLimit: a liveness bound, the stages' own default
    ///   (`shutdown.timeout`, 30 s): a consumer stopped while its group rebalances waits
    ///   up to 5 s for the local broker to answer its LeaveGroup, so two workers stopped
    ///   one after the other on a loaded machine took over 10 s (a CI run, 2026-12-06).
    /// - Parameter onServerRunning: told the HTTP port once it listens.
    func running<T>(
        shutdownLimit: Duration = .seconds(30), onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in },
        _ body: () async throws -> T
    ) async throws -> T {
        var configuration = serviceGroupConfiguration(shutdownLimit: shutdownLimit, onServerRunning: onServerRunning)
        let lines = GroupLines()
        configuration.logger = Logger(label: "service-group") { label in
            MultiplexLogHandler([lines.handler, { var handler = StreamLogHandler.standardOutput(label: label); handler.logLevel = .warning; return handler }()])
        }
        let group = ServiceGroup(configuration: configuration)
        let run = Task { [self] in
            try await group.run()
            try checkShutdown(limit: shutdownLimit)
        }
        let result: Result<T, any Error>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        let stopped = await Self.outcome(of: run, within: shutdownLimit + .seconds(60))
        guard let stopped else {
            Issue.record("the service group did not stop within \(shutdownLimit) + 60 s; its last lines:\n\(lines.last(20).joined(separator: "\n"))")
            throw CancellationError()
        }
        try stopped.get()
        return try result.get()
    }

    /// How `task` ended, or `nil` when it has not within `limit` (it is left running).
    private static func outcome(of task: Task<Void, any Error>, within limit: Duration) async -> Result<Void, any Error>? {
        let resumed = ResumedOnce()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, any Error>?, Never>) in
            let resume: @Sendable (Result<Void, any Error>?) -> Void = { value in
                if resumed.first() { continuation.resume(returning: value) }
            }
            Task { resume(await task.result) }
            Task {
                try? await Task.sleep(for: limit)
                resume(nil)
            }
        }
    }
}

/// True for the first caller of ``first()`` only.
private final class ResumedOnce: Sendable {
    private let done = Atomic(false)
    func first() -> Bool { !done.exchange(true, ordering: .acquiringAndReleasing) }
}

/// The service group's log lines (debug and up), kept to say what a stuck shutdown waits for.
private final class GroupLines: Sendable {
    private let lines = Mutex([String]())

    func last(_ count: Int) -> [String] { lines.withLock { Array($0.suffix(count)) } }

    var handler: any LogHandler { Handler(lines: self) }

    private struct Handler: LogHandler {
        let lines: GroupLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            lines.lines.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
        }
    }
}
