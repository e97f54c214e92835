import ProactivityCore
import Testing

@Suite struct FailureClassifierTests {
    @Test(arguments: [
        (FailureSignal.databaseUnreachable, FailureKind.unavailable),
        (.sqlState("08006", inJobQuery: false), .unavailable),
        (.sqlState("08001", inJobQuery: true), .unavailable),
        (.sqlState("57P01", inJobQuery: false), .unavailable),
        (.sqlState("57P03", inJobQuery: true), .unavailable),
        (.sqlState("40001", inJobQuery: true), .transient),
        (.sqlState("40P01", inJobQuery: false), .transient),
        (.sqlState("53300", inJobQuery: false), .transient),
        (.sqlState("55P03", inJobQuery: true), .transient),
        (.sqlState("57014", inJobQuery: true), .transient),
        (.sqlState("58030", inJobQuery: false), .transient),
        (.sqlState("42P01", inJobQuery: true), .permanent(.jobSQL)),
        (.sqlState("22012", inJobQuery: true), .permanent(.jobSQL)),
        (.sqlState("42P01", inJobQuery: false), .transient),
        (.jobQueryShape, .permanent(.jobSQL)),
        (.kafka(name: "MSG_SIZE_TOO_LARGE", retriable: false), .permanent(.messageTooLarge)),
        (.kafka(name: "_MSG_TIMED_OUT", retriable: true), .unavailable),
        (.kafka(name: "_ALL_BROKERS_DOWN", retriable: true), .unavailable),
        (.kafka(name: "TOPIC_AUTHORIZATION_FAILED", retriable: false), .transient),
        // A broker that restarted empty: wait for it, never spend the message's budget.
        (.kafka(name: "OUT_OF_ORDER_SEQUENCE_NUMBER", retriable: false), .unavailable),
        (.kafka(name: "UNKNOWN_PRODUCER_ID", retriable: false), .unavailable),
        (.kafka(name: "UNKNOWN_TOPIC_OR_PART", retriable: false), .unavailable),
        (.kafka(name: "_PURGE_QUEUE", retriable: true), .unavailable),
        (.other, .transient),
    ])
    func classifies(signal: FailureSignal, kind: FailureKind) {
        #expect(FailureClassifier.classify(signal) == kind)
    }
}

@Suite struct RetryPolicyTests {
    /// The upper end of every jitter range: delays are deterministic.
    let backoff = Backoff(jitter: { $0.upperBound })

    @Test func transientFailuresAreRetriedUntilTheBudgetThenDeadLettered() {
        var policy = RetryPolicy(transientAttempts: 3, backoff: backoff)
        #expect(policy.decide(after: .transient) == .retry(seconds: 0.5))
        #expect(policy.decide(after: .transient) == .retry(seconds: 1))
        #expect(policy.decide(after: .transient) == .deadLetter(.transient))
        #expect(policy.attempts == 3)
    }

    @Test func anUnavailableDependencyIsWaitedForWithoutSpendingTheBudget() {
        var policy = RetryPolicy(transientAttempts: 2, backoff: backoff)
        for _ in 0..<20 {
            guard case .waitForDependency = policy.decide(after: .unavailable) else {
                Issue.record("an outage must not fail the message")
                return
            }
        }
        #expect(policy.decide(after: .transient) == .retry(seconds: 30))
        #expect(policy.decide(after: .transient) == .deadLetter(.transient))
        #expect(policy.attempts == 22)
    }

    @Test func permanentFailuresGoToTheDLQAtOnce() {
        var policy = RetryPolicy(transientAttempts: 5, backoff: backoff)
        #expect(policy.decide(after: .permanent(.jobSQL)) == .deadLetter(.jobSQL))
        var single = RetryPolicy(transientAttempts: 1, backoff: backoff)
        #expect(single.decide(after: .transient) == .deadLetter(.transient))
    }

    @Test func backoffDoublesFromHalfASecondUpToThirtyWithJitterInTheUpperHalf() {
        var fixed = backoff
        #expect((0..<9).map { _ in fixed.next() } == [0.5, 1, 2, 4, 8, 16, 30, 30, 30])
        var random = Backoff()
        for step in 0..<12 {
            let base = min(30, 0.5 * Double(1 << min(step, 6)))
            #expect((base / 2...base).contains(random.next()))
        }
    }
}
