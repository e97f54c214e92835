import Foundation
import Synchronization

/// The time source of the engine, injectable so tests can set the time.
public protocol EngineClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Suspends until `date` (or throws `CancellationError` when cancelled).
    func sleep(until date: Date) async throws
}

/// The system's wall clock.
public struct SystemClock: EngineClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until date: Date) async throws {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// A clock that moves only when told to: sleepers wake when ``advance(to:)`` passes
/// their deadline.
public final class ManualClock: EngineClock {
    private struct Sleeper {
        let id: UInt64
        let deadline: Date
        let continuation: CheckedContinuation<Void, Never>
    }

    private let state: Mutex<(now: Date, sleepers: [Sleeper], nextID: UInt64)>

    public init(now: Date) {
        state = Mutex((now, [], 0))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// Sets the time and wakes every sleeper whose deadline has come.
    public func advance(to date: Date) {
        let woken = state.withLock { state -> [Sleeper] in
            state.now = max(state.now, date)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        woken.forEach { $0.continuation.resume() }
    }

    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until date: Date) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if date <= state.now || Task.isCancelled { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: date, continuation: continuation))
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            cancelled?.continuation.resume()
        }
        try Task.checkCancellation()
    }
}
