import PostgresNIO

extension PostgresClient {
    /// Runs the pool in a task of `group` and returns once that task has begun:
    /// PostgresNIO warns about a query that leases a connection before `run()` started,
    /// which a task just added has not yet. (The pool's `run()` marks itself started
    /// before it first suspends, right after the signal.)
    public func start(in group: inout ThrowingTaskGroup<Void, any Error>) async {
        let (started, signal) = AsyncStream<Void>.makeStream()
        group.addTask {
            signal.finish()
            await self.run()
        }
        for await _ in started {}
    }
}
