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
        case .cron(let expression, let timeZone): "cron '\(expression)' (\(timeZone.identifier))"
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

    /// Walks days from `date` (forward or backward, up to 5 years) and returns the
    /// first fire time after (or at/before) it. Local times that do not exist in the
    /// time zone (spring-forward gaps) are skipped.
    private static func cronSlot(_ cron: CronExpression, timeZone: TimeZone, from date: Date, forward: Bool) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let startOfDay = calendar.startOfDay(for: date)
        let times = forward ? cron.timesOfDay : cron.timesOfDay.reversed()
        for dayOffset in 0..<(366 * 5) {
            guard let day = calendar.date(byAdding: .day, value: forward ? dayOffset : -dayOffset, to: startOfDay) else { continue }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard cron.matches(day: parts.day!, month: parts.month!, weekday: parts.weekday! - 1) else { continue }
            for time in times {
                var wanted = parts
                wanted.hour = time.hour
                wanted.minute = time.minute
                wanted.weekday = nil
                guard let candidate = calendar.date(from: wanted),
                    calendar.component(.hour, from: candidate) == time.hour
                else { continue }
                if forward ? candidate > date : candidate <= date { return candidate }
            }
        }
        // An expression that never fires (e.g. 31 February) was rejected at parse time
        // by `JobDefinition` validation; this is only reached for such input.
        return forward ? .distantFuture : .distantPast
    }
}
