import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`), with
/// `*`, lists (`1,15`), ranges (`1-5`) and steps (`*/15`, `0-30/10`); day of week 0–7
/// (0 and 7 are Sunday). As in cron, when both day fields are restricted a day matches
/// if either does.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// A malformed expression.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool
    /// The minute or hour field starts with `*` (`*`, `*/15`): the job follows elapsed
    /// time across daylight-saving changes (every matching minute that exists fires,
    /// both copies of a repeated hour, nothing in a gap). Otherwise it runs at a fixed
    /// local time: once a day even when that time is repeated (the first occurrence), and
    /// at the first instant after a gap that swallows it (ISC/Vixie cron's rules).
    public let followsElapsedTime: Bool
    /// The expression as written.
    public let description: String

    /// Parses an expression.
    /// - Throws: ``ParseError`` naming the bad field.
    public init(_ text: String) throws(ParseError) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "cron expression '\(text)' must have 5 fields (minute hour day-of-month month day-of-week)")
        }
        minutes = try Self.field(fields[0], name: "minute", range: 0...59)
        hours = try Self.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try Self.field(fields[2], name: "day-of-month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12)
        daysOfWeek = Set(try Self.field(fields[4], name: "day-of-week", range: 0...7).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
        followsElapsedTime = fields[0].hasPrefix("*") || fields[1].hasPrefix("*")
        description = fields.joined(separator: " ")
    }

    private static func field(_ text: String, name: String, range: ClosedRange<Int>) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { throw bad(name, text) }
            let step = pieces.count == 2 ? Int(pieces[1]) : 1
            guard let step, step > 0 else { throw bad(name, text) }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = range
            } else if let dash = pieces[0].firstIndex(of: "-") {
                guard let low = Int(pieces[0][..<dash]), let high = Int(pieces[0][pieces[0].index(after: dash)...]), low <= high
                else { throw bad(name, text) }
                bounds = low...high
            } else {
                guard let value = Int(pieces[0]) else { throw bad(name, text) }
                // `value/step` runs to the field's end: a value past it is no range at all.
                guard range.contains(value) else {
                    throw ParseError(description: "cron \(name) field '\(text)' is outside \(range.lowerBound)-\(range.upperBound)")
                }
                bounds = value...(pieces.count == 2 ? range.upperBound : value)
            }
            guard range.contains(bounds.lowerBound), range.contains(bounds.upperBound) else {
                throw ParseError(description: "cron \(name) field '\(text)' is outside \(range.lowerBound)-\(range.upperBound)")
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static func bad(_ name: String, _ text: String) -> ParseError {
        ParseError(description: "cron \(name) field '\(text)' is not valid")
    }

    /// Whether the expression fires on this calendar day.
    func matches(day: Int, month: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        let dayOfMonth = daysOfMonth.contains(day)
        let dayOfWeek = daysOfWeek.contains(weekday)
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): return dayOfMonth || dayOfWeek
        case (true, false): return dayOfMonth
        case (false, true): return dayOfWeek
        case (false, false): return true
        }
    }

    /// The fire times of one day, ascending, as (hour, minute).
    var timesOfDay: [(hour: Int, minute: Int)] {
        hours.sorted().flatMap { hour in minutes.sorted().map { (hour, $0) } }
    }
}
