import Logging
import Observability
import Synchronization

/// The worker's circuit breaker: while a dependency (`database`, `kafka`) is
/// unreachable the circuit for it is open, the worker waits instead of consuming (and
/// instead of failing messages), and readiness, the `proactivity_circuit_breaker_open`
/// gauge and one log line per transition say so.
final class CircuitBreaker: Sendable {
    private let open = Mutex<Set<String>>([])
    private let metrics: EngineMetrics
    private let health: HealthState
    private let logger: Logger
    /// Told `true` when the first circuit opens, `false` when every one has closed.
    private let onChange: @Sendable (_ open: Bool) -> Void

    init(metrics: EngineMetrics, health: HealthState, logger: Logger, onChange: @escaping @Sendable (_ open: Bool) -> Void = { _ in }) {
        self.metrics = metrics
        self.health = health
        self.logger = logger
        self.onChange = onChange
    }

    /// The dependency cannot be reached.
    func trip(_ dependency: String, reason: String) {
        health.report(.workerCircuit(dependency), failing: reason)
        // Transitions are told under the lock, so a hold and its release never swap.
        let inserted = open.withLock { open in
            let first = open.isEmpty
            let inserted = open.insert(dependency).inserted
            if first, inserted { onChange(true) }
            return inserted
        }
        guard inserted else { return }
        metrics.circuitBreaker(dependency, open: true)
        logger.error("worker_circuit_opened", metadata: ["dependency": "\(dependency)", "error": "\(reason)"])
    }

    /// Work succeeded: every dependency answers.
    func reset() {
        let closed = open.withLock { dependencies in
            defer { dependencies.removeAll() }
            if !dependencies.isEmpty { onChange(false) }
            return dependencies
        }
        for dependency in closed.sorted() {
            health.report(.workerCircuit(dependency), failing: nil)
            metrics.circuitBreaker(dependency, open: false)
            logger.notice("worker_circuit_closed", metadata: ["dependency": "\(dependency)"])
        }
    }
}
