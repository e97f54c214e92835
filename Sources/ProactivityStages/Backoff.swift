import Foundation
import ServiceLifecycle

/// Exponential backoff with jitter: 0.5 s doubling up to 30 s, each delay drawn from
/// the upper half of its step so that workers retrying together spread out.
struct Backoff {
    private var attempt = 0

    /// The next delay, in seconds.
    mutating func next() -> Double {
        defer { attempt += 1 }
        let base = min(30, 0.5 * pow(2, Double(attempt)))
        return base * Double.random(in: 0.5...1)
    }
}

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
