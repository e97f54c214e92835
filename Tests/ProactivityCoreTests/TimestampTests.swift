import Foundation
import ProactivityCore
import TestSupport
import Testing

@Suite struct TimestampTests {
    let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    @Test func knownDates() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.format(MessageCoding.parseTimestamp("2026-11-25T15:05:00Z")!) == "2026-11-25T15:05:00.000Z")
        #expect(Timestamp.format(MessageCoding.parseTimestamp("2028-02-29T23:59:59.999Z")!) == "2028-02-29T23:59:59.999Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: -0.001)) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.format(MessageCoding.parseTimestamp("0001-01-01T00:00:00Z")!) == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp.format(MessageCoding.parseTimestamp("9999-12-31T23:59:59.999Z")!) == "9999-12-31T23:59:59.999Z")
    }

    /// Whole seconds (what schedule slots and most due times are) format exactly as
    /// Foundation formats them: the tick and alert ids of earlier versions are kept.
    @Test func sameAsFoundationForWholeSeconds() throws {
        var random = try SeededRandom()
        for _ in 0..<20_000 {
            let seconds = Int64.random(in: -2_208_988_800...7_258_118_400, using: &random)  // 1900…2200
            let date = Date(timeIntervalSince1970: Double(seconds))
            #expect(Timestamp.format(date) == date.formatted(foundation), "\(seconds) s")
        }
    }

    /// Whole milliseconds keep their millisecond. Foundation truncates the binary
    /// fraction and writes some of them 1 ms early (…52.425 as …52.424): ours differs
    /// from it only there.
    @Test func wholeMillisecondsKeepTheirMillisecond() throws {
        var random = try SeededRandom()
        for _ in 0..<20_000 {
            // 1900…2100: where a Date (a Double) holds every microsecond exactly.
            let milliseconds = Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &random)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = Timestamp.format(date)
            let millisecond = Int(((milliseconds % 1000) + 1000) % 1000)
            #expect(text.hasSuffix(String(format: ".%03dZ", millisecond)), "\(milliseconds) ms: \(text)")
            let reference = date.formatted(foundation)
            #expect(reference == text || Timestamp.format(Date(timeIntervalSince1970: Double(milliseconds - 1) / 1000)) == reference, "\(text) vs \(reference) (\(milliseconds))")
        }
    }

    /// Dates PostgreSQL hands back (microseconds) keep the millisecond they were written with.
    @Test func microsecondDatesTruncateToTheirMillisecond() throws {
        var random = try SeededRandom()
        for _ in 0..<20_000 {
            let microseconds = Int64.random(in: -2_208_988_800_000_000...4_102_444_800_000_000, using: &random)
            let date = Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
            let text = Timestamp.format(date)
            let millisecond = microseconds >= 0 ? microseconds / 1000 : (microseconds - 999) / 1000
            let expected = Date(timeIntervalSince1970: Double(millisecond) / 1000)
            #expect(text == Timestamp.format(expected), "\(microseconds) µs")
            #expect(MessageCoding.parseTimestamp(text) != nil)
        }
    }

    @Test func datesOutsideFourDigitYearsDoNotTrap() {
        for date in [Date.distantPast, Date.distantFuture, Date(timeIntervalSince1970: .greatestFiniteMagnitude), Date(timeIntervalSince1970: -1e15)] {
            #expect(!Timestamp.format(date).isEmpty)
        }
    }
}
