import Synchronization

/// Wakes producers waiting for room in librdkafka's queue: the event thread advances
/// it after each batch of delivery reports. A waiter passes the generation it read
/// before its failed attempt, so progress made in between is not missed.
final class ProgressSignal: Sendable {
    private struct State {
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let counter = Atomic<UInt64>(0)
    private let state = Mutex(State())

    /// The current generation (lock-free; read it before each attempt).
    var generation: UInt64 { counter.load(ordering: .acquiring) }

    /// Marks progress and wakes every waiter.
    func advance() {
        let waiters = state.withLock { state in
            counter.add(1, ordering: .releasing)
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

    /// Waits until the generation has moved past `seen`, or the signal is closed.
    func wait(after seen: UInt64) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                let ready = state.closed || counter.load(ordering: .acquiring) != seen
                if !ready { state.waiters.append(continuation) }
                return ready
            }
            if ready { continuation.resume() }
        }
    }
}
