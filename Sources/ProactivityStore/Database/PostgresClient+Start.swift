import Logging
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

/// Runs `body` with a running pool of `settings` (started as ``PostgresNIO/PostgresClient/start(in:)``
/// does), and stops the pool when `body` returns or throws: the one way a command, a
/// benchmark or a test holds a pool for the length of some work.
public func withPostgresClient<Result>(
    _ settings: DatabaseSettings, logger: Logger, _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        await client.start(in: &group)
        defer { group.cancelAll() }
        return try await body(client)
    }
}
