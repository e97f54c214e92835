/// Why a message could not be processed. Permanent classes go to the DLQ at once;
/// transient ones are retried in place.
public enum FailureClass: String, Sendable, CaseIterable, Codable {
    /// The value is not JSON, or not a message of the expected type.
    case undecodable
    /// A `schema_version` this build does not read.
    case unknownSchemaVersion = "unknown_schema_version"
    /// A tick for a job this worker does not know.
    case unknownJob = "unknown_job"
    /// A tick that is not one of its job's: a malformed id, a slot off the schedule or
    /// too far ahead, another shard count.
    case invalidTick = "invalid_tick"
    /// A tick whose window starts before what the alert ledger remembers
    /// (`LEDGER_RETENTION`) and that no operator asked to run as a backfill.
    case staleTick = "stale_tick"
    /// The job's SQL failed (syntax, missing table, wrong columns…).
    case jobSQL = "job_sql"
    /// A message larger than the broker accepts.
    case messageTooLarge = "message_too_large"
    /// The database or broker was unavailable (retried; in the DLQ only after replay
    /// budgets run out).
    case transient

    /// Whether a later retry may succeed without anyone changing anything.
    public var isTransient: Bool { self == .transient }
}
