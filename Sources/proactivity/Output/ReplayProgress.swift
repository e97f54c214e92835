import Foundation
import ProactivityCore
import Synchronization

/// Progress lines of a replay on standard error: every batch without a rate; with one
/// (batches are then small) every 5 seconds and at the end, with the rate achieved.
final class ReplayProgress: Sendable {
    private let rate: ReplayRate?
    private let start = ContinuousClock.now
    private let lastLine = Mutex<ContinuousClock.Instant?>(nil)

    init(rate: ReplayRate?) {
        self.rate = rate
    }

    func report(_ verb: String, _ done: Int, of total: Int) {
        let now = ContinuousClock.now
        let due = lastLine.withLock { last in
            guard rate == nil || done >= total || last.map({ now - $0 >= .seconds(5) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        var line = "\(verb) \(done)/\(total)"
        if let rate {
            let seconds = (now - start) / .seconds(1)
            line += String(format: " in %.1f s (%.1f/s, ", seconds, seconds > 0 ? Double(done) / seconds : 0) + "limit \(rate))"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
