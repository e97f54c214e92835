import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// An operator's permission to run a tick older than the alert ledger remembers
/// (`worker_backfills`, migration 0011), kept as its audit record.
public struct Backfill: Sendable, Equatable {
    public var tickId: String
    public var jobName: String
    public var slot: Date
    /// The operating-system user who asked.
    public var requestedBy: String
    /// The host the request came from.
    public var requestedHost: String
    public var reason: String

    public init(tickId: String, jobName: String, slot: Date, requestedBy: String, requestedHost: String, reason: String) {
        self.tickId = tickId
        self.jobName = jobName
        self.slot = slot
        self.requestedBy = requestedBy
        self.requestedHost = requestedHost
        self.reason = reason
    }
}

/// Reads and writes `worker_backfills`.
public struct BackfillStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Records a backfill; asking again for the same tick keeps the first record.
    /// - Returns: whether this call recorded it (`false`: it was recorded before).
    @discardableResult
    public func record(_ backfill: Backfill) async throws -> Bool {
        let rows = try await client.query(
            """
            INSERT INTO worker_backfills (tick_id, job_name, slot, requested_by, requested_host, reason)
            VALUES (\(backfill.tickId), \(backfill.jobName), \(backfill.slot), \(backfill.requestedBy), \(backfill.requestedHost),
                \(backfill.reason))
            ON CONFLICT (tick_id) DO NOTHING RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Whether an operator asked to run this tick as a backfill.
    public func isRequested(tickId: String) async throws -> Bool {
        for try await _ in try await client.query("SELECT 1 FROM worker_backfills WHERE tick_id = \(tickId)", logger: logger) { return true }
        return false
    }
}
