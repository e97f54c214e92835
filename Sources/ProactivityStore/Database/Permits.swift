import Synchronization

/// At most `limit` holders at once; the others wait their turn, served in the order they
/// came. A waiter whose task is cancelled stops waiting with `CancellationError`.
///
/// The worker holds one while a tick's cursor holds a pooled connection (see
/// ``ReminderStore/forEachDuePage(job:tick:pageSize:_:)``).
public final class Permits: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        /// Waiters given an id and not yet queued; one cancelled in between is taken out.
        var unqueued: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>
    /// Told the number of waiters each time it changes, in order (under the lock: it must
    /// return at once and never use these permits).
    private let waitersChanged: @Sendable (Int) -> Void

    /// - Parameters:
    ///   - limit: holders at once; a positive number.
    ///   - waitersChanged: told the number of waiters each time it changes (a gauge).
    public init(limit: Int, waitersChanged: @escaping @Sendable (Int) -> Void = { _ in }) {
        precondition(limit > 0, "a limit of permits must be positive")
        state = Mutex(State(available: limit))
        self.waitersChanged = waitersChanged
    }

    /// Waiters queued now.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Runs `body` holding a permit, waiting for one first if all are held.
    /// - Throws: `CancellationError` when the task is cancelled while waiting; `body`'s error.
    public func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id: UInt64? = state.withLock { state in
            if state.available > 0 {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            state.unqueued.insert(state.nextID)
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state in
                    guard state.unqueued.remove(id) != nil else { return true }
                    state.waiters.append((id, continuation))
                    waitersChanged(state.waiters.count)
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    defer { waitersChanged(state.waiters.count) }
                    return state.waiters.remove(at: index).continuation
                }
                // Not queued yet: the queueing sees it and throws. Already served: it holds a permit.
                state.unqueued.remove(id)
                return nil
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    /// Hands the permit to the first waiter, or puts it back.
    private func release() {
        let next = state.withLock { state in
            if state.waiters.isEmpty {
                state.available += 1
                return nil as CheckedContinuation<Void, any Error>?
            }
            defer { waitersChanged(state.waiters.count) }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
