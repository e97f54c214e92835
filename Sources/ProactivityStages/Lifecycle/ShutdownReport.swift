import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// What happened during a graceful shutdown: when it began and what the stages left
/// undone (a tick not committed, a DLQ record not mirrored), for the last log lines.
public final class ShutdownReport: Sendable {
    private struct State {
        var began: ContinuousClock.Instant?
        var abandoned: [String] = []
        /// Work in progress, by token: what a shutdown that runs out of time abandons.
        var inProgress: [Int: String] = [:]
        var nextToken = 0
    }

    private let state = Mutex(State())
    /// Told once, when the shutdown begins (for ``exitWhenStuck(after:logger:)``).
    private let beginning = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))

    public init() {}

    /// Work that started; `what` says what becomes of it if a shutdown cuts it off.
    /// - Returns: the token to pass to ``finished(_:)``.
    func started(_ what: String) -> Int {
        state.withLock { state in
            state.nextToken += 1
            state.inProgress[state.nextToken] = what
            return state.nextToken
        }
    }

    /// Work that ``started(_:)`` is over (done, or recorded as abandoned).
    func finished(_ token: Int) {
        _ = state.withLock { $0.inProgress.removeValue(forKey: token) }
    }

    /// Marks the start of the shutdown (the first call counts).
    func begin() {
        let first = state.withLock { state in
            guard state.began == nil else { return false }
            state.began = .now
            return true
        }
        guard first else { return }
        beginning.continuation.yield()
        beginning.continuation.finish()
    }

    /// Ends the process with status 1 when a graceful shutdown that began is still not
    /// over `limit` later (work that ignores cancellation, such as a query the server
    /// keeps running), logging `shutdown_timed_out` with the abandoned work. Returns when
    /// the calling task is cancelled: run it next to the service group, in a task group
    /// cancelled once the service group returned. For a command; one caller at a time.
    public func exitWhenStuck(after limit: Duration, logger: Logger) async {
        var began = beginning.stream.makeAsyncIterator()
        guard await began.next() != nil, (try? await Task.sleep(for: limit)) != nil else { return }
        let error = ShutdownTimedOut(limit: limit, abandoned: abandonedWork)
        logger.critical("shutdown_timed_out", metadata: ["error": "\(error)", "exiting": "1"])
        exit(1)
    }

    /// A stage gave up on a piece of work; `what` says what and what becomes of it.
    func abandoned(_ what: String) {
        state.withLock { $0.abandoned.append(what) }
    }

    /// How long the shutdown has taken; `nil` when none began.
    public var elapsed: Duration? { state.withLock { $0.began.map { .now - $0 } } }

    /// The work given up on, in order, then the work still in progress (cut off when a
    /// shutdown runs out of time).
    public var abandonedWork: [String] {
        state.withLock { state in state.abandoned + state.inProgress.sorted { $0.key < $1.key }.map(\.value) }
    }
}

/// A graceful shutdown that ran out of time: the stages were cancelled.
public struct ShutdownTimedOut: Error, CustomStringConvertible {
    public let limit: Duration
    public let abandoned: [String]

    public var description: String {
        "graceful shutdown did not finish within \(limit); cancelled"
            + (abandoned.isEmpty ? "" : ". Abandoned: " + abandoned.joined(separator: "; "))
    }
}

/// Hears the shutdown first (it is the group's last service, and services are told in
/// reverse order, each once the one after it has returned) and records when it began.
struct ShutdownWatch: Service {
    let report: ShutdownReport
    let logger: Logger

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: no graceful shutdown
        }
        report.begin()
        logger.notice("shutdown_started")
    }
}
