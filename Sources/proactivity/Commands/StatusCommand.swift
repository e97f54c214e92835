import ArgumentParser
import CommandLineSupport
import Foundation
import ProactivityCore
import ProactivityStages
import ProactivityStore

/// `proactivity status`: the engine at a glance, from the database and the broker.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each job's last runs, the consumer lag of the worker and DLQ-mirror groups, and the DLQ backlog (parked rows too).",
        discussion: "Exits 1 when the database or the broker could not be read (what could be read is still shown).")

    @OptionGroup var engine: EngineOptions
    @Option(help: "The period run and failure counts cover, e.g. 24h or 7d.") var period = "24h"
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard DurationText.seconds(period) != nil else { throw ValidationError("--period must be a duration like 24h or 7d, at most 100 years") }
    }

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.status")
        let since = Date().addingTimeInterval(-Double(DurationText.seconds(period) ?? 86_400))
        let (json, period) = (self.json, self.period)
        try await withDatabase(settings, logger: logger) { client in
            let report = await StatusReport.gather(settings: settings, database: client, since: since, logger: logger)
            print(json ? try jsonOutput(report) : Self.render(report, period: period))
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }

    static func render(_ report: StatusReport, period: String) -> String {
        var jobs = TextTable("JOB", "LAST RUN (UTC)", "STATUS", "RUNTIME", "RUNS \(period)", "FAILED \(period)", "LAST SUCCESS", "LAST ERROR")
        for job in report.jobs {
            jobs.add(
                job.jobName, MessageCoding.timestamp(job.lastRunAt), job.lastStatus,
                job.lastRuntimeSeconds.map { String(format: "%.2fs", $0) } ?? "-", String(job.runs), String(job.failures),
                job.lastSuccessAt.map(MessageCoding.timestamp) ?? "never", String((job.lastError ?? "").prefix(60)))
        }
        for name in report.neverRun { jobs.add(name, "never", "-", "-", "0", "0", "never", "") }

        var lag = TextTable("GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG")
        for group in report.lag {
            for partition in group.partitions {
                lag.add(
                    group.group, group.topic, String(partition.partition), partition.committed.map(String.init) ?? "none",
                    String(partition.end), String(partition.lag))
            }
            lag.add(group.group, group.topic, "total", "", "", String(group.total))
        }

        var backlog = TextTable("JOB", "ERROR CLASS", "UNPROCESSED", "PARKED", "OLDEST (UTC)")
        for group in report.deadLetters {
            backlog.add(group.jobName, group.errorClass, String(group.rows), String(group.parked), MessageCoding.timestamp(group.oldest))
        }
        let total = report.deadLetters.reduce(0) { $0 + $1.rows }
        let parked = report.deadLetters.reduce(0) { $0 + $1.parked }

        var sections = [
            "Jobs\n" + jobs.text,
            "Consumer lag\n" + (report.lag.isEmpty ? "(unavailable)" : lag.text),
            "DLQ backlog: \(total) unprocessed row\(total == 1 ? "" : "s"), \(parked) parked"
                + (parked == 0 ? "" : " (their automatic replays are spent: `proactivity dlq list --parked --group-by fingerprint`)")
                + (total == 0 ? "" : "\n" + backlog.text),
        ]
        if !report.problems.isEmpty { sections.append("Problems\n" + report.problems.map { "  - \($0)" }.joined(separator: "\n")) }
        return sections.joined(separator: "\n\n")
    }
}
