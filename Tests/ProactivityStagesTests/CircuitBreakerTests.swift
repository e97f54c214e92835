import Logging
import Observability
@testable import ProactivityStages
import Synchronization
import Testing

/// The worker's circuit breaker: one transition told per opening and closing, whatever
/// trips it how often, with readiness and the gauge following.
@Suite struct CircuitBreakerTests {
    @Test func itOpensOnceAndClosesOnceWithReadinessAndTheGauge() {
        let metrics = EngineMetrics()
        let health = HealthState(stage: "worker")
        let transitions = Mutex<[Bool]>([])
        var logger = Logger(label: "circuit-test")
        logger.logLevel = .critical
        let breaker = CircuitBreaker(metrics: metrics, health: health, logger: logger) { open in transitions.withLock { $0.append(open) } }

        breaker.trip("database", reason: "connection refused")
        breaker.trip("database", reason: "connection refused")
        breaker.trip("kafka", reason: "all brokers down")
        #expect(transitions.withLock { $0 } == [true], "held once, however many trips")
        #expect(!health.readiness.ready)
        #expect(metrics.render().contains(#"proactivity_circuit_breaker_open{dependency="database"} 1"#))

        breaker.reset()
        breaker.reset()
        #expect(transitions.withLock { $0 } == [true, false], "released once, when every circuit closed")
        #expect(health.readiness.ready)
        #expect(metrics.render().contains(#"proactivity_circuit_breaker_open{dependency="database"} 0"#))
    }
}
