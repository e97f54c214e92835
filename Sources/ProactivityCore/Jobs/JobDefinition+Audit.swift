import Foundation

extension JobDefinition {
    /// What a run of this job depends on, as recorded with each audit row (`explain`
    /// shows it): everything that decides which items a tick alerts, and how. `enabled`
    /// is left out: a disabled job has no runs.
    public var auditRecord: [String: JSONValue] {
        [
            "name": .string(name), "schedule": .string(schedule.description), "window_seconds": .number(Double(windowSeconds)),
            "catch_up_grace_seconds": .number(Double(catchUpGraceSeconds)), "shards": .number(Double(shards)),
            "severity": .string(severity), "statement_timeout_seconds": .number(Double(statementTimeoutSeconds)), "sql": .string(sql),
        ]
    }
}
