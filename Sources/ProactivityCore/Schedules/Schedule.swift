import Foundation

/// When a job runs: every fixed interval (slots aligned to multiples of the interval
/// since 1970-01-01 UTC, so every producer agrees on them) or on a cron expression in a
/// time zone.
public enum Schedule: Sendable, Hashable, CustomStringConvertible {
    case interval(seconds: Int)
    case cron(CronExpression, timeZone: TimeZone)

    public var description: String {
        switch self {
        case .interval(let seconds): "every \(seconds)s"
        case .cron(let expression, let timeZone): "cron '\(expression)' (\(timeZone.displayIdentifier))"
        }
    }

    /// The latest slot at or before `date`.
    public func slot(atOrBefore date: Date) -> Date {
        switch self {
        case .interval(let seconds):
            let step = Double(seconds)
            return Date(timeIntervalSince1970: (date.timeIntervalSince1970 / step).rounded(.down) * step)
        case .cron(let expression, let timeZone):
            return Self.cronSlot(expression, timeZone: timeZone, from: date, forward: false)
        }
    }

    /// The first slot strictly after `date`.
    public func slot(after date: Date) -> Date {
        switch self {
        case .interval(let seconds):
            return slot(atOrBefore: date).addingTimeInterval(Double(seconds))
        case .cron(let expression, let timeZone):
            return Self.cronSlot(expression, timeZone: timeZone, from: date, forward: true)
        }
    }

    /// How many slots lie in `(after, upTo]`, counting at most `limit`.
    public func slotCount(after start: Date, upTo end: Date, limit: Int = 10_000) -> Int {
        var count = 0
        var cursor = start
        while count < limit {
            cursor = slot(after: cursor)
            guard cursor <= end else { break }
            count += 1
        }
        return count
    }

    /// Walks local days from `date` (forward or backward, up to 5 years) and returns the
    /// first fire time after it (or the last at or before it), with daylight-saving
    /// rules: see ``CronExpression/followsElapsedTime``.
    private static func cronSlot(_ cron: CronExpression, timeZone: TimeZone, from date: Date, forward: Bool) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let startOfDay = calendar.startOfDay(for: date)
        for dayOffset in 0..<(366 * 5) {
            guard let day = calendar.date(byAdding: .day, value: forward ? dayOffset : -dayOffset, to: startOfDay) else { continue }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                cron.matches(day: dayOfMonth, month: month, weekday: weekday - 1)
            else { continue }
            let instants = fireInstants(cron, timeZone: timeZone, year: year, month: month, day: dayOfMonth)
            if forward, let next = instants.first(where: { $0 > date }) { return next }
            if !forward, let previous = instants.last(where: { $0 <= date }) { return previous }
        }
        // An expression that never fires (e.g. 31 February) was rejected at parse time
        // by `JobDefinition` validation; this is only reached for such input.
        return forward ? .distantFuture : .distantPast
    }

    /// The instants one local day's fire times stand for, ascending and distinct.
    private static func fireInstants(_ cron: CronExpression, timeZone: TimeZone, year: Int, month: Int, day: Int) -> [Date] {
        var instants: [Date] = []
        for time in cron.timesOfDay {
            let wall = LocalWallTime(year: year, month: month, day: day, hour: time.hour, minute: time.minute)
            let occurrences = wall.instants(in: timeZone)
            if occurrences.isEmpty {
                // A gap swallowed it: a fixed-time job runs once, when the gap ends.
                if !cron.followsElapsedTime, let end = wall.endOfGap(in: timeZone) { instants.append(end) }
            } else if cron.followsElapsedTime {
                instants.append(contentsOf: occurrences)
            } else {
                instants.append(occurrences[0])  // a repeated hour: the first occurrence only
            }
        }
        return Array(Set(instants)).sorted()
    }
}

/// A local date and time of day, and the instants it names in a time zone: none in a
/// spring-forward gap, two in a repeated fall-back hour, one otherwise.
struct LocalWallTime {
    let year, month, day, hour, minute: Int

    /// The wall time read as if it were UTC.
    private var asUTC: Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))!
    }

    /// Every instant at which clocks in `zone` show this time, ascending.
    func instants(in zone: TimeZone) -> [Date] {
        let wall = asUTC
        // The zone's offsets around this day: a transition has one offset on each side.
        let offsets = Set([-86_400.0, 0, 86_400].map { zone.secondsFromGMT(for: wall.addingTimeInterval($0)) })
        return offsets.map { wall.addingTimeInterval(-Double($0)) }
            .filter { zone.secondsFromGMT(for: $0) == Int(wall.timeIntervalSince($0)) }
            .sorted()
    }

    /// The instant clocks jump forward over this time, when a gap swallows it.
    func endOfGap(in zone: TimeZone) -> Date? {
        let wall = asUTC
        let before = zone.secondsFromGMT(for: wall.addingTimeInterval(-86_400))
        return zone.nextDaylightSavingTimeTransition(after: wall.addingTimeInterval(-Double(before) - 86_400))
    }
}

extension TimeZone {
    /// The zone's identifier for people: `UTC` for the zone Foundation on Linux calls
    /// `GMT` (what `TimeZone(identifier: "UTC")`, the engine's default, returns).
    public var displayIdentifier: String { identifier == "GMT" ? "UTC" : identifier }
}
