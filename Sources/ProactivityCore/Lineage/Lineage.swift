import Foundation

/// What the engine remembers of an alert's or an item's way through the pipeline, as
/// `proactivity explain` shows it (read from the ledger, completed ticks, the audit
/// trail, manual runs, backfills and the DLQ mirror).
public enum Lineage {
    /// A ledger entry: the alert for (job, item, due time) was published by `tickId`.
    public struct LedgerEntry: Sendable, Hashable, Codable {
        public var jobName: String
        public var itemId: String
        public var dueAt: Date
        public var tickId: String
        public var publishedAt: Date

        public init(jobName: String, itemId: String, dueAt: Date, tickId: String, publishedAt: Date) {
            self.jobName = jobName
            self.itemId = itemId
            self.dueAt = dueAt
            self.tickId = tickId
            self.publishedAt = publishedAt
        }

        /// The alert's id, as on the alert (`job:item@due`).
        public var alertId: String { AlertID(jobName: jobName, itemId: itemId, dueAt: dueAt).description }
    }

    /// Everything remembered of one tick.
    public struct TickRecord: Sendable, Hashable, Codable {
        public var tickId: String
        /// Set once the tick ran to its end.
        public var completion: Completion?
        /// Its runs (attempts) from the audit trail, oldest first.
        public var runs: [Run] = []
        /// Its DLQ rows, oldest first.
        public var deadLetters: [DeadLetterEntry] = []
        /// The operator's request, for a manual run or a backfill.
        public var request: Request?

        public init(tickId: String) { self.tickId = tickId }

        public struct Completion: Sendable, Hashable, Codable {
            public var slot: Date
            public var alerts: Int
            public var completedAt: Date
            public init(slot: Date, alerts: Int, completedAt: Date) {
                self.slot = slot
                self.alerts = alerts
                self.completedAt = completedAt
            }
        }

        public struct Run: Sendable, Hashable, Codable {
            public var status: String
            public var startedAt: Date
            public var finishedAt: Date?
            public var runtimeSeconds: Double?
            /// The audit row's summary: counts, window, shard, error class.
            public var payload: [String: JSONValue]
            public var errorMessage: String?
            public var correlationId: String?
            /// The version of the job's definition it ran with.
            public var definitionDigest: String?

            public init(
                status: String, startedAt: Date, finishedAt: Date?, runtimeSeconds: Double?, payload: [String: JSONValue],
                errorMessage: String?, correlationId: String?, definitionDigest: String?
            ) {
                self.status = status
                self.startedAt = startedAt
                self.finishedAt = finishedAt
                self.runtimeSeconds = runtimeSeconds
                self.payload = payload
                self.errorMessage = errorMessage
                self.correlationId = correlationId
                self.definitionDigest = definitionDigest
            }
        }

        public struct DeadLetterEntry: Sendable, Hashable, Codable {
            public var id: Int64
            public var errorClass: String?
            public var errorMessage: String?
            public var createdAt: Date
            /// When it was last replayed; `nil`: never.
            public var replayedAt: Date?
            public var replays: Int
            public init(id: Int64, errorClass: String?, errorMessage: String?, createdAt: Date, replayedAt: Date?, replays: Int) {
                self.id = id
                self.errorClass = errorClass
                self.errorMessage = errorMessage
                self.createdAt = createdAt
                self.replayedAt = replayedAt
                self.replays = replays
            }
        }

        /// Who asked for a tick that is not the schedule's.
        public struct Request: Sendable, Hashable, Codable {
            /// `manual run` or `backfill`.
            public var kind: String
            public var by: String
            public var host: String
            public var via: String
            public var reason: String?
            public var at: Date
            public init(kind: String, by: String, host: String, via: String, reason: String?, at: Date) {
                self.kind = kind
                self.by = by
                self.host = host
                self.via = via
                self.reason = reason
                self.at = at
            }
        }

        /// The run that completed it, if any.
        public var successfulRun: Run? { runs.last { $0.status == "success" } }
    }

    /// A version of a job's definition (``JobDefinition/auditRecord``).
    public struct DefinitionRecord: Sendable, Hashable, Codable {
        public var digest: String
        public var definition: [String: JSONValue]
        public var firstSeenAt: Date
        public init(digest: String, definition: [String: JSONValue], firstSeenAt: Date) {
            self.digest = digest
            self.definition = definition
            self.firstSeenAt = firstSeenAt
        }
    }

    /// The slots of `job` whose window covers `due`: each slot S covers
    /// `[S - catchUpGrace, S + window)`, so S lies in `(due - window, due + catchUpGrace]`.
    /// At most `limit` of them, earliest first.
    public static func coveringSlots(of due: Date, job: JobDefinition, limit: Int = 500) -> [Date] {
        var slots: [Date] = []
        let last = due.addingTimeInterval(Double(job.catchUpGraceSeconds))
        var slot = job.schedule.slot(after: due.addingTimeInterval(-Double(job.windowSeconds)))
        while slot <= last, slots.count < limit {
            slots.append(slot)
            slot = job.schedule.slot(after: slot)
        }
        return slots
    }
}
