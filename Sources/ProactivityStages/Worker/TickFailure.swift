import Kafka
import ProactivityCore

/// Why a tick did not complete, and what the worker does about it.
struct TickFailure: Error {
    enum Kind {
        /// The dependency cannot be reached: wait for it (the circuit breaker), however long.
        case unavailable
        /// It answered but failed in a way a retry may fix: retried up to the budget, then
        /// sent to the DLQ as `transient` (where automatic replay can pick it up).
        case transient
        /// Retrying cannot help: sent to the DLQ at once.
        case permanent(FailureClass)

        /// The kind of a failed alert delivery.
        static func of(_ error: KafkaError) -> Kind {
            if error.code == .messageTooLarge { return .permanent(.messageTooLarge) }
            return error.isRetriable ? .unavailable : .transient
        }
    }

    /// `database` or `kafka`: what readiness and the circuit-breaker metric name.
    let dependency: String
    let message: String
    let kind: Kind
}
