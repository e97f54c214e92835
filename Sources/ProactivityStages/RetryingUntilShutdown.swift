import Foundation
import ProactivityCore
import ServiceLifecycle

/// Runs `body` until it succeeds, sleeping with ``Backoff`` after each failure (told to
/// `onFailure` with the delay). Graceful shutdown interrupts the waiting.
/// - Returns: `body`'s result, or `nil` when shutdown or cancellation came first.
func retryingUntilShutdown<T>(
    _ body: () async throws -> T, onFailure: (_ error: any Error, _ retryInSeconds: Double) -> Void
) async -> T? {
    var backoff = Backoff()
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        do {
            return try await body()
        } catch {
            let delay = backoff.next()
            onFailure(error, delay)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(delay)) }
        }
    }
    return nil
}
