import PostgresNIO

/// No answer within a deadline.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "no answer within \(limit)" }
}

/// Runs `body`, giving up after `limit` (a pool waiting for a connection to a stopped
/// server can wait far longer than a health check may).
public func withDeadline(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        try await group.next()
    }
}

extension PostgresClient {
    /// Asks the server for `SELECT 1`; throws when it does not answer within `limit`.
    /// A pool whose server is down or refuses the login keeps retrying and would wait
    /// forever; this gives up.
    public func ping(within limit: Duration) async throws {
        try await withDeadline(limit) { try await self.query("SELECT 1") }
    }

    /// Why the server does not answer a ping within `limit`, or `nil` when it does.
    public func unreachableReason(within limit: Duration) async -> String? {
        do {
            try await ping(within: limit)
            return nil
        } catch {
            return "database unreachable: \(DatabaseError.describe(error))"
        }
    }
}
