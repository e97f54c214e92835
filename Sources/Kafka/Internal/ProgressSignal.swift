import Synchronization

/// Wakes producers waiting for room in librdkafka's queue: the event thread advances
/// it after each batch of delivery reports; a waiter resumes once it has moved past
/// the generation it saw before its failed attempt (so no wake-up is missed).
final class ProgressSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// The current generation; read it before the attempt that may have to wait.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Marks progress and wakes every waiter.
    func advance() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Wakes every waiter for good (the client is closing).
    func close() {
        state.withLock { $0.closed = true }
        advance()
    }

    /// Waits until the generation is past `seen`, or the signal is closed.
    func wait(after seen: UInt64) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.generation != seen || state.closed { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
