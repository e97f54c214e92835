import Foundation

/// A reminder job: when it runs, which time window each run covers, and the SQL that
/// finds the items due in that window.
///
/// The SQL receives the window as `:window_start` and `:window_end` (bound parameters,
/// timestamptz) and returns the standard columns `item_id`, `user_id`, `title`,
/// `due_at` and optionally `payload` (`json`, `jsonb`, or text holding JSON). A run for slot S covers items due in
/// `[S - catchUpGrace, S + window)`; items already alerted are skipped, so the grace
/// only brings in items missed while the engine was down (they are marked late).
public struct JobDefinition: Sendable, Hashable {
    /// Unique name, e.g. `event-reminder` (letters, digits, `-`, `_`, `.`).
    public var name: String
    /// When ticks are published.
    public var schedule: Schedule
    /// Length of the look-ahead window, in seconds.
    public var windowSeconds: Int
    /// How far before the slot a run still alerts items missed during downtime.
    public var catchUpGraceSeconds: Int
    /// Ticks per slot; each covers the users whose id hashes to its shard.
    public var shards: Int
    /// Disabled jobs publish no ticks.
    public var enabled: Bool
    /// Severity carried by the job's alerts and logs (`info`, `warning`, `critical`).
    public var severity: String
    /// How long the job's query may run (PostgreSQL `statement_timeout`), streaming its
    /// whole window included; past it the run fails as transient and is retried.
    public var statementTimeoutSeconds: Int
    /// The reminder query.
    public var sql: String

    /// Creates a job; call ``validate()`` before use.
    public init(
        name: String, schedule: Schedule, windowSeconds: Int, catchUpGraceSeconds: Int = 1800, shards: Int = 1,
        enabled: Bool = true, severity: String = "info", statementTimeoutSeconds: Int = 300, sql: String
    ) {
        self.name = name
        self.schedule = schedule
        self.windowSeconds = windowSeconds
        self.catchUpGraceSeconds = catchUpGraceSeconds
        self.shards = shards
        self.enabled = enabled
        self.severity = severity
        self.statementTimeoutSeconds = statementTimeoutSeconds
        self.sql = sql
    }

    /// Every problem with this definition, in words; empty when it is valid.
    public func problems() -> [String] {
        var problems: [String] = []
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        if name.isEmpty || name.unicodeScalars.contains(where: { !allowed.contains($0) }) {
            problems.append("job name '\(name)' must be letters, digits, '-', '_' or '.'")
        }
        let label = "job '\(name)'"
        if windowSeconds <= 0 { problems.append("\(label): window must be positive") }
        if catchUpGraceSeconds < 0 { problems.append("\(label): catch_up_grace must not be negative") }
        if !(1...256).contains(shards) { problems.append("\(label): shards must be 1…256") }
        if !["info", "warning", "critical"].contains(severity) {
            problems.append("\(label): severity must be info, warning or critical")
        }
        for placeholder in [":window_start", ":window_end"] where !sql.contains(placeholder) {
            problems.append("\(label): sql must use \(placeholder)")
        }
        if case .interval(let seconds) = schedule, seconds <= 0 {
            problems.append("\(label): the interval must be positive")
        }
        if case .cron = schedule, schedule.slot(after: Date()) == .distantFuture {
            problems.append("\(label): the cron expression never fires")
        }
        return problems
    }
}
