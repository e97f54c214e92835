import Foundation
import ProactivityCore
import Testing

@Suite struct StaleTickRuleTests {
    @Test func aWindowStartingBeforeTheRetentionPrecedesTheLedger() {
        let job = BuiltInJobs.eventReminder
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let retention: TimeInterval = 30 * 86_400
        let edge = now.addingTimeInterval(-retention + Double(job.catchUpGraceSeconds))
        #expect(TickMessage(job: job, slot: edge, producedAt: now).precedesLedger(now: now, retention: retention) == false)
        #expect(TickMessage(job: job, slot: edge.addingTimeInterval(-1), producedAt: now).precedesLedger(now: now, retention: retention))
        #expect(TickMessage(job: job, slot: now, producedAt: now).precedesLedger(now: now, retention: retention) == false)
    }
}
