import Kafka
import Logging
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
    }

    private let consumer: KafkaConsumer
    private let phase = Mutex(Phase())

    init(consumer: KafkaConsumer) { self.consumer = consumer }

    /// Reads until cancelled.
    func run() async throws {
        for try await message in consumer.messages {
            let now = ContinuousClock.now
            consumer.markProcessed(message)
            let job = message.headers.string(named: "job-name") ?? ""
            phase.withLock { phase in
                phase.received += 1
                if phase.first == nil { phase.first = now }
                if phase.firstOfJob[job] == nil { phase.firstOfJob[job] = now }
                phase.last = now
            }
        }
    }

    /// When the first alert of `job` arrived since the last reset, if one did.
    func firstArrival(ofJob job: String) -> ContinuousClock.Instant? { phase.withLock { $0.firstOfJob[job] } }

    /// Starts counting afresh.
    func reset() { phase.withLock { $0 = Phase() } }

    /// Waits until `count` alerts arrived since the last reset.
    /// - Returns: when the first and the last of them arrived.
    func wait(for count: Int, within limit: Duration) async throws -> (first: ContinuousClock.Instant, last: ContinuousClock.Instant) {
        let deadline = ContinuousClock.now + limit
        while true {
            let current = phase.withLock { $0 }
            if current.received >= count, let first = current.first, let last = current.last { return (first, last) }
            guard ContinuousClock.now < deadline else {
                throw BenchmarkFailure("only \(current.received) of \(count) alerts arrived within \(limit)")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
