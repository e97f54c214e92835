import Kafka
import ProactivityCore

/// Why a tick did not complete, and what the worker does about it (``FailureKind``,
/// from ``FailureClassifier``).
struct TickFailure: Error {
    /// `database` or `kafka`: what readiness and the circuit-breaker metric name.
    let dependency: String
    let message: String
    let kind: FailureKind
}

extension FailureSignal {
    /// The signal of a Kafka error.
    static func kafka(_ error: KafkaError) -> FailureSignal {
        .kafka(name: error.code.name, retriable: error.isRetriable)
    }
}
