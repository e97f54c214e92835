import Foundation
import ProactivityCore
import Testing

struct AutoReplayPolicyTests {
    let policy = AutoReplayPolicy(maxReplays: 3, backoff: 60, interval: 10)
    let written = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func theBackoffDoublesPerEarlierReplayAndIsCappedAtADay() {
        #expect(policy.delay(afterReplays: 0) == 60)
        #expect(policy.delay(afterReplays: 1) == 120)
        #expect(policy.delay(afterReplays: 2) == 240)
        #expect(policy.delay(afterReplays: 50) == 86_400)
    }

    @Test func onlyUnprocessedTransientRowsAreReplayed() {
        let later = written.addingTimeInterval(3600)
        #expect(policy.isDue(errorClass: "transient", processed: false, replays: 0, createdAt: written, now: later))
        #expect(!policy.isDue(errorClass: "transient", processed: true, replays: 0, createdAt: written, now: later))
        for permanent in FailureClass.allCases where !permanent.isTransient {
            #expect(!policy.isDue(errorClass: permanent.rawValue, processed: false, replays: 0, createdAt: written, now: later))
        }
        #expect(!policy.isDue(errorClass: nil, processed: false, replays: 0, createdAt: written, now: later))
    }

    @Test func aRowWaitsForItsBackoff() {
        #expect(!policy.isDue(errorClass: "transient", processed: false, replays: 0, createdAt: written, now: written.addingTimeInterval(59)))
        #expect(policy.isDue(errorClass: "transient", processed: false, replays: 0, createdAt: written, now: written.addingTimeInterval(60)))
        #expect(!policy.isDue(errorClass: "transient", processed: false, replays: 2, createdAt: written, now: written.addingTimeInterval(239)))
        #expect(policy.isDue(errorClass: "transient", processed: false, replays: 2, createdAt: written, now: written.addingTimeInterval(240)))
    }

    @Test func theReplayBudgetHoldsAcrossFailures() {
        let muchLater = written.addingTimeInterval(86_400 * 7)
        #expect(policy.isDue(errorClass: "transient", processed: false, replays: 2, createdAt: written, now: muchLater))
        #expect(!policy.isDue(errorClass: "transient", processed: false, replays: 3, createdAt: written, now: muchLater))
    }
}

@Suite struct ReplayCountTests {
    @Test(arguments: [
        (String?.none, Int?.some(0)), ("0", 0), ("3", 3), ("1000000", 1_000_000),
        ("-5", nil), ("+3", nil), ("", nil), ("3.0", nil), (" 3", nil), ("٣", nil), ("1000001", nil),
        ("99999999999999999999999", nil), ("unknown", nil),
    ])
    func replayCountsAreReadStrictly(text: String?, count: Int?) {
        #expect(DeadLetter.replayCount(text) == count)
    }
}

@Suite struct StorableTextTests {
    @Test func nulIsReplacedAndLengthBounded() {
        #expect(DeadLetter.storable("a\u{0}b", limit: 10) == "a\u{FFFD}b")
        #expect(DeadLetter.storable(String(repeating: "x", count: 500), limit: 200).count == 200)
        #expect(DeadLetter.storable("short", limit: 200) == "short")
    }
}

@Suite struct ParkingRuleTests {
    let policy = AutoReplayPolicy(maxReplays: 3, backoff: 60, interval: 10)

    @Test func aTransientRowIsParkedOnceItsOriginalUsedEveryAutomaticReplay() {
        #expect(!policy.isExhausted(errorClass: "transient", processed: false, replays: 2))
        #expect(policy.isExhausted(errorClass: "transient", processed: false, replays: 3))
        #expect(policy.isExhausted(errorClass: "transient", processed: false, replays: nil), "an unreadable count is spent")
        #expect(!policy.isExhausted(errorClass: "transient", processed: true, replays: 3), "a replayed row is not parked")
        for permanent in FailureClass.allCases where !permanent.isTransient {
            #expect(!policy.isExhausted(errorClass: permanent.rawValue, processed: false, replays: 9), "\(permanent) waits for an operator anyway")
        }
    }

    @Test func aRowIsEitherDueExhaustedOrWaitingForItsBackoffNeverTwo() {
        let written = Date(timeIntervalSince1970: 1_800_000_000)
        for replays in [0, 1, 2, 3, 4, Optional<Int>.none] as [Int?] {
            for elapsed: TimeInterval in [0, 59, 60, 172_800] {
                let due = policy.isDue(
                    errorClass: "transient", processed: false, replays: replays ?? Int.max, createdAt: written, now: written.addingTimeInterval(elapsed))
                let exhausted = policy.isExhausted(errorClass: "transient", processed: false, replays: replays)
                #expect(!(due && exhausted), "replays \(String(describing: replays)), \(elapsed) s")
            }
        }
    }
}
