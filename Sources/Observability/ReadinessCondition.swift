/// A readiness condition of `/readyz`, each written by exactly one component, so no
/// success of one hides another's failure. The name is what `/readyz` shows.
public struct ReadinessCondition: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    private init(_ name: String) { self.name = name }

    public var description: String { name }

    /// The broker answers a metadata request. Owner: the readiness probe.
    public static let probeKafka = Self("probe.kafka")
    /// PostgreSQL answers. Owner: the readiness probe.
    public static let probeDatabase = Self("probe.database")
    /// Every topic the process uses exists (the reason names a missing one). Owner: the readiness probe.
    public static let probeTopics = Self("probe.topics")
    /// The worker's consumer has joined its group (its assignment may be empty: an idle
    /// member). Owner: the readiness probe.
    public static let workerAssignment = Self("worker.assignment")
    /// The DLQ mirror's consumer has joined its group (its assignment may be empty: an
    /// idle member). Owner: the readiness probe.
    public static let mirrorAssignment = Self("dlq-mirror.assignment")
    /// The database holds this build's migrations, so the worker consumes ticks. Owner:
    /// the worker's migration wait.
    public static let workerMigrations = Self("worker.migrations")
    /// The database holds this build's migrations, so the mirror consumes the DLQ. Owner:
    /// the mirror's migration wait.
    public static let mirrorMigrations = Self("dlq-mirror.migrations")
    /// The worker's circuit for PostgreSQL is closed. Owner: the worker's circuit breaker.
    public static let workerDatabase = Self("worker.database")
    /// The worker's circuit for the broker is closed. Owner: the worker's circuit breaker.
    public static let workerKafka = Self("worker.kafka")
    /// The worker's ticks make progress. Owner: the worker's progress watch.
    public static let workerProgress = Self("worker.progress")
    /// Ticks are published. Owner: the tick producer.
    public static let tickPublish = Self("tick.publish")
    /// The mirror can write `worker_dlq`. Owner: the DLQ mirror.
    public static let mirrorDatabase = Self("dlq-mirror.database")
    /// The mirror makes progress on the record it holds. Owner: the DLQ mirror.
    public static let mirrorProgress = Self("dlq-mirror.progress")

    /// The circuit breaker's condition for a dependency (`database` or `kafka`).
    public static func workerCircuit(_ dependency: String) -> Self { dependency == "kafka" ? .workerKafka : .workerDatabase }
}
