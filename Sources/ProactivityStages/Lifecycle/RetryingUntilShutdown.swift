import Foundation
import ProactivityCore
import ServiceLifecycle

/// Runs `body` until it succeeds, waiting with ``Backoff`` after each failure (told to
/// `onFailure` with the delay). With `answers`, the wait ends early once the dependency
/// answers again (see ``DependencyWait``). Graceful shutdown interrupts the waiting.
/// - Returns: `body`'s result, or `nil` when shutdown or cancellation came first.
func retryingUntilShutdown<T>(
    _ body: () async throws -> T, answers: (@Sendable () async -> Bool)? = nil,
    onFailure: (_ error: any Error, _ retryInSeconds: Double) -> Void
) async -> T? {
    var backoff = Backoff()
    var dependency = DependencyWait(answers: answers)
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
            return try await body()
        } catch {
            let delay = backoff.next()
            onFailure(error, delay)
            await dependency.wait(upTo: delay)
        }
    }
    return nil
}
