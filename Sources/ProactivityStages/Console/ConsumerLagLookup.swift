import Foundation

/// The consumer groups' lag for the jobs page, asked of the broker at most once per
/// `maximumAge`. One lookup creates an admin client and a consumer per group (librdkafka
/// threads and broker connections of their own, for up to a few seconds), so a page
/// reloaded in a loop, or many operators at once, must not multiply them: a request that
/// comes while a lookup runs waits for that one, and one within `maximumAge` of the
/// last answer gets that answer, with the time it was asked.
actor ConsumerLagLookup {
    /// What the broker answered, one line per group, and when it was asked.
    struct Answer: Sendable {
        var lines: [String]
        var askedAt: Date
    }

    private let maximumAge: Duration
    private let ask: @Sendable () async -> [String]
    private var last: (answer: Answer, at: ContinuousClock.Instant)?
    private var running: Task<Answer, Never>?

    /// - Parameter ask: the lookup itself; it reports failures in its lines (a lag that
    ///   could not be read is shown as such), so it does not throw.
    init(maximumAge: Duration = .seconds(10), ask: @escaping @Sendable () async -> [String]) {
        self.maximumAge = maximumAge
        self.ask = ask
    }

    /// The last answer if it is recent, else the one being asked, else a new one.
    func answer() async -> Answer {
        if let last, ContinuousClock.now - last.at < maximumAge { return last.answer }
        if let running { return await running.value }
        // A task of its own: the requests waiting for it share it, and one of them going
        // away does not cancel the others' answer. Its clients end within their timeouts.
        let ask = self.ask
        let task = Task { Answer(lines: await ask(), askedAt: Date()) }
        running = task
        let answer = await task.value
        last = (answer, .now)
        running = nil
        return answer
    }
}
