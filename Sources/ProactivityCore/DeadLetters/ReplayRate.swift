import Foundation

/// How fast a replay may republish rows, so that a large replay cannot flood the workers:
/// written `N/s`, `N/m` or `N` (per second), `N` a positive number; from one row a
/// minute (`1/m`) to 100,000 rows a second.
public struct ReplayRate: Sendable, Hashable, CustomStringConvertible {
    /// Rows per second.
    public let perSecond: Double

    public static let range: ClosedRange<Double> = (1.0 / 60)...100_000

    /// - Returns: `nil` unless `perSecond` is within ``range``.
    public init?(perSecond: Double) {
        guard perSecond.isFinite, Self.range.contains(perSecond) else { return nil }
        self.perSecond = perSecond
    }

    /// Reads `N/s`, `N/m` or `N`; `nil` for anything else (signs, exponents, spaces,
    /// other units, a rate outside ``range``).
    public init?(_ text: String) {
        guard text.utf8.count <= 20 else { return nil }
        let (number, unit): (Substring, Double) =
            if text.hasSuffix("/s") { (text.dropLast(2), 1) } else if text.hasSuffix("/m") { (text.dropLast(2), 60) } else { (Substring(text), 1) }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
            let value = Double(number)
        else { return nil }
        self.init(perSecond: value / unit)
    }

    /// Rows republished together at most: a tenth of a second's worth, 1 to 500.
    public var burst: Int { Int(min(500, max(1, (perSecond / 10).rounded(.up)))) }

    public var description: String {
        perSecond >= 1 ? "\(Self.trimmed(perSecond))/s" : "\(Self.trimmed(perSecond * 60))/m"
    }

    private static func trimmed(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.3g", value)
    }
}

/// A token bucket pacing a replay at a ``ReplayRate``: it holds at most `rate.burst`
/// tokens, full at the start and refilled at the rate; sending `count` rows takes
/// `count` tokens, waiting for those missing. Over any stretch of time, at most
/// `burst + rate × seconds` rows go out. Pure: the caller passes the time and sleeps.
public struct ReplayPacer: Sendable {
    public let rate: ReplayRate
    private var tokens: Double
    private var updated: Double?

    public init(rate: ReplayRate) {
        self.rate = rate
        tokens = Double(rate.burst)
    }

    /// Takes `count` tokens (at most `rate.burst`) at time `now` (seconds on any
    /// monotonic clock) and returns how long to wait before sending the rows.
    public mutating func reserve(_ count: Int, now: Double) -> Double {
        let count = Double(min(max(count, 0), rate.burst))
        if let updated { tokens = min(Double(rate.burst), tokens + max(0, now - updated) * rate.perSecond) }
        updated = now
        tokens -= count
        guard tokens < 0 else { return 0 }
        // The wait refills what is missing; the bucket is then empty at the send.
        let wait = -tokens / rate.perSecond
        tokens = 0
        updated = now + wait
        return wait
    }
}
