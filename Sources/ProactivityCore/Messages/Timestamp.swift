import Foundation

/// ISO 8601 UTC timestamps with milliseconds (`2026-11-25T15:05:00.000Z`), formatted
/// without Foundation's formatters: alert and tick ids are made of them, once per alert.
///
/// The milliseconds are truncated after rounding the date to the microsecond
/// (PostgreSQL's precision), so a value read back from the database formats as it was
/// written (exact where a `Date` holds every microsecond: years 1901 to 2106). That is `Date.ISO8601FormatStyle(includingFractionalSeconds: true)`'s text
/// for whole seconds (schedule slots, most due times), while Foundation writes some
/// fractional dates 1 ms early (it truncates the binary fraction).
public enum Timestamp {
    /// The timestamp text of `date`.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the timestamp text of `date` (24 ASCII bytes) to `bytes`.
    public static func append(_ date: Date, to bytes: inout [UInt8]) {
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        // Outside years 1…9999 (or not a number): Foundation's text, rare and slow.
        guard microseconds.isFinite, microseconds > -62_135_596_800_000_000, microseconds < 253_402_300_800_000_000 else {
            bytes.append(contentsOf: date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)).utf8)
            return
        }
        let total = Int64(microseconds)
        let milliseconds = total.floorDiv(1000)
        let seconds = milliseconds.floorDiv(1000)
        let millisecond = Int(milliseconds - seconds * 1000)
        let days = seconds.floorDiv(86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(fromDays: days)
        digits(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        digits(millisecond, 3, &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = shifted.floorDiv(146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func digits(_ value: Int, _ width: Int, _ bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
