import Foundation

/// The jobs the engine runs: the built-ins, overridden and extended by a jobs file.
///
/// A jobs file is JSON:
/// ```json
/// {"jobs": [
///   {"name": "daily-brief", "enabled": true, "cron": "30 7 * * *", "timezone": "Europe/Lisbon"},
///   {"name": "invoice-due", "every": "15m", "window": "2h", "shards": 2,
///    "sql": "SELECT id::text AS item_id, user_id, title, due_at FROM invoices WHERE due_at >= :window_start AND due_at < :window_end"}
/// ]}
/// ```
/// An entry named like a built-in changes only the fields it gives; a new job needs a
/// schedule (`every` or `cron`), a `window` and `sql`. Other fields: `catch_up_grace`,
/// `shards`, `enabled`, `severity`, `statement_timeout` (default 5m), `timezone` (cron
/// only; default: the engine's zone). Unknown fields and a name given twice are refused.
public struct JobCatalog: Sendable {
    /// Every job, enabled or not, by name order.
    public let jobs: [JobDefinition]

    /// The enabled jobs.
    public var enabled: [JobDefinition] { jobs.filter(\.enabled) }

    /// The job with this name.
    public func job(named name: String) -> JobDefinition? { jobs.first { $0.name == name } }

    /// A catalog that is invalid, with every problem found.
    public struct InvalidCatalog: Error, CustomStringConvertible {
        public let problems: [String]
        public var description: String { "invalid job definitions:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
    }

    /// The built-in jobs with the built-in `daily-brief` in `timeZone`.
    public init(builtInsIn timeZone: TimeZone = .gmt) {
        jobs = BuiltInJobs.all.map { job in
            var job = job
            if case .cron(let expression, _) = job.schedule { job.schedule = .cron(expression, timeZone: timeZone) }
            return job
        }
    }

    /// Validates a list of jobs.
    /// - Throws: ``InvalidCatalog`` listing every problem.
    public init(jobs: [JobDefinition]) throws(InvalidCatalog) {
        let problems = Self.problems(of: jobs)
        guard problems.isEmpty else { throw InvalidCatalog(problems: problems) }
        self.jobs = jobs.sorted { $0.name < $1.name }
    }

    private static func problems(of jobs: [JobDefinition]) -> [String] {
        var problems = jobs.flatMap { $0.problems() }
        let names = jobs.map(\.name)
        for name in Set(names).sorted() where names.filter({ $0 == name }).count > 1 {
            problems.append("job '\(name)' is defined twice")
        }
        return problems
    }

