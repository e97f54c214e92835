import PostgresNIO

/// Turns database errors into text a person can act on, and tells transient failures
/// (worth retrying) from permanent ones.
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

    /// Whether retrying may succeed: lost or refused connections, timeouts, and the
    /// server's transient classes (08 connection, 40 rollback, 53 resources, 57 operator
    /// intervention, 58 system). SQL errors in a job's query are permanent.
    public static func isTransient(_ error: Error) -> Bool {
        if let transaction = error as? PostgresTransactionError {
            return isTransient(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        }
        if error is JobQueryError { return false }
        guard let error = error as? PSQLError else { return true }
        if let state = error.serverInfo?[.sqlState] {
            return ["08", "40", "53", "57", "58"].contains(String(state.prefix(2)))
        }
        return true
    }

    /// Whether the database itself is unreachable (no connection, refused, lost, the
    /// server shutting down or starting up), as opposed to a statement that failed on a
    /// server that answered. Callers wait for an unreachable database without spending a
    /// retry budget (a circuit breaker) rather than failing messages.
    public static func isUnavailable(_ error: Error) -> Bool {
        if let transaction = error as? PostgresTransactionError {
            return isUnavailable(transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? error)
        }
        guard let error = error as? PSQLError else { return false }
        guard let state = error.serverInfo?[.sqlState] else { return true }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
    }
}
