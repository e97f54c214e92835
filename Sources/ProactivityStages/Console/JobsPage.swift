import Foundation
import Hummingbird
import Logging
import Observability
import ProactivityCore
import ProactivityStore

/// `GET /console/jobs`: every job of the catalog with its schedule, time zone, window,
/// shards, whether it is enabled, its last runs, its next slots and failures in the last
/// 24 h, and a "run now" button (`POST /console/jobs/run`: ``ManualRunner``, audited
/// with channel `http` and the peer as host). The consumer groups' lag asks the broker,
/// which takes a while: `?lag=true` shows it (asked at most every 10 s:
/// ``ConsumerLagLookup``).
extension ConsoleRoutes {
    static let runsShown = 5
    static let slotsShown = 3

    func jobs(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        let fields = try FormFields.query(of: request, known: ["lag"])
        let showLag = try fields.value("lag") == "true"
        let now = Date()
        let failures = Dictionary(
            try await events.summaries(since: now.addingTimeInterval(-86_400)).map { ($0.jobName, $0.failures) }, uniquingKeysWith: { a, _ in a })
        let runs = try await events.recentRuns(perJob: Self.runsShown)
        let lag = showLag ? await self.lag.answer() : nil
        let csrf = try csrf(request)
        return ConsoleLayout.page("Jobs", section: .jobs, csrf: csrf) {
            for job in catalog.jobs {
                el("section", .class("panel job"), .id("job-\(job.name)")) {
                    el("h2") { job.name }
                    el("dl") {
                        Self.pair("schedule") { job.schedule.description }
                        Self.pair("time zone") { Self.timeZone(job.schedule) }
                        Self.pair("window") { DurationText.format(job.windowSeconds) }
                        Self.pair("shards") { "\(job.shards)" }
                        Self.pair("enabled") { job.enabled ? "yes" : "no" }
                        Self.pair("failures in 24 h") { "\(failures[job.name] ?? 0)" }
                        Self.pair("next slots") { Self.nextSlots(job.schedule, after: now).map(ConsoleLayout.time).joined(separator: ", ") }
                    }
                    if let jobRuns = runs[job.name], !jobRuns.isEmpty {
                        Self.runsTable(jobRuns)
                    } else {
                        el("p", .class("muted")) { "No runs in the audit trail." }
                    }
                    if job.enabled {
                        ConsoleLayout.form("/console/jobs/run", csrf: csrf, .class("actions")) {
                            el("input", .type("hidden"), .name("job"), .value(job.name))
                            el("button", .type("submit")) { "Run \(job.name) now" }
                        }
                    }
                }
            }
            el("h2") { "Consumer lag" }
            if let lag {
                el("ul", .id("lag")) { for line in lag.lines { el("li") { line } } }
                el("p", .class("muted")) {
                    "Asked of the broker at \(lag.askedAt.formatted(Date.ISO8601FormatStyle().time(includingFractionalSeconds: false))) UTC "
                        + "(at most every 10 seconds)."
                }
            } else {
                el("p") { el("a", .href("/console/jobs", [("lag", "true")])) { "Ask the broker for the consumer groups' lag" } }
            }
        }
    }

    func runJob(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        let fields = try await FormFields.body(of: request, known: ["csrf", "job"])
        let job = try fields.value("job") ?? ""
        let run: ManualRunner.Run
        do {
            run = try await runner.run(job: job, shard: nil, requestedBy: "console", requestedHost: Self.peer(context), channel: .http)
        } catch let refusal as ManualRunner.Refusal {
            throw HTTPError(refusal.kind == .unknownJob ? .notFound : .conflict, message: refusal.description)
        }
        return ConsoleLayout.page("Run of \(job)", section: .jobs, csrf: try csrf(request), status: run.failed ? .serviceUnavailable : .ok) {
            el("p", .id("run")) { "Run \(run.runId.uuidString.lowercased()): \(run.ticks.count) tick(s)." }
            el("ul") {
                for (tick, failure) in run.ticks {
                    el("li") {
                        el("span", .class("mono")) { tick.tickId }
                        failure.map { ": not published (\($0)); run it again" } ?? ": published"
                    }
                }
            }
            el("p") { el("a", .href("/console/jobs")) { "Back to the jobs" } }
        }
    }

    /// The lag of the worker and mirror groups, one line each (or why it is unknown).
    static func consumerLag(settings: EngineSettings, logger: Logger) async -> [String] {
        var lines: [String] = []
        for (group, topic) in [(settings.workerGroupID, settings.ticksTopic), (settings.mirrorGroupID, settings.dlqTopic)] {
            do {
                let lag = try await StatusReport.lag(of: group, on: topic, kafka: settings.kafka, timeout: .seconds(5), logger: logger)
                lines.append("\(group) on \(topic): \(lag.total) message(s) behind")
            } catch {
                lines.append("\(group) on \(topic): unknown (\(error))")
            }
        }
        return lines
    }

    static func runsTable(_ runs: [RecentRun]) -> HTML {
        el("div", .class("scroll")) {
            el("table") {
                el("thead") {
                    el("tr") {
                        el("th") { "status" }
                        el("th") { "slot" }
                        el("th") { "started" }
                        el("th", .class("n")) { "runtime" }
                        el("th", .class("n")) { "alerts" }
                        el("th", .class("n")) { "late" }
                        el("th") { "error" }
                    }
                }
                el("tbody") {
                    for run in runs {
                        el("tr") {
                            el("td") { ConsoleLayout.badge(run.status) }
                            el("td") { ConsoleLayout.time(run.scheduledAt) }
                            el("td") { ConsoleLayout.time(run.startedAt) }
                            el("td", .class("n")) { run.runtimeSeconds.map { String(format: "%.3f s", $0) } ?? "—" }
                            el("td", .class("n")) { run.alerted.map(String.init) ?? "—" }
                            el("td", .class("n")) { run.late.map(String.init) ?? "—" }
                            el("td") { String((run.errorMessage ?? "").prefix(200)) }
                        }
                    }
                }
            }
        }
    }

    static func timeZone(_ schedule: Schedule) -> String {
        switch schedule {
        case .interval: "UTC (interval slots are aligned to 1970-01-01 UTC)"
        case .cron(_, let zone): zone.displayIdentifier
        }
    }

    static func nextSlots(_ schedule: Schedule, after now: Date) -> [Date] {
        var slots: [Date] = []
        var last = now
        for _ in 0..<slotsShown {
            last = schedule.slot(after: last)
            slots.append(last)
        }
        return slots
    }
}
