import Foundation
import ProactivityCore

/// What `bench soak` measured: the engine's memory and CPU over time, and whether every
/// item inserted was alerted exactly once.
struct SoakBenchmarkReport: Codable, Sendable {
    /// One look at the engine during the run.
    struct Sample: Codable, Sendable {
        /// Since the first item was inserted.
        let seconds: Double
        let residentMegabytes: Double
        /// The engine's CPU since the sample before, in percent of one core.
        let cpuPercent: Double
        let ticksCompleted: Int
        let itemsInserted: Int
        let alertsRead: Int

        /// The column titles of ``line``.
        static let header = "  elapsed     memory     CPU  ticks completed   items  alerts read"

        var line: String {
            let elapsed = Int(seconds.rounded())
            return String(
                format: "  %4d:%02d  %6.1f MB  %5.1f%%  %15d  %6d  %11d", elapsed / 60, elapsed % 60, residentMegabytes, cpuPercent,
                ticksCompleted, itemsInserted, alertsRead)
        }
    }

    let seconds: Double
    let everySeconds: Int
    let windowSeconds: Int
    let itemsPerSecond: Int
    let itemsInserted: Int
    let alertsRead: Int
    let distinctAlerts: Int
    let ticksCompleted: Int
    /// Error and warning lines in the engine's log (`LOG_LEVEL=warning`).
    let errorLines: Int
    let warningLines: Int
    /// The engine's peak resident memory (`VmHWM`).
    let peakMegabytes: Double
    let samples: [Sample]

    /// Alerts read more than once (the same alert id again).
    var duplicates: Int { alertsRead - distinctAlerts }
    /// Items inserted whose alert was not read within 2 minutes of the run's end.
    var missing: Int { max(0, itemsInserted - distinctAlerts) }
    /// The first sample taken a minute or more into the run: the engine warmed up.
    var afterFirstMinute: Sample? { samples.first { $0.seconds >= 60 } ?? samples.first }

    func table() -> String {
        let exactlyOnce =
            duplicates == 0 && missing == 0
            ? "every item alerted exactly once"
            : "NOT exactly once: \(missing) items without an alert, \(duplicates) alerts read again"
        let reads = max(1, windowSeconds / everySeconds)
        var lines = [
            "",
            "soak: \(Int(seconds.rounded())) s of `proactivity all`, job every \(DurationText.format(everySeconds)) over a \(DurationText.format(windowSeconds)) window (each item read by about \(reads) ticks), \(itemsPerSecond) items a second",
            "items inserted \(itemsInserted); alerts read \(alertsRead), distinct \(distinctAlerts): \(exactlyOnce)",
            "ticks completed \(ticksCompleted); the engine's log: \(errorLines) error lines, \(warningLines) warning lines",
        ]
        if let warm = afterFirstMinute, let last = samples.last {
            let cpu = samples.dropFirst().map(\.cpuPercent)
            let meanCPU = cpu.isEmpty ? warm.cpuPercent : cpu.reduce(0, +) / Double(cpu.count)
            lines.append(
                String(
                    format: "memory: %.1f MB at %d s, %.1f MB at the end (%+.1f MB), peak %.1f MB; CPU %.1f%% of a core on average after the first sample",
                    warm.residentMegabytes, Int(warm.seconds.rounded()), last.residentMegabytes, last.residentMegabytes - warm.residentMegabytes,
                    peakMegabytes, meanCPU))
        }
        return lines.joined(separator: "\n")
    }
}
