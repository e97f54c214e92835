import Foundation
import Synchronization

/// Limits failed console sign-ins per peer: after `limit` failures within `window`, a
/// peer's further attempts are refused until the oldest of them leaves the window, so the
/// token cannot be guessed at speed. Peers are told apart by address (without the port).
/// At most `maximumPeers` peers are remembered (the oldest forgotten first), so a flood
/// of addresses cannot grow memory without bound.
final class SignInLimiter: Sendable {
    let limit: Int
    let window: TimeInterval
    let maximumPeers: Int
    private let failures = Mutex<[String: [Date]]>([:])

    init(limit: Int = 5, window: TimeInterval = 300, maximumPeers: Int = 10_000) {
        self.limit = limit
        self.window = window
        self.maximumPeers = maximumPeers
    }

    /// Whether `peer` may try now; when not, in how many seconds it may.
    func check(_ peer: String, now: Date = Date()) -> (allowed: Bool, retryAfter: Int) {
        failures.withLock { failures in
            let recent = (failures[peer] ?? []).filter { now.timeIntervalSince($0) < window }
            failures[peer] = recent.isEmpty ? nil : recent
            guard recent.count >= limit, let oldest = recent.first else { return (true, 0) }
            return (false, max(1, Int((window - now.timeIntervalSince(oldest)).rounded(.up))))
        }
    }

    /// Records a failed attempt of `peer`.
    func recordFailure(_ peer: String, now: Date = Date()) {
        failures.withLock { failures in
            if failures[peer] == nil, failures.count >= maximumPeers,
                let stalest = failures.min(by: { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) })?.key
            {
                failures[stalest] = nil
            }
            failures[peer, default: []].append(now)
        }
    }
}
