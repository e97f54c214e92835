import Foundation
@testable import ProactivityStore
import Testing

/// A ledger row never spans two UTC days (its day partition is chosen by its first due
/// time): a page of alerts is split at midnight, each part keeping the alerts' order.
struct LedgerPageDayTests {
    /// A UTC midnight (2026-05-28).
    let dayStart = Date(timeIntervalSince1970: 1_779_926_400)

    func alert(_ id: String, _ offset: TimeInterval) -> AlertLedger.SentAlert {
        AlertLedger.SentAlert(itemId: id, dueAt: dayStart.addingTimeInterval(offset))
    }

    @Test func aPageWithinOneDayIsOneRowWithItsDueRange() {
        let alerts = [alert("a", 30), alert("b", 10), alert("c", 20)]
        let days = AlertLedger.byUTCDay(alerts)
        #expect(days.count == 1)
        #expect(days.first?.alerts == alerts)
        #expect(days.first?.first == dayStart.addingTimeInterval(10))
        #expect(days.first?.last == dayStart.addingTimeInterval(30))
    }

    @Test func aPageAcrossMidnightIsOneRowPerDay() {
        let alerts = [alert("a", -1), alert("b", 0), alert("c", -0.000_001), alert("d", 86_400)]
        let days = AlertLedger.byUTCDay(alerts)
        #expect(days.map { $0.alerts.map(\.itemId) } == [["a", "c"], ["b"], ["d"]])
        for day in days {
            #expect(AlertLedger.utcDay(of: day.first) == AlertLedger.utcDay(of: day.last))
            #expect(day.alerts.allSatisfy { $0.dueAt >= day.first && $0.dueAt <= day.last })
        }
    }

    @Test func noAlertsNoRows() {
        #expect(AlertLedger.byUTCDay([]).isEmpty)
    }
}
