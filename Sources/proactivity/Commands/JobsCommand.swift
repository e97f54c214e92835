import ArgumentParser
import Foundation
import ProactivityCore
import ProactivityStages

/// `proactivity jobs …`: the jobs and their upcoming runs, for operators (no database
/// or broker needed), and `backfill` (both needed).
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "The jobs, their upcoming runs (JOBS_FILE, ENGINE_TIMEZONE), and backfills of past slots.",
        subcommands: [List.self, Next.self, JobsRunCommand.self, JobsBackfillCommand.self])

    /// Loads the job catalog and the engine's time zone, or exits 2 listing every problem.
    static func catalog() async throws -> (jobs: JobCatalog, timeZone: TimeZone) {
        do {
            return try await EngineSettings.loadJobs()
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Every job: schedule, zone, window, shards, enabled, next run (UTC).")

        @Option(help: "The time to count the next run from (ISO 8601; default: now).") var from: String?

        func validate() throws {
            if let from, MessageCoding.parseTimestamp(from) == nil { throw ValidationError("--from must be an ISO 8601 time like 2027-03-14T00:00:00Z") }
        }

        func run() async throws {
            let start = from.flatMap(MessageCoding.parseTimestamp) ?? Date()
            var table = TextTable("JOB", "SCHEDULE", "ZONE", "WINDOW", "SHARDS", "ENABLED", "NEXT RUN (UTC)")
            for job in try await JobsCommand.catalog().jobs.jobs {
                let (schedule, zone) =
                    switch job.schedule {
                    case .interval(let seconds): ("every \(DurationText.format(seconds))", "UTC")
                    case .cron(let expression, let timeZone): ("cron \(expression)", timeZone.displayIdentifier)
                    }
                table.add(
                    job.name, schedule, zone, DurationText.format(job.windowSeconds), String(job.shards), job.enabled ? "yes" : "no",
                    job.enabled ? UpcomingSlots.utc(job.schedule.slot(after: start)) : "—")
            }
            print(table.text)
        }
    }

    struct Next: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "next",
            abstract: "The next slots of a job, a cron expression or an interval, in UTC and local time.",
            discussion: """
                Daylight-saving rules: a fixed local time in a spring-forward gap runs at the end \
                of the gap, a repeated one once (the first); a minute or hour field starting with * \
                follows elapsed time. Example: jobs next --cron "30 2 * * *" --timezone America/New_York \
                --from 2027-03-14T00:00:00Z --count 1
                """)

        @Argument(help: "A job of the catalog.") var job: String?
        @Option(help: "A cron expression instead of a job.") var cron: String?
        @Option(help: "The cron expression's time zone (default: ENGINE_TIMEZONE).") var timezone: String?
        @Option(help: "An interval (30s, 5m, 1h) instead of a job.") var every: String?
        @Option(help: "The time to count from (ISO 8601; default: now).") var from: String?
        @Option(help: "How many slots (1…1000).") var count = 5
        @Flag(help: "Print a JSON array of {\"slot\", \"local\"}.") var json = false

        func validate() throws {
            guard [job != nil, cron != nil, every != nil].filter({ $0 }).count == 1 else {
                throw ValidationError("name a JOB, or give --cron EXPR or --every DURATION (exactly one)")
            }
            if timezone != nil, cron == nil { throw ValidationError("--timezone goes with --cron") }
            if let timezone, TimeZone(identifier: timezone) == nil { throw ValidationError("--timezone '\(timezone)' is not a known time zone") }
            if let every, DurationText.seconds(every) == nil { throw ValidationError("--every must be a duration like 30s, 5m or 1h") }
            if let cron { _ = try CronExpression(cron) }
            if let from, MessageCoding.parseTimestamp(from) == nil { throw ValidationError("--from must be an ISO 8601 time like 2027-03-14T00:00:00Z") }
            guard (1...1000).contains(count) else { throw ValidationError("--count must be 1…1000") }
        }

        func run() async throws {
            let schedule: Schedule
            if let cron {
                let zone: TimeZone
                if let timezone, let given = TimeZone(identifier: timezone) {
                    zone = given
                } else {
                    zone = try await JobsCommand.catalog().timeZone
                }
                schedule = .cron(try CronExpression(cron), timeZone: zone)
            } else if let every, let seconds = DurationText.seconds(every) {
                schedule = .interval(seconds: seconds)
            } else {
                guard let name = job, let found = try await JobsCommand.catalog().jobs.job(named: name) else {
                    throw ValidationError("no job named '\(job ?? "")' (see: proactivity jobs list)")
                }
                schedule = found.schedule
            }
            let zone = if case .cron(_, let timeZone) = schedule { timeZone } else { TimeZone.gmt }
            let slots = UpcomingSlots.next(count, of: schedule, after: from.flatMap(MessageCoding.parseTimestamp) ?? Date())
            if json {
                let items = slots.map { #"{"slot": "\#(UpcomingSlots.utc($0))", "local": "\#(UpcomingSlots.local($0, in: zone))"}"# }
                print("[" + items.joined(separator: ", ") + "]")
            } else {
                var table = TextTable("SLOT (UTC)", "LOCAL (\(zone.displayIdentifier))")
                for slot in slots { table.add(UpcomingSlots.utc(slot), UpcomingSlots.local(slot, in: zone)) }
                print(table.text)
            }
        }
    }
}

/// Upcoming slots and how they are written.
enum UpcomingSlots {
    /// The `count` slots after `start`.
    static func next(_ count: Int, of schedule: Schedule, after start: Date) -> [Date] {
        var cursor = start
        var slots: [Date] = []
        while slots.count < count {
            cursor = schedule.slot(after: cursor)
            guard cursor != .distantFuture else { break }
            slots.append(cursor)
        }
        return slots
    }

    /// `2027-03-14T07:00:00Z`.
    static func utc(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    /// `2027-03-14T03:00:00-04:00`.
    static func local(_ date: Date, in zone: TimeZone) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone))
    }
}
