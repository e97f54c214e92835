import Foundation
import ProactivityCore
import Testing

@Suite struct ScheduleTests {
    func date(_ text: String) -> Date { MessageCoding.parseTimestamp(text)! }

    @Test func intervalSlotsAlignToMultiplesSinceEpoch() {
        let schedule = Schedule.interval(seconds: 300)
        #expect(schedule.slot(atOrBefore: date("2026-11-25T15:07:31Z")) == date("2026-11-25T15:05:00Z"))
        #expect(schedule.slot(atOrBefore: date("2026-11-25T15:05:00Z")) == date("2026-11-25T15:05:00Z"))
        #expect(schedule.slot(after: date("2026-11-25T15:05:00Z")) == date("2026-11-25T15:10:00Z"))
        #expect(schedule.slotCount(after: date("2026-11-25T15:00:00Z"), upTo: date("2026-11-25T16:00:00Z")) == 12)
    }

    /// The engine's default zone reads as UTC (Foundation on Linux names it GMT).
    @Test func aScheduleInUTCSaysUTC() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        #expect(Schedule.cron(try CronExpression("0 7 * * *"), timeZone: utc).description == "cron '0 7 * * *' (UTC)")
        #expect(try #require(TimeZone(identifier: "Europe/Lisbon")).displayIdentifier == "Europe/Lisbon")
    }

    @Test func cronFiresInItsTimeZone() throws {
        let lisbon = try #require(TimeZone(identifier: "Europe/Lisbon"))
        let schedule = Schedule.cron(try CronExpression("30 7 * * 1-5"), timeZone: lisbon)
        // Wednesday 2026-11-25, Lisbon is UTC+0 in winter.
        #expect(schedule.slot(after: date("2026-11-25T06:00:00Z")) == date("2026-11-25T07:30:00Z"))
        #expect(schedule.slot(atOrBefore: date("2026-11-25T06:00:00Z")) == date("2026-11-24T07:30:00Z"))
        // Friday evening: next is Monday.
        #expect(schedule.slot(after: date("2026-11-27T08:00:00Z")) == date("2026-11-30T07:30:00Z"))
        // Summer time: UTC+1.
        #expect(schedule.slot(after: date("2026-07-01T00:00:00Z")) == date("2026-07-01T06:30:00Z"))
    }

    @Test func cronStepsListsAndSundaySeven() throws {
        let expression = try CronExpression("*/20 9,17 * * 7")
        let schedule = Schedule.cron(expression, timeZone: .gmt)
        // 2026-11-29 is a Sunday.
        #expect(schedule.slot(after: date("2026-11-29T09:00:00Z")) == date("2026-11-29T09:20:00Z"))
        #expect(schedule.slot(after: date("2026-11-29T09:40:00Z")) == date("2026-11-29T17:00:00Z"))
    }

    @Test func aFixedTimeInASpringForwardGapRunsWhenTheGapEnds() throws {
        // Europe/Lisbon springs forward at 01:00 → 02:00 on 2026-03-29: 01:30 does not exist.
        let lisbon = try #require(TimeZone(identifier: "Europe/Lisbon"))
        let schedule = Schedule.cron(try CronExpression("30 1 * * *"), timeZone: lisbon)
        #expect(schedule.slot(after: date("2026-03-28T12:00:00Z")) == date("2026-03-29T01:00:00Z"))
        #expect(schedule.slot(after: date("2026-03-29T01:00:00Z")) == date("2026-03-30T00:30:00Z"))
    }

    @Test(arguments: ["* * * *", "60 * * * *", "* 24 * * *", "a * * * *", "*/0 * * * *", "5-1 * * * *"])
    func cronRejectsMalformedExpressions(_ text: String) {
        #expect(throws: CronExpression.ParseError.self) { try CronExpression(text) }
    }

    @Test func durationsParseAndFormat() {
        #expect(DurationText.seconds("90s") == 90)
        #expect(DurationText.seconds("5m") == 300)
        #expect(DurationText.seconds("1h30m") == 5400)
        #expect(DurationText.seconds("2d") == 172_800)
        #expect(DurationText.seconds("5") == nil)
        #expect(DurationText.seconds("m") == nil)
        #expect(DurationText.seconds("0s") == nil)
        #expect(DurationText.format(5400) == "1h30m")
    }
}
