import Foundation

// Blocking librdkafka calls (flush, commit, polls, transactions, admin requests,
// destroy) run on threads of their own, never on Swift's cooperative pool nor on
// Dispatch's global queues: on Linux those have about one thread per core, and a few
// blocked calls would starve everything else.

/// Runs a blocking call on a new thread and resumes the caller when it returns.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        detachBlocking { continuation.resume(with: Result { try body() }) }
    }
}

/// Runs a blocking call on a new thread, without waiting for it.
func detachBlocking(_ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = "librdkafka-call"
    thread.start()
}

/// One thread that runs submitted work in order: a consumer's polls and close.
final class SerialThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var work: [() -> Void] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Queues work; it runs after everything submitted before.
    func submit(_ body: @escaping () -> Void) {
        condition.lock()
        work.append(body)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish the queued work and exit.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while work.isEmpty && !stopping { condition.wait() }
            if work.isEmpty {
                condition.unlock()
                return
            }
            let next = work.removeFirst()
            condition.unlock()
            next()
        }
    }
}
