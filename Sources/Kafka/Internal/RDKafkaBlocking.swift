import Foundation
import Synchronization

// Blocking librdkafka calls run off Swift's cooperative pool and Dispatch's global
// queues: on Linux those have about one thread per core, and a few blocked calls would
// starve everything else. Calls bounded by a timeout (flush, commit, metadata, admin and
// transactional requests) share the threads of `BlockingPool`; destroying a client, which
// can wait for good on a broker that never answers, gets a thread of its own, so a stuck
// destroy never takes a pool thread.

/// Runs a bounded blocking call on the pool and resumes the caller when it returns.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        BlockingPool.shared.submit { continuation.resume(with: Result { try body() }) }
    }
}

/// Destroys `client` (or runs other unbounded teardown ending in its destroy) on a thread
/// of its own, without waiting.
func destroyDetached(_ client: RDKafkaClient, _ body: @escaping @Sendable () -> Void) {
    Teardowns.shared.start(client.name, destroyingSince: { client.librdkafkaDestroyStartedAt }, body)
}

/// The teardowns running on threads of their own, so that a caller can wait for them
/// (``KafkaLibrary/waitUntilClientsStopped(within:)``): a client being torn down still
/// fetches and handles metadata until librdkafka's destroy has it.
final class Teardowns: Sendable {
    static let shared = Teardowns()

    private struct Running {
        let name: String
        /// When the teardown handed the client to librdkafka's destroy, if it has.
        let destroyingSince: @Sendable () -> ContinuousClock.Instant?
    }

    /// The clients being torn down, by a number of their teardown.
    private let running = Mutex((next: 0, teardowns: [Int: Running]()))

    /// The names of the clients being torn down now.
    var names: [String] { running.withLock { $0.teardowns.values.map(\.name).sorted() } }

    /// Runs `body`, the teardown of client `name`, on a thread of its own, counted until it
    /// returns; `destroyingSince` says when it handed the client to librdkafka's destroy.
    func start(
        _ name: String, destroyingSince: @escaping @Sendable () -> ContinuousClock.Instant? = { nil }, _ body: @escaping @Sendable () -> Void
    ) {
        let number = running.withLock { running in
            running.next += 1
            running.teardowns[running.next] = Running(name: name, destroyingSince: destroyingSince)
            return running.next
        }
        let thread = Thread { [self] in
            body()
            _ = running.withLock { $0.teardowns.removeValue(forKey: number) }
        }
        thread.name = "librdkafka-destroy"
        thread.start()
    }

    /// Runs `body` as ``start(_:destroyingSince:_:)`` does and resumes the caller when it
    /// returns or, at the latest, once `limit` has passed: librdkafka's destroy can wait
    /// for good on a broker thread, and a caller waiting with it would never return (a
    /// command would not exit, an HTTP request or a shutdown would never end). Past the
    /// limit the teardown goes on in the background, still counted here.
    /// - Returns: whether the teardown ended within `limit`.
    func startAndWait(
        _ name: String, destroyingSince: @escaping @Sendable () -> ContinuousClock.Instant? = { nil }, atMost limit: Duration,
        _ body: @escaping @Sendable () -> Void
    ) async -> Bool {
        let resumed = FirstCall()
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resume: @Sendable (Bool) -> Void = { ended in
                if resumed.isFirst() { continuation.resume(returning: ended) }
            }
            start(name, destroyingSince: destroyingSince) {
                body()
                resume(true)
            }
            BlockingPool.shared.schedule(after: limit) { resume(false) }
        }
    }

    /// Waits until no teardown runs or, with `settle`, until each one still running has been
    /// in librdkafka's destroy for at least `settle`; checks every 10 ms, at most `limit`.
    /// - Returns: whether that came within `limit`.
    func waitUntilDone(within limit: Duration, orDestroyingFor settle: Duration? = nil) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while !isDone(orDestroyingFor: settle) {
            guard ContinuousClock.now < deadline, (try? await Task.sleep(for: .milliseconds(10))) != nil else { return false }
        }
        return true
    }

    private func isDone(orDestroyingFor settle: Duration?) -> Bool {
        let teardowns = running.withLock { Array($0.teardowns.values) }
        guard let settle else { return teardowns.isEmpty }
        let now = ContinuousClock.now
        return teardowns.allSatisfy { teardown in teardown.destroyingSince().map { now - $0 >= settle } ?? false }
    }
}

/// Runs the unbounded teardown of `client` on a thread of its own and waits for it at
/// most `limit` (``Teardowns/startAndWait(_:destroyingSince:atMost:_:)``).
/// - Returns: whether the teardown ended within `limit`.
func destroyAndWait(_ client: RDKafkaClient, atMost limit: Duration, _ body: @escaping @Sendable () -> Void) async -> Bool {
    await Teardowns.shared.startAndWait(client.name, destroyingSince: { client.librdkafkaDestroyStartedAt }, atMost: limit, body)
}

/// `true` for the first call of ``isFirst()`` only: one of two racing outcomes wins.
private final class FirstCall: Sendable {
    private let called = Atomic(false)
    func isFirst() -> Bool { !called.exchange(true, ordering: .acquiringAndReleasing) }
}

/// The threads of bounded blocking calls, shared by every client: started as work needs
/// them, up to `limit`, then reused (work waits its turn when all are busy). Also runs
/// delayed work (``schedule(after:_:)``), so periodic checks need no sleeping thread.
final class BlockingPool: @unchecked Sendable {
    static let shared = BlockingPool(limit: 32)

    private let limit: Int
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var ready: [() -> Void] = []
    private var readyHead = 0
    private var delayed: [(at: ContinuousClock.Instant, work: () -> Void)] = []
    private var threads = 0
    private var idle = 0

    init(limit: Int) { self.limit = limit }

    /// Runs `work` on a pool thread as soon as one is free.
    func submit(_ work: @escaping () -> Void) {
        condition.lock()
        ready.append(work)
        wakeOrStart()
        condition.unlock()
    }

    /// Runs `work` on a pool thread once `delay` has passed.
    func schedule(after delay: Duration, _ work: @escaping () -> Void) {
        condition.lock()
        let at = ContinuousClock.now + delay
        delayed.insert((at, work), at: delayed.firstIndex { $0.at > at } ?? delayed.endIndex)
        wakeOrStart()
        condition.unlock()
    }

    /// With the lock held: wakes an idle thread, or starts one while under the limit.
    private func wakeOrStart() {
        if idle > 0 {
            condition.broadcast()
        } else if threads < limit {
            threads += 1
            let thread = Thread { [self] in loop() }
            thread.name = "librdkafka-call"
            thread.start()
        }
    }

    private func loop() {
        condition.lock()
        while true {
            let now = ContinuousClock.now
            while let first = delayed.first, first.at <= now {
                delayed.removeFirst()
                ready.append(first.work)
            }
            if readyHead < ready.count {
                let work = ready[readyHead]
                readyHead += 1
                if readyHead == ready.count {
                    ready.removeAll(keepingCapacity: true)
                    readyHead = 0
                }
                condition.unlock()
                work()
                condition.lock()
                continue
            }
            idle += 1
            if let next = delayed.first?.at {
                _ = condition.wait(until: Date(timeIntervalSinceNow: (next - now).timeInterval))
            } else {
                condition.wait()
            }
            idle -= 1
        }
    }
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
    /// - Returns: `false`, queueing nothing, once the thread was told to stop: work
    ///   queued then might never run, and whoever waits for it would wait for good.
    func submit(_ body: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        work.append(body)
        condition.signal()
        return true
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
