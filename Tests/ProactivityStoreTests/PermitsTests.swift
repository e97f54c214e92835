import ProactivityStore
import Synchronization
import Testing

@Suite struct PermitsTests {
    /// How many bodies ran at once, at most, and in which order they started.
    final class Holders: Sendable {
        private let state = Mutex((now: 0, most: 0, started: [Int]()))
        func enter(_ id: Int) { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now); $0.started.append(id) } }
        func leave() { state.withLock { $0.now -= 1 } }
        var most: Int { state.withLock { $0.most } }
        var started: [Int] { state.withLock { $0.started } }
    }

    @Test func neverMoreHoldersThanTheLimitAndEveryWaiterGetsItsTurn() async throws {
        let permits = Permits(limit: 3)
        let holders = Holders()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 0..<40 {
                group.addTask {
                    try await permits.withPermit {
                        holders.enter(id)
                        await Task.yield()
                        holders.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(holders.most <= 3)
        #expect(holders.started.count == 40)
    }

    @Test func waitersAreServedInTheOrderTheyCameAndCountedAsTheyWait() async throws {
        let counts = Mutex([Int]())
        let permits = Permits(limit: 1) { count in counts.withLock { $0.append(count) } }
        let holders = Holders()
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await hold(permits, until: release, in: &group)
            for id in 1...5 {
                group.addTask { try await permits.withPermit { holders.enter(id); holders.leave() } }
                try await eventuallyQueued(permits, count: id)
            }
            releaser.yield()
            try await group.waitForAll()
        }
        #expect(holders.started == [1, 2, 3, 4, 5])
        #expect(counts.withLock { $0 } == [1, 2, 3, 4, 5, 4, 3, 2, 1, 0])
    }

    @Test func aCancelledWaiterStopsWaitingAndTheOthersStillGetTheirTurn() async throws {
        let counts = Mutex([Int]())
        let permits = Permits(limit: 1) { count in counts.withLock { $0.append(count) } }
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            try await hold(permits, until: release, in: &group)
            let cancelled = Task { try await permits.withPermit { Issue.record("a cancelled waiter ran") } }
            try await eventuallyQueued(permits, count: 1)
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            #expect(counts.withLock { $0 } == [1, 0], "the cancelled waiter is no longer counted")
            releaser.yield()
            try await group.waitForAll()
        }
        try await permits.withPermit {}  // the permit came back
        let alreadyCancelled = Task {
            try await permits.withPermit {
                try await permits.withPermit { Issue.record("ran beyond the limit") }
            }
        }
        alreadyCancelled.cancel()
        await #expect(throws: CancellationError.self) { try await alreadyCancelled.value }
        try await permits.withPermit {}
    }

    /// Adds a task to `group` that takes the one permit and holds it until `release`
    /// yields; returns once it holds it.
    private func hold(_ permits: Permits, until release: AsyncStream<Void>, in group: inout ThrowingTaskGroup<Void, any Error>) async throws {
        let (held, holding) = AsyncStream.makeStream(of: Void.self)
        group.addTask {
            try await permits.withPermit {
                holding.yield()
                for await _ in release { break }
            }
        }
        for await _ in held { break }
    }

    struct NotQueued: Error {}

    /// Waits (a liveness bound) until `permits` has `count` waiters queued.
    private func eventuallyQueued(_ permits: Permits, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while permits.waiting < count {
            guard ContinuousClock.now < deadline else { throw NotQueued() }
            await Task.yield()
        }
    }
}
