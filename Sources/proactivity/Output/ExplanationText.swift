import Foundation
import ProactivityCore
import ProactivityStages

/// `proactivity explain` as text for a person.
enum ExplanationText {
    static func alert(_ alert: Explainer.AlertView) -> String {
        var lines = [
            "alert \(alert.alertId)",
            "  job \(alert.jobName), item \(alert.itemId), due \(Timestamp.format(alert.dueAt))",
            "  published \(Timestamp.format(alert.publishedAt)) (recorded in the ledger)",
        ]
        if let row = alert.currentRow {
            lines.append("  user \(row.userId)\(row.title.map { " (\"\($0)\")" } ?? "") as the job's SQL returns the item now")
        } else {
            lines.append("  user: the job's SQL no longer returns the item (the ledger keeps no user)")
        }
        lines += tick(alert.tick, indent: "  ")
        if let definition = alert.definition {
            lines.append("  definition \(definition.digest.prefix(12)) (first run \(Timestamp.format(definition.firstSeenAt))): \(summary(definition.definition))")
            if case .string(let sql)? = definition.definition["sql"] {
                lines.append("    sql: " + sql.split(whereSeparator: \.isNewline).joined(separator: "\n         "))
            }
        } else {
            lines.append("  definition: not recorded (the tick ran before migration 0014)")
        }
        return lines.joined(separator: "\n")
    }

    static func item(_ explanation: Explainer.ItemExplanation) -> String {
        var lines = [
            "item \(explanation.itemId) of job \(explanation.jobName)\(explanation.dueAt.map { ", due \(Timestamp.format($0))" } ?? "")",
            "  \(explanation.summary)",
        ]
        for alert in explanation.alerts {
            lines.append("")
            lines += self.alert(alert).split(separator: "\n").map { "  " + $0 }
        }
        if !explanation.coveringTicks.isEmpty {
            lines.append("  ticks whose window covers the due time:")
            for tick in explanation.coveringTicks { lines += self.tick(tick, indent: "    ") }
        }
        if explanation.dueAt != nil && explanation.alerts.isEmpty {
            if let row = explanation.currentRow {
                lines.append("  the job's SQL returns the item now for that due time: user \(row.userId)")
            } else {
                lines.append("  the job's SQL does not return the item now for that due time")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func tick(_ tick: Explainer.TickView, indent: String) -> [String] {
        var where_: [String] = []
        if let slot = tick.slot { where_.append("slot \(Timestamp.format(slot))") }
        if let start = tick.windowStart, let end = tick.windowEnd { where_.append("window \(Timestamp.format(start)) – \(Timestamp.format(end))") }
        if let shard = tick.shard { where_.append("shard \(shard)") }
        if let trace = tick.traceId { where_.append("trace \(trace)") }
        var lines = ["\(indent)tick \(tick.tickId) (\(([tick.kind] + where_).joined(separator: ", "))): \(tick.state), \(tick.detail)"]
        if let request = tick.record.request {
            lines.append(
                "\(indent)  asked for by \(request.by) on \(request.host) via \(request.via) at \(Timestamp.format(request.at))\(request.reason.map { ": \($0)" } ?? "")")
        }
        for (index, run) in tick.record.runs.enumerated() {
            let runtime = run.runtimeSeconds.map { String(format: " in %.3f s", $0) } ?? ""
            lines.append("\(indent)  attempt \(index + 1): \(run.status) at \(Timestamp.format(run.startedAt))\(runtime)\(run.errorMessage.map { ": \($0)" } ?? "")")
        }
        for letter in tick.record.deadLetters {
            let replay = letter.replayedAt.map { "replayed \(letter.replays) time(s), last at \(Timestamp.format($0))" } ?? "not replayed"
            lines.append("\(indent)  DLQ row \(letter.id) (\(letter.errorClass ?? "unknown"), \(Timestamp.format(letter.createdAt))): \(replay)")
        }
        return lines
    }

    static func summary(_ definition: [String: JSONValue]) -> String {
        func text(_ key: String) -> String {
            switch definition[key] {
            case .string(let value)?: value
            case .number(let value)?: String(Int(value))
            default: "?"
            }
        }
        return "\(text("schedule")), window \(text("window_seconds")) s, grace \(text("catch_up_grace_seconds")) s, \(text("shards")) shard(s), timeout \(text("statement_timeout_seconds")) s"
    }
}
