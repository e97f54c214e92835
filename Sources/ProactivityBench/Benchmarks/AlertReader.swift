import Kafka
import Logging
import ProactivityLauncher
import Synchronization

/// Reads the alerts topic in the benchmark's own process, as a notification service
/// would, noting when the first and the last alert of a phase arrived.
final class AlertReader: Sendable {
    private struct Phase {
        var received = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
        /// When each job's first alert arrived.
        var firstOfJob: [String: ContinuousClock.Instant] = [:]
        /// How many alerts of each job arrived.
        var receivedOfJob: [String: Int] = [:]
        /// The distinct alert ids (`alert-id` header) that arrived, when kept.
        var ids: Set<String> = []
    }

    private let consumer: KafkaConsumer
    private let phase = Mutex(Phase())
    /// Whether to keep every alert id (to count duplicates): not in throughput phases,
    /// whose reader CPU is part of the figures.
    private let keepsIds: Bool

    init(consumer: KafkaConsumer, keepingIds: Bool = false) {
        self.consumer = consumer
        keepsIds = keepingIds
    }

    /// Reads until cancelled.
    func run() async throws {
        for try await message in consumer.messages {
            let now = ContinuousClock.now
            consumer.markProcessed(message)
            let job = message.headers.string(named: "job-name") ?? ""
            let id = keepsIds ? message.headers.string(named: "alert-id") : nil
            phase.withLock { phase in
                if let id { phase.ids.insert(id) }
                phase.received += 1
                if phase.first == nil { phase.first = now }
                if phase.firstOfJob[job] == nil { phase.firstOfJob[job] = now }
                phase.receivedOfJob[job, default: 0] += 1
                phase.last = now
            }
        }
    }

    /// When the first alert of `job` arrived since the last reset, if one did.
    func firstArrival(ofJob job: String) -> ContinuousClock.Instant? { phase.withLock { $0.firstOfJob[job] } }

    /// How many alerts of `job` arrived since the last reset.
    func received(ofJob job: String) -> Int { phase.withLock { $0.receivedOfJob[job] ?? 0 } }

    /// How many alerts arrived since the last reset, and how many distinct ids they carry
    /// (with `keepingIds`; else 0).
    var counts: (received: Int, distinct: Int) { phase.withLock { ($0.received, $0.ids.count) } }

    /// Forgets when the first alert of `job` arrived (its next one counts as first).
    func forgetFirstArrival(ofJob job: String) { _ = phase.withLock { $0.firstOfJob.removeValue(forKey: job) } }

    /// Waits for the first alert of `job` since the last reset or ``forgetFirstArrival(ofJob:)``.
    func waitForFirstArrival(ofJob job: String, within limit: Duration) async throws -> ContinuousClock.Instant {
        try await poll(within: limit, "no alert of \(job) arrived") { firstArrival(ofJob: job) }
    }

    /// Waits until `count` alerts of `job` arrived since the last reset.
    func wait(forJob job: String, count: Int, within limit: Duration) async throws {
        try await poll(within: limit, "fewer than \(count) alerts of \(job) arrived") { received(ofJob: job) >= count ? () : nil }
    }

    /// `value` once it is there, checked every millisecond (alert latency is measured by it).
    /// - Throws: ``BenchmarkFailure`` naming `failure` after `limit`.
    private func poll<T>(within limit: Duration, _ failure: @autoclosure () -> String, _ value: () -> T?) async throws -> T {
        guard let value = try await ProactivityLauncher.poll(every: .milliseconds(1), within: limit, value) else {
            throw BenchmarkFailure("\(failure()) within \(limit)")
        }
        return value
    }

    /// Starts counting afresh.
    func reset() { phase.withLock { $0 = Phase() } }

    /// Waits until `count` alerts arrived since the last reset.
    /// - Returns: when the first and the last of them arrived.
    func wait(for count: Int, within limit: Duration) async throws -> (first: ContinuousClock.Instant, last: ContinuousClock.Instant) {
        try await poll(within: limit, "only \(phase.withLock(\.received)) of \(count) alerts arrived") {
            let current = phase.withLock { $0 }
            guard current.received >= count, let first = current.first, let last = current.last else { return nil }
            return (first, last)
        }
    }
}
