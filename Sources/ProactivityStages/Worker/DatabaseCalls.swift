import AsyncAlgorithms
import ProactivityCore
import ProactivityStore

/// Runs the worker's database calls, turning their failures into ``TickFailure``s: an
/// unreachable database (the circuit opens), a transient failure, or, for a job's own
/// query, a permanent `job_sql` failure. A call that hangs because the server is down
/// (the pool waits for a connection) trips the breaker while it waits, and goes on once
/// the server is back.
struct DatabaseCalls: Sendable {
    let breaker: CircuitBreaker
    /// Why the database does not answer a quick check, or `nil` when it does.
    let probe: @Sendable () async -> String?

    func run<T: Sendable>(jobSQL: Bool = false, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The watchdog: every 5 s while the call runs. A probe cut short because the
            // call ended says nothing about the database.
            group.addTask { [breaker, probe] in
                for await _ in AsyncTimerSequence(interval: .seconds(5), clock: .continuous) {
                    if let reason = await probe(), !Task.isCancelled { breaker.trip("database", reason: reason) }
                }
            }
            defer { group.cancelAll() }
            do {
                return try await body()
            } catch let failure as TickFailure {
                throw failure
            } catch {
                throw TickFailure(
                    dependency: "database", message: DatabaseError.describe(error), kind: DatabaseError.kind(of: error, inJobQuery: jobSQL))
            }
        }
    }
}
