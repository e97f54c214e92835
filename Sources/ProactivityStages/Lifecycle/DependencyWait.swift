import ServiceLifecycle

/// Waiting out an unavailable dependency (the database, the broker) without waiting
/// longer than needed: between retries spaced by backoff (up to 30 s), the dependency
/// is checked every second, and the wait ends as soon as it answers again after having
/// not answered. Graceful shutdown ends the wait too.
///
/// A dependency that answers the check all along (the failure lies elsewhere) does not
/// shorten the wait, so a failure the check cannot see is not retried in a tight loop.
struct DependencyWait {
    /// Whether the dependency answers (a quick check, a few seconds at most); without
    /// it, the wait is plain backoff.
    let answers: (@Sendable () async -> Bool)?
    private var sawUnreachable = false

    init(answers: (@Sendable () async -> Bool)?) {
        self.answers = answers
    }

    /// Sleeps up to `seconds`, or until the dependency is back.
    mutating func wait(upTo seconds: Double) async {
        let limit = Duration.milliseconds(Int64(seconds * 1000))
        guard let answers else {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: limit) }
            return
        }
        /// How a child of the wait ended: the limit passed, or the checks stopped (the
        /// dependency is back, or the wait ended) having seen it unreachable or not.
        enum End: Sendable {
            case limit
            case checks(sawUnreachable: Bool)
        }
        let sawBefore = sawUnreachable
        sawUnreachable = await withTaskGroup(of: End.self) { group in
            group.addTask {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: limit) }
                return .limit
            }
            group.addTask {
                var saw = sawBefore
                await repeatingUntilShutdown(every: .seconds(1), immediately: false, wait: { .seconds(1) }) {
                    let answered = await answers()
                    // A check cut short because the wait ended says nothing.
                    guard !Task.isCancelled else { return false }
                    if answered {
                        if saw {
                            saw = false
                            return false
                        }
                    } else {
                        saw = true
                    }
                    return true
                }
                return .checks(sawUnreachable: saw)
            }
            // The first child to end ends the other; the checks tell what they saw.
            var saw = sawBefore
            for await end in group {
                if case .checks(let sawUnreachable) = end { saw = sawUnreachable }
                group.cancelAll()
            }
            return saw
        }
    }
}
