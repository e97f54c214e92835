import Foundation
import ProactivityCore
import TestSupport
import Testing

/// ISC/Vixie cron's daylight-saving rules: a fixed local time runs once a day (at the
/// end of a gap that swallows it, at the first of two repeated occurrences); a job whose
/// minute or hour starts with `*` follows elapsed time.
@Suite struct DaylightSavingTests {
    func date(_ text: String) -> Date { MessageCoding.parseTimestamp(text)! }

    func slots(_ expression: String, _ zone: String, after start: String, count: Int) throws -> [String] {
        let schedule = Schedule.cron(try CronExpression(expression), timeZone: try #require(TimeZone(identifier: zone)))
        var cursor = date(start)
        return (0..<count).map { _ in
            cursor = schedule.slot(after: cursor)
            return Timestamp.format(cursor)
        }
    }

    @Test(arguments: [
        // New York springs forward 2027-03-14 02:00 EST → 03:00 EDT: 02:30 runs at 03:00 EDT.
        ("30 2 * * *", "America/New_York", "2027-03-13T12:00:00Z", ["2027-03-14T07:00:00.000Z", "2027-03-15T06:30:00.000Z"]),
        // ... and falls back 2026-11-01 02:00 EDT → 01:00 EST: 01:30 runs once, at 01:30 EDT.
        ("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", ["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]),
        // Elapsed time: every half hour that exists, both copies of the repeated hour.
        ("*/30 * * * *", "America/New_York", "2026-11-01T04:45:00Z",
         ["2026-11-01T05:00:00.000Z", "2026-11-01T05:30:00.000Z", "2026-11-01T06:00:00.000Z", "2026-11-01T06:30:00.000Z", "2026-11-01T07:00:00.000Z"]),
        // ... and nothing invented in a gap.
        ("*/30 * * * *", "America/New_York", "2027-03-14T06:15:00Z", ["2027-03-14T06:30:00.000Z", "2027-03-14T07:00:00.000Z", "2027-03-14T07:30:00.000Z"]),
        // Lisbon (WET/WEST): the gap 01:00–02:00 on 2026-03-29, the repeat 01:00–02:00 on 2026-10-25.
        ("30 1 * * *", "Europe/Lisbon", "2026-03-28T12:00:00Z", ["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]),
        ("30 1 * * *", "Europe/Lisbon", "2026-10-24T12:00:00Z", ["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]),
        // Lord Howe shifts by 30 minutes: 02:00 → 02:30 on 2026-10-04, 02:00 → 01:30 on 2027-04-04.
        ("15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", ["2026-10-03T15:30:00.000Z", "2026-10-04T15:15:00.000Z"]),
        ("45 1 * * *", "Australia/Lord_Howe", "2027-04-03T00:00:00Z", ["2027-04-03T14:45:00.000Z", "2027-04-04T15:15:00.000Z"]),
        // Kolkata keeps one offset all year.
        ("30 2 * * *", "Asia/Kolkata", "2027-03-13T00:00:00Z", ["2027-03-13T21:00:00.000Z", "2027-03-14T21:00:00.000Z"]),
    ])
    func conformance(expression: String, zone: String, after start: String, expected: [String]) throws {
        #expect(try slots(expression, zone, after: start, count: expected.count) == expected)
    }

    @Test func twoFixedTimesMovedOntoOneInstantGiveOneSlot() throws {
        // 02:00 falls in the gap and moves to 03:00 EDT, which 03:00 names as well.
        #expect(try slots("0 2,3 * * *", "America/New_York", after: "2027-03-14T00:00:00Z", count: 2)
            == ["2027-03-14T07:00:00.000Z", "2027-03-15T06:00:00.000Z"])
    }

    /// For random expressions and zones over two years: slots strictly increase, and every
    /// fixed-time job fires exactly once per matching day.
    @Test func randomExpressionsFireOncePerDayInOrder() throws {
        var random = try SeededRandom()
        let zones = ["America/New_York", "Europe/Lisbon", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"]
        for _ in 0..<40 {
            let minute = Int.random(in: 0...59, using: &random)
            let hour = Int.random(in: 0...23, using: &random)
            let zone = try #require(TimeZone(identifier: zones.randomElement(using: &random)!))
            let schedule = Schedule.cron(try CronExpression("\(minute) \(hour) * * *"), timeZone: zone)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            var cursor = date("2026-01-01T00:00:00Z")
            var days = Set<DateComponents>()
            for _ in 0..<730 {
                let next = schedule.slot(after: cursor)
                #expect(next > cursor, "\(minute) \(hour) in \(zone.identifier): slots increase")
                // A slot moved out of a gap lands on its own local day, so days never repeat.
                #expect(days.insert(calendar.dateComponents([.year, .month, .day], from: next)).inserted, "one slot per local day")
                cursor = next
            }
            // 730 slots cover 730 consecutive days: exactly one per day, none skipped.
            let first = schedule.slot(after: date("2026-01-01T00:00:00Z"))
            let elapsedDays = cursor.timeIntervalSince(first) / 86_400
            #expect((728.9...729.1).contains(elapsedDays), "\(minute) \(hour) in \(zone.identifier): \(elapsedDays) days")
        }
    }

    @Test func tickIdsStayTheSameForTheSameSlot() throws {
        let job = JobDefinition(
            name: "brief", schedule: .cron(try CronExpression("30 2 * * *"), timeZone: TimeZone(identifier: "America/New_York")!),
            windowSeconds: 3600, sql: ":window_start :window_end")
        let first = job.schedule.slot(after: date("2027-03-13T12:00:00Z"))
        let again = job.schedule.slot(after: date("2027-03-14T06:59:59Z"))
        #expect(first == again)
        #expect(TickMessage(job: job, slot: first, producedAt: Date()).tickId == "brief@2027-03-14T07:00:00.000Z")
    }
}
