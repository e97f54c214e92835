/// What a failure means for the message at hand: the one decision every stage makes.
public enum FailureKind: Sendable, Equatable {
    /// A dependency cannot be reached: wait for it (the circuit breaker), however long,
    /// without spending the retry budget or failing the message.
    case unavailable
    /// It answered, but a retry may succeed: retried within the budget, then sent to the
    /// DLQ as `transient` (where automatic replay can pick it up).
    case transient
    /// Retrying cannot help: sent to the DLQ at once.
    case permanent(FailureClass)
}

/// A failure, described by what identifies it (no PostgresNIO or librdkafka types, so
/// the rules below are unit-tested in milliseconds).
public enum FailureSignal: Sendable, Equatable {
    /// PostgreSQL answered with this SQLSTATE; `inJobQuery`: while running a job's own SQL.
    case sqlState(String, inJobQuery: Bool)
    /// PostgreSQL could not be reached: no connection, refused, lost, no answer in time.
    case databaseUnreachable
    /// A job's query does not return the standard columns.
    case jobQueryShape
    /// librdkafka reported this error (its symbolic name, e.g. `MSG_SIZE_TOO_LARGE`);
    /// `retriable`: librdkafka says a retry may succeed (broker down, timed out).
    case kafka(name: String, retriable: Bool)
    /// Anything else.
    case other
}

/// Failure classification in one place, for every stage: SQLSTATE classes and
/// librdkafka codes to ``FailureKind``.
///
/// | signal | kind |
/// | --- | --- |
/// | database unreachable; SQLSTATE class 08, 57P01–57P03 (shutting down, starting up) | unavailable |
/// | SQLSTATE class 40 (serialization, deadlock), 53 (resources), 55P03 (lock not available), other 57 (statement timeout, cancelled), 58 (system) | transient |
/// | any other SQLSTATE in a job's own query; a query without the standard columns | permanent `job_sql` |
/// | any other SQLSTATE elsewhere; anything unknown | transient |
/// | Kafka `MSG_SIZE_TOO_LARGE` | permanent `message_too_large` |
/// | Kafka retriable (broker down, timed out, cancelled by a client renewal) | unavailable |
/// | Kafka: the cluster lost or is moving what the message needs (topic or partition unknown, no leader, producer id or sequence unknown to the broker) | unavailable |
/// | Kafka other | transient |
public enum FailureClassifier {
    public static func classify(_ signal: FailureSignal) -> FailureKind {
        switch signal {
        case .databaseUnreachable:
            return .unavailable
        case .sqlState(let state, let inJobQuery):
            if state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) { return .unavailable }
            if ["40", "53", "57", "58"].contains(String(state.prefix(2))) || state == "55P03" { return .transient }
            return inJobQuery ? .permanent(.jobSQL) : .transient
        case .jobQueryShape:
            return .permanent(.jobSQL)
        case .kafka(let name, let retriable):
            if name == "MSG_SIZE_TOO_LARGE" { return .permanent(.messageTooLarge) }
            return retriable || clusterStateLost.contains(name) ? .unavailable : .transient
        case .other:
            return .transient
        }
    }

    /// Kafka errors of a cluster that lost (a broker restarted empty, a topic deleted) or
    /// is moving (a leader election) what the message needs: waiting helps, the message
    /// is not at fault. The producer renews its client after the fatal ones.
    static let clusterStateLost: Set<String> = [
        "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_TOPIC", "_UNKNOWN_PARTITION", "LEADER_NOT_AVAILABLE", "NOT_LEADER_OR_FOLLOWER",
        "OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_EPOCH", "_FATAL",
    ]
}