    /// The built-ins merged with a jobs file's JSON.
    /// - Throws: ``InvalidCatalog`` listing every problem (JSON, fields, SQL placeholders).
    public init(builtInsIn timeZone: TimeZone = .gmt, overlay json: Data) throws(InvalidCatalog) {
        let file: JobsFile
        do {
            file = try JSONDecoder().decode(JobsFile.self, from: json)
        } catch {
            throw InvalidCatalog(problems: ["the jobs file is not valid: \(Self.describe(error))"])
        }
        var jobs = JobCatalog(builtInsIn: timeZone).jobs
        var problems = JobsFile.unknownFields(in: json)
        let names = file.jobs.map(\.name)
        for name in Set(names).sorted() where names.filter({ $0 == name }).count > 1 {
            problems.append("job '\(name)' appears more than once in the jobs file")
        }
        for entry in file.jobs {
            let base = jobs.firstIndex { $0.name == entry.name }
            switch entry.apply(to: base.map { jobs[$0] }, defaultTimeZone: timeZone) {
            case .success(let job):
                if let base { jobs[base] = job } else { jobs.append(job) }
            case .failure(let problem):
                problems.append(contentsOf: problem.problems)
            }
        }
        problems += Self.problems(of: jobs)
        guard problems.isEmpty else { throw InvalidCatalog(problems: problems) }
        self.jobs = jobs.sorted { $0.name < $1.name }
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

/// The JSON shape of a jobs file.
private struct JobsFile: Decodable {
    var jobs: [Entry]

    /// The fields an entry may have.
    static let fields: Set<String> = [
        "name", "every", "cron", "timezone", "window", "catch_up_grace", "shards", "enabled", "severity", "statement_timeout", "sql",
    ]

    /// Every field the file has that nothing reads (a misspelt `shard` would otherwise
    /// be ignored in silence).
    static func unknownFields(in json: Data) -> [String] {
        guard let root = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return [] }
        var problems = root.keys.filter { $0 != "jobs" }.sorted().map { "unknown field '\($0)' at the top of the jobs file (only \"jobs\")" }
        for (index, entry) in (root["jobs"] as? [[String: Any]] ?? []).enumerated() {
            let label = (entry["name"] as? String).map { "job '\($0)'" } ?? "jobs[\(index)]"
            for field in entry.keys.sorted() where !fields.contains(field) {
                problems.append("\(label): unknown field '\(field)' (known: \(fields.sorted().joined(separator: ", ")))")
            }
        }
        return problems
    }

    struct Entry: Decodable {
        var name: String
        var every: String?
        var cron: String?
        var timezone: String?
        var window: String?
        var catch_up_grace: String?
        var shards: Int?
        var enabled: Bool?
        var severity: String?
        var statement_timeout: String?
        var sql: String?

        func apply(to base: JobDefinition?, defaultTimeZone: TimeZone) -> Result<JobDefinition, JobCatalog.InvalidCatalog> {
            var problems: [String] = []
            let label = "job '\(name)'"
            func seconds(_ text: String?, _ field: String) -> Int? {
                guard let text else { return nil }
                guard let value = DurationText.seconds(text) else {
                    problems.append("\(label): \(field) '\(text)' is not a duration from 1s to 100 years like 90s, 5m, 1h30m or 2d")
                    return nil
                }
                return value
            }
            var schedule = base?.schedule
            if every != nil, cron != nil { problems.append("\(label): give either every or cron, not both") }
            if let interval = seconds(every, "every") { schedule = .interval(seconds: interval) }
            let zone: TimeZone?
            if let timezone {
                zone = TimeZone(identifier: timezone)
                if zone == nil { problems.append("\(label): unknown time zone '\(timezone)'") }
            } else {
                zone = nil
            }
            if let cron {
                do {
                    schedule = .cron(try CronExpression(cron), timeZone: zone ?? defaultTimeZone)
                } catch {
                    problems.append("\(label): \(error)")
                }
            } else if let zone, case .cron(let expression, _) = schedule {
                schedule = .cron(expression, timeZone: zone)
            }
            let window = seconds(window, "window") ?? base?.windowSeconds
            let grace: Int? = catch_up_grace == "0" ? 0 : seconds(catch_up_grace, "catch_up_grace")
            let sql = sql ?? base?.sql
            let statementTimeout = seconds(statement_timeout, "statement_timeout")
            if schedule == nil { problems.append("\(label): needs a schedule (every or cron)") }
            if window == nil { problems.append("\(label): needs a window") }
            if sql == nil { problems.append("\(label): needs sql") }
            guard problems.isEmpty, let schedule, let window, let sql else {
                return .failure(JobCatalog.InvalidCatalog(problems: problems))
            }
            return .success(
                JobDefinition(
                    name: name, schedule: schedule, windowSeconds: window,
                    catchUpGraceSeconds: grace ?? base?.catchUpGraceSeconds ?? 1800,
                    shards: shards ?? base?.shards ?? 1, enabled: enabled ?? base?.enabled ?? true,
                    severity: severity ?? base?.severity ?? "info",
                    statementTimeoutSeconds: statementTimeout ?? base?.statementTimeoutSeconds ?? 300, sql: sql))
        }
    }
}
