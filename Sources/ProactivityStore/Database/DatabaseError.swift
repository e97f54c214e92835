import PostgresNIO
import ProactivityCore

/// Turns database errors into text a person can act on, and into the signals that
/// ``FailureClassifier`` classifies.
public enum DatabaseError {
    /// PostgreSQL's message and SQLSTATE when the server answered, otherwise the
    /// client-side reason. (`PSQLError`'s own description is deliberately vague.)
    public static func describe(_ error: Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            return describe(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + state
        }
        return "\(error.code)"
    }

    /// What identifies a database failure, for ``FailureClassifier``: the SQLSTATE when
    /// the server answered, otherwise unreachable (no connection, refused, lost, timed
    /// out); a job query without its standard columns.
    /// - Parameter inJobQuery: the failure came from running a job's own SQL.
    public static func signal(_ error: Error, inJobQuery: Bool = false) -> FailureSignal {
        if let transaction = error as? PostgresTransactionError {
            return signal(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error, inJobQuery: inJobQuery)
        }
        if error is JobQueryError { return .jobQueryShape }
        // Read in pages, a query can outlast its statement timeout over all of them:
        // the same as PostgreSQL's own statement timeout (SQLSTATE 57014).
        if error is JobQueryTimeout { return .sqlState("57014", inJobQuery: inJobQuery) }
        guard let error = error as? PSQLError else { return .other }
        guard let state = error.serverInfo?[.sqlState] else { return .databaseUnreachable }
        return .sqlState(state, inJobQuery: inJobQuery)
    }

    /// Whether `error` came from the database: a statement it refused, or a connection
    /// that could not be made or was lost (also inside a transaction).
    public static func isDatabaseFailure(_ error: Error) -> Bool {
        if let transaction = error as? PostgresTransactionError {
            return isDatabaseFailure(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        }
        return error is PSQLError
    }

    /// The SQLSTATE of a statement the server refused, also inside a transaction.
    public static func sqlState(of error: Error) -> String? {
        if let transaction = error as? PostgresTransactionError {
            return sqlState(of: transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// How a database failure is handled (``FailureClassifier``).
    public static func kind(of error: Error, inJobQuery: Bool = false) -> FailureKind {
        FailureClassifier.classify(signal(error, inJobQuery: inJobQuery))
    }
}
