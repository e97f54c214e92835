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
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let left = deadline - .now
            guard left > .zero else { return }
            let step = answers == nil ? left : min(left, .seconds(1))
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: step) }
            } catch {
                return
            }
            guard let answers else { continue }
            if await answers() {
                if sawUnreachable {
                    sawUnreachable = false
                    return
                }
            } else {
                sawUnreachable = true
            }
        }
    }
}
