import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// One tick of an operator's manual run (`worker_manual_runs`, migration 0012), kept as
/// its audit record.
public struct ManualRun: Sendable, Equatable {
    /// Where the request came from.
    public enum Channel: String, Sendable {
        case cli, http
    }

    public var tickId: String
    public var runId: UUID
    public var jobName: String
    public var slot: Date
    public var shard: Int
    /// The operating-system user (CLI) or `http` (the API, whose token names no one).
    public var requestedBy: String
    /// The host of the CLI, or the peer address of the HTTP request.
    public var requestedHost: String
    public var channel: Channel

    public init(tick: TickMessage, runId: UUID, requestedBy: String, requestedHost: String, channel: Channel) {
        self.tickId = tick.tickId
        self.runId = runId
        self.jobName = tick.jobName
        self.slot = tick.slot
        self.shard = tick.shard
        self.requestedBy = requestedBy
        self.requestedHost = requestedHost
        self.channel = channel
    }
}

/// Writes `worker_manual_runs`.
public struct ManualRunStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Records the ticks of one run, all or none.
    public func record(_ runs: [ManualRun]) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for run in runs {
                try await connection.query(
                    """
                    INSERT INTO worker_manual_runs (tick_id, run_id, job_name, slot, shard, requested_by, requested_host, requested_via)
                    VALUES (\(run.tickId), \(run.runId), \(run.jobName), \(run.slot), \(run.shard), \(run.requestedBy),
                        \(run.requestedHost), \(run.channel.rawValue))
                    """, logger: logger)
            }
        }
    }
}
