import Foundation

/// When the optional automatic reprocessing replays a dead letter: only rows whose
/// failure was transient, not replayed yet, whose original message has been replayed
/// fewer than `maxReplays` times, and only once the backoff for that count has passed
/// since the row was written (`backoff`, doubling per earlier replay, at most a day).
public struct AutoReplayPolicy: Sendable, Hashable {
    /// Replays of one original message, at most.
    public var maxReplays: Int
    /// The wait before the first replay; each further replay waits twice as long.
    public var backoff: TimeInterval
    /// How often the routine looks for rows to replay.
    public var interval: TimeInterval

    public init(maxReplays: Int = 3, backoff: TimeInterval = 300, interval: TimeInterval = 60) {
        self.maxReplays = maxReplays
        self.backoff = backoff
        self.interval = interval
    }

    /// The wait after a failure before the replay that follows `replays` earlier ones.
    public func delay(afterReplays replays: Int) -> TimeInterval {
        min(86_400, backoff * pow(2, Double(min(replays, 20))))
    }

    /// Whether a row is to be *parked*: a transient failure not replayed yet whose
    /// original message has used every automatic replay (`replays` is `nil` when its
    /// count is unreadable, which counts as spent): it failed again after its last
    /// allowed automatic replay and waits for an operator.
    public func isExhausted(errorClass: String?, processed: Bool, replays: Int?) -> Bool {
        errorClass == FailureClass.transient.rawValue && !processed && (replays ?? Int.max) >= maxReplays
    }

    /// Whether a row is due for an automatic replay at `now`.
    /// - Parameters:
    ///   - errorClass: the row's failure class.
    ///   - processed: whether the row was replayed (or otherwise handled) already.
    ///   - replays: replays of the original message so far.
    ///   - createdAt: when the row was written.
    public func isDue(errorClass: String?, processed: Bool, replays: Int, createdAt: Date, now: Date) -> Bool {
        errorClass == FailureClass.transient.rawValue && !processed && replays < maxReplays
            && now.timeIntervalSince(createdAt) >= delay(afterReplays: replays)
    }
}
