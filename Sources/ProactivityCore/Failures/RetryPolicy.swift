/// What to do after one failed attempt at a message, as a small state machine: wait for
/// an unavailable dependency as long as it takes (no budget spent), retry a transient
/// failure with backoff until `transientAttempts` attempts failed, dead-letter a
/// permanent failure at once.
public struct RetryPolicy: Sendable {
    /// The next step.
    public enum Decision: Sendable, Equatable {
        /// A dependency is down: wait this many seconds, then try again.
        case waitForDependency(seconds: Double)
        /// Try again after this many seconds.
        case retry(seconds: Double)
        /// Give up: send the message to the DLQ with this class.
        case deadLetter(FailureClass)
    }

    /// Attempts that may fail transiently before the message goes to the DLQ.
    public let transientAttempts: Int
    /// Every attempt decided on so far.
    public private(set) var attempts = 0
    /// Attempts that failed transiently so far.
    public private(set) var transientFailures = 0
    private var backoff: Backoff

    public init(transientAttempts: Int, backoff: Backoff = Backoff()) {
        self.transientAttempts = max(1, transientAttempts)
        self.backoff = backoff
    }

    /// Records a failed attempt of `kind` and says what comes next.
    public mutating func decide(after kind: FailureKind) -> Decision {
        attempts += 1
        switch kind {
        case .unavailable:
            return .waitForDependency(seconds: backoff.next())
        case .transient:
            transientFailures += 1
            return transientFailures < transientAttempts ? .retry(seconds: backoff.next()) : .deadLetter(.transient)
        case .permanent(let failureClass):
            return .deadLetter(failureClass)
        }
    }
}

/// Exponential backoff with jitter: 0.5 s doubling up to 30 s, each delay drawn from the
/// upper half of its step so that workers retrying together spread out.
public struct Backoff: Sendable {
    private var step = 0
    private let jitter: @Sendable (ClosedRange<Double>) -> Double

    /// - Parameter jitter: draws a factor from the range (random by default; tests fix it).
    public init(jitter: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) {
        self.jitter = jitter
    }

    /// The next delay, in seconds.
    public mutating func next() -> Double {
        defer { step += 1 }
        let base = min(30, 0.5 * Double(1 << min(step, 6)))
        return base * jitter(0.5...1)
    }
}
