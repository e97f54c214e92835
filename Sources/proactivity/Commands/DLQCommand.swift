import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore

/// `proactivity dlq …`: the operator's view of the dead-letter queue.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, inspect, replay and purge dead-letter rows (worker_dlq).",
        subcommands: [List.self, Show.self, Replay.self, Purge.self])

    /// The filters shared by `list` and `replay`.
    struct Filters: ParsableArguments {
        @Option(help: "Only rows of this job.") var job: String?
        @Option(help: "Only rows whose error message or class contains this text.") var error: String?
        @Option(help: "Only rows of this error class (transient, job_sql, undecodable, …).") var errorClass: String?
        @Option(help: "Only rows with this error fingerprint, exactly as `list --group-by fingerprint` shows it.") var fingerprint: String?
        @Option(help: "Only rows created at or after this ISO 8601 time.") var since: String?
        @Option(help: "Only rows created before this ISO 8601 time.") var until: String?
        @Flag(help: "Only rows already replayed.") var processed = false
        @Flag(help: "Only rows not replayed yet.") var unprocessed = false
        @Flag(help: "Only parked rows: transient failures that failed again after their last allowed automatic replay.") var parked = false
        @Option(help: "At most this many rows (list: 100 by default, or groups with --group-by; replay: every selected row by default).")
        var limit: Int?

        func validate() throws {
            for (name, value) in [("--since", since), ("--until", until)] where value != nil && MessageCoding.parseTimestamp(value!) == nil {
                throw ValidationError("\(name) must be an ISO 8601 time like 2026-11-25T10:00:00Z")
            }
            if processed && unprocessed { throw ValidationError("--processed and --unprocessed exclude each other") }
            if processed && parked { throw ValidationError("--processed and --parked exclude each other (a parked row is not replayed yet)") }
            if let fingerprint, fingerprint.isEmpty || fingerprint.unicodeScalars.count > ErrorFingerprint.maximumLength {
                throw ValidationError("--fingerprint must be 1 to \(ErrorFingerprint.maximumLength) characters, as `list --group-by fingerprint` shows it")
            }
            if let limit, !(1...100_000).contains(limit) { throw ValidationError("--limit must be 1…100000") }
            if let errorClass, FailureClass(rawValue: errorClass) == nil {
                throw ValidationError("--error-class must be one of \(FailureClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func filter(ids: [Int64]? = nil) -> DeadLetterFilter {
            DeadLetterFilter(
                ids: ids, job: job, errorText: error, errorClass: errorClass, since: since.flatMap(MessageCoding.parseTimestamp),
                until: until.flatMap(MessageCoding.parseTimestamp), processed: processed ? true : unprocessed ? false : nil,
                parked: parked ? true : nil, fingerprint: fingerprint, limit: limit ?? 100)
        }

        /// Whether the filters select rows by anything (replay needs that, or --all).
        var selectSomething: Bool {
            job != nil || error != nil || errorClass != nil || fingerprint != nil || since != nil || until != nil || parked
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List dead-letter rows, oldest first, or count them by class, job or error fingerprint.",
            discussion: """
                --group-by prints one line per group, largest first (at most --limit groups): its rows, how many are \
                pending, parked and replayed, and when its first and last rows were written. A fingerprint is the error \
                message with numbers, ids, timestamps and quoted values masked; select its rows with --fingerprint.
                """)
        @OptionGroup var engine: EngineOptions
        @OptionGroup var filters: Filters
        @Option(help: "Count rows per group instead: class, job or fingerprint.") var groupBy: DeadLetterGrouping?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.dlq")
            let (filter, json, groupBy) = (filters.filter(), json, groupBy)
            try await withDatabase(settings, logger: logger) { client in
                let store = DeadLetterStore(client: client, logger: logger)
                if let groupBy {
                    let (groups, total) = try await store.groups(filter, by: groupBy)
                    return print(json ? try jsonOutput(groups) : Self.render(groups, total: total, by: groupBy))
                }
                let rows = try await store.list(filter)
                if json { return print(try jsonOutput(rows)) }
                print("ID      CREATED                   JOB               CLASS                   RETRIES  STATE      ERROR")
                for row in rows {
                    let columns = [
                        String(row.id).padding(toLength: 7, withPad: " ", startingAt: 0),
                        MessageCoding.timestamp(row.createdAt).padding(toLength: 25, withPad: " ", startingAt: 0),
                        (row.jobName ?? "-").padding(toLength: 17, withPad: " ", startingAt: 0),
                        (row.errorClass ?? "-").padding(toLength: 23, withPad: " ", startingAt: 0),
                        String(row.retryCount).padding(toLength: 8, withPad: " ", startingAt: 0),
                        row.state.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0),
                        String((row.errorMessage ?? "").prefix(60)),
                    ]
                    print(columns.joined(separator: " "))
                }
                print("\(rows.count) row(s)")
            }
        }

        static func render(_ groups: [DeadLetterGroup], total: Int, by grouping: DeadLetterGrouping) -> String {
            var table = TextTable("ROWS", "PENDING", "PARKED", "REPLAYED", "FIRST SEEN (UTC)", "LAST SEEN (UTC)", "EXAMPLE", grouping.rawValue.uppercased())
            for group in groups {
                table.add(
                    String(group.rows), String(group.pending), String(group.parked), String(group.replayed), MessageCoding.timestamp(group.firstSeen),
                    MessageCoding.timestamp(group.lastSeen), String(group.exampleId), group.key ?? "(none)")
            }
            let shown = groups.count < total ? "\(groups.count) of \(total) groups (raise --limit for more)" : "\(total) group(s)"
            return table.text + "\n" + shown
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print one dead-letter row in full (JSON).")
        @OptionGroup var engine: EngineOptions
        @Argument(help: "The row id.") var id: Int64

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.dlq")
            let id = self.id
            try await withDatabase(settings, logger: logger) { client in
                guard let row = try await DeadLetterStore(client: client, logger: logger).list(DeadLetterFilter(ids: [id], limit: 1)).first else {
                    FileHandle.standardError.write(Data("no DLQ row \(id)\n".utf8))
                    throw ExitCode(1)
                }
                print(try jsonOutput(row))
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Republish rows to their original topic (idempotent: replayed rows need --force).",
            discussion: """
                Name rows by id, or select them with the filters (--fingerprint F: a group of `list --group-by \
                fingerprint`; --parked: the parked rows) or --all. --rate paces a large replay so that it does not \
                flood the workers; progress lines go to standard error.
                """)
        @OptionGroup var engine: EngineOptions
        @OptionGroup var filters: Filters
        @Argument(help: "Row ids.") var ids: [Int64] = []
        @Flag(help: "Replay every row the filters select (required when no ids are given).") var all = false
        @Flag(help: "Replay rows that were replayed before.") var force = false
        @Flag(help: "Only say what would be replayed.") var dryRun = false
        @Option(help: "Republish at most this many rows a second (50/s, 30/m), so a large replay does not flood the workers.")
        var rate: String?

        func validate() throws {
            if ids.isEmpty && !all && !filters.selectSomething {
                throw ValidationError("name row ids, or select rows with --job/--error/--error-class/--fingerprint/--parked/--since/--until or --all")
            }
            if let rate, ReplayRate(rate) == nil {
                throw ValidationError("--rate must be like 50/s or 30/m (at most 100000/s, at least 1/m)")
            }
        }

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.dlq")
            let filter = filters.filter(ids: ids.isEmpty ? nil : ids)
            let (force, dryRun, rate) = (self.force, self.dryRun, self.rate.flatMap(ReplayRate.init))
            let producer = try KafkaProducer(configuration: StageAssembly.producerConfiguration(settings.kafka), logger: logger)
            try await withKafkaClient(producer) { producer in
                try await withDatabase(settings, logger: logger) { client in
                    let store = DeadLetterStore(client: client, logger: logger)
                    let replayer = DeadLetterReplayer(
                        store: store, producer: producer, allowedTopics: settings.replayTopics, metrics: EngineMetrics(), logger: logger)
                    let outcome: DeadLetterReplayer.Outcome
                    let progress = ReplayProgress(rate: rate)
                    if filters.limit != nil {
                        outcome = try await replayer.replay(try await store.list(filter), force: force, dryRun: dryRun, rate: rate) { done, total in
                            progress.report("replayed", done, of: total)
                        }
                    } else {
                        // All means all: every selected row, in pages.
                        let total = try await store.count(filter)
                        outcome = try await replayer.replayAll(matching: filter, force: force, dryRun: dryRun, rate: rate) { done in
                            progress.report("handled", done, of: total)
                        }
                    }
                    let verb = dryRun ? "would replay" : "replayed"
                    print("\(verb) \(outcome.replayed.count), skipped \(outcome.skipped.count), failed \(outcome.failed.count)")
                    for skipped in outcome.skipped { print("  skipped \(skipped.id): \(skipped.reason)") }
                    for failed in outcome.failed { print("  FAILED \(failed.id): \(failed.reason)") }
                    let found = Set(outcome.replayed + outcome.skipped.map(\.id) + outcome.failed.map(\.id))
                    let missing = ids.filter { !found.contains($0) }
                    if !missing.isEmpty {
                        FileHandle.standardError.write(Data("error: no DLQ row \(missing.map(String.init).joined(separator: ", "))\n".utf8))
                    }
                    if !outcome.failed.isEmpty || !missing.isEmpty { throw ExitCode(1) }
                }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "purge", abstract: "Delete replayed rows older than a retention (counts only, unless --confirm).")
        @OptionGroup var engine: EngineOptions
        @Option(help: "Retention, e.g. 30d or 12h.") var olderThan = "30d"
        @Flag(help: "Really delete (without it, only count).") var confirm = false

        func validate() throws {
            guard DurationText.seconds(olderThan) != nil else { throw ValidationError("--older-than takes a duration like 30d or 12h, at most 100 years") }
        }

        func run() async throws {
            let (settings, logger) = try await engine.load(label: "proactivity.dlq")
            let cutoff = Date().addingTimeInterval(-Double(DurationText.seconds(olderThan)!))
            let confirm = self.confirm
            try await withDatabase(settings, logger: logger) { client in
                let count = try await DeadLetterStore(client: client, logger: logger).purge(processedBefore: cutoff, dryRun: !confirm)
                print(confirm ? "deleted \(count) replayed row(s) older than \(olderThan)" : "would delete \(count) replayed row(s) older than \(olderThan); add --confirm")
            }
        }
    }
}

extension DeadLetterGrouping: ExpressibleByArgument {}
