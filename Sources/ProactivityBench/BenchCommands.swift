import ArgumentParser
import CommandLineSupport
import Foundation
import ProactivityCore

/// `proactivity-bench kafka`.
struct KafkaBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce, consume and latency figures of our Kafka wrapper next to a plain-C librdkafka producer.",
        discussion: """
            In one run on the same broker and message set, after an untimed warm-up \
            (--warm-up-messages from each producer), --rounds times: the C baseline \
            produces --messages messages and our Swift producer does the same (through the API \
            --api names), the C loop first in odd rounds and second in even ones; each round's ratio, their median and lowest. \
            Then a consumer group reads the last Swift topic back, and --latency-messages single \
            sends measure produce-to-consume latency. Topics are new per run and deleted at its end, \
            also when stopped with Ctrl-C (the local stack's broker keeps every record in memory until then).
            """
    )

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Messages per throughput phase.")
    var messages = 200_000

    @Option(help: "Value size in bytes.")
    var size = 256

    @Option(help: "Partitions of the benchmark topics.")
    var partitions: Int32 = 6

    @Option(help: "Messages sent one at a time for the latency figures.")
    var latencyMessages = 500

    @Option(help: "Produce rounds (C and Swift each, in alternating order).")
    var rounds = 3

    @Option(help: "Messages each producer sends, untimed, before the first round (0: none).")
    var warmUpMessages = 100_000

    @Option(
        help: """
            Our producer's API: messages ([KafkaProducerMessage], no header) or batch (KafkaProducerBatch of 2,000 records, \
            the worker's; every record, the C loop's too, then carries a 36-byte header).
            """)
    var api = ProducerAPI.messages

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func validate() throws {
        guard messages > 0, latencyMessages > 0 else { throw ValidationError("--messages and --latency-messages must be positive") }
        guard (0...1_000_000).contains(size) else { throw ValidationError("--size must be 0…1000000 bytes") }
        guard partitions > 0 else { throw ValidationError("--partitions must be positive") }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be 1…20") }
        guard (0...10_000_000).contains(warmUpMessages) else { throw ValidationError("--warm-up-messages must be 0…10000000") }
    }

    func run() async throws {
        let (configuration, logger) = try await kafka.load(label: "proactivity.bench", clientID: "proactivity-bench")
        let json = json
        let progress: @Sendable (String) -> Void = { if !json { print($0) } }
        var benchmark = KafkaBenchmark(
            configuration: configuration,
            messages: messages, size: size, partitions: partitions, latencyMessages: latencyMessages,
            logger: logger, progress: progress)
        benchmark.rounds = rounds
        benchmark.warmUpMessages = warmUpMessages
        benchmark.api = api
        let report = try await untilInterrupted(progress: progress) { [benchmark] in try await benchmark.run() }
        print(json ? try report.json() : report.table())
    }
}

extension ProducerAPI: ExpressibleByArgument {}

/// `proactivity-bench pipeline`.
struct PipelineBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Reminder windows through real worker processes next to a plain-C produce loop: alerts/s, first alert, memory, latency.",
        discussion: """
            In a schema and topics of its own (dropped and deleted afterwards, also when stopped with Ctrl-C): seeds --rows events with --due of \
            them in one event-reminder window; runs the C librdkafka loop with the same record size \
            and producer settings, and again with the alerts' five headers; starts `proactivity worker` as a process of its own and reads its \
            alerts with a separate consumer: one tick for the big window (alerts/s, first alert, the \
            worker's idle and peak memory); another such tick, with 20-item ticks of another job \
            sent one after another while it runs (tick → first alert p50/max); then --small-ticks \
            ticks of --small-due items (tick → first alert p50/p99); 3 ticks sliding 5 minutes \
            over the alerted big window, which read its rows again and alert none (tick → \
            completed, the worker's CPU per row); the C loop again; with \
            --workers N > 1, a sharded window through 1 worker and through N. Needs POSTGRES_URL \
            and KAFKA_BOOTSTRAP_SERVERS.
            """)

    @OptionGroup var engine: EngineOptions

    @Option(help: "Events due in the big window.")
    var due = 100_000

    @Option(help: "Rows in the events table.")
    var rows = 1_000_000

    @Option(help: "Distinct users.")
    var users = 10_000

    @Option(help: "Small windows, ticked one after another for the latency figures.")
    var smallTicks = 50

    @Option(help: "Items due in each small window.")
    var smallDue = 20

    @Option(help: "Worker processes for the sharded comparison (1: skip it).")
    var workers = 1

    @Option(help: "Alerts to write into the alert ledger (in pages of 2,000) before a second big window (0: skip it).")
    var ledgerRows = 0

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func validate() throws {
        guard due > 0, users > 0, rows >= due else { throw ValidationError("need --rows >= --due > 0 and --users > 0") }
        guard (1...1_000).contains(smallTicks), (1...1_800).contains(smallDue) else {
            throw ValidationError("--small-ticks must be 1…1000 and --small-due 1…1800")
        }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1…16") }
        guard (0...100_000_000).contains(ledgerRows) else { throw ValidationError("--ledger-rows must be 0…100000000") }
    }

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.bench")
        let json = json
        let progress: @Sendable (String) -> Void = { if !json { print($0) } }
        let benchmark = PipelineBenchmark(
            settings: settings, total: rows, due: due, users: users, smallTicks: smallTicks, smallDue: smallDue, workers: workers,
            ledgerRows: ledgerRows, logger: logger, progress: progress)
        let report = try await untilInterrupted(progress: progress) { try await benchmark.run() }
        print(json ? try jsonOutput(report) : report.table())
    }
}

/// `proactivity-bench soak`.
struct SoakBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "The whole engine for a long while: memory and CPU over time, every item alerted exactly once.",
        discussion: """
            In a schema and topics of its own (dropped and deleted afterwards, also when stopped with Ctrl-C): \
            starts `proactivity all` (tick producer, worker, DLQ mirror) as a process of its own with one job \
            ticking --every over a --window that overlaps the ticks before (each item is read again by about \
            window / every ticks and must be alerted once), inserts --items-per-second items a second due \
            within the next half window, and prints a sample every --sample-interval: the engine's resident \
            memory, its CPU, the ticks completed, the items inserted and the alerts a separate consumer read. \
            At the end it waits up to 2 minutes for the last alerts and prints the memory from the first \
            minute to the end, the alerts read against the items (duplicates, missing) and the error and \
            warning lines of the engine's log. Needs POSTGRES_URL and KAFKA_BOOTSTRAP_SERVERS.
            """)

    @OptionGroup var engine: EngineOptions

    @Option(help: "How long to insert items, e.g. 15m, 2h.")
    var duration = "15m"

    @Option(help: "Items inserted each second.")
    var itemsPerSecond = 20

    @Option(help: "The soak job's schedule (at least 1s, at most half the window).")
    var every = "1s"

    @Option(help: "The soak job's window (at least 20s).")
    var window = "2m"

    @Option(help: "How often to sample the engine (at least 1s).")
    var sampleInterval = "30s"

    @Flag(help: "Print the figures as JSON.")
    var json = false

    func validate() throws {
        guard let duration = DurationText.seconds(duration), duration <= 7 * 86_400 else {
            throw ValidationError("--duration must be a duration such as 15m or 2h, at most 7d")
        }
        guard (1...10_000).contains(itemsPerSecond) else { throw ValidationError("--items-per-second must be 1…10000") }
        guard let window = DurationText.seconds(window), window >= 20, window <= 86_400 else {
            throw ValidationError("--window must be a duration from 20s to 1d")
        }
        guard let every = DurationText.seconds(every), every * 2 <= window else {
            throw ValidationError("--every must be a duration of at most half the window (\(self.window))")
        }
        guard let interval = DurationText.seconds(sampleInterval), interval <= duration else {
            throw ValidationError("--sample-interval must be a duration no longer than --duration")
        }
    }

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.bench")
        let json = json
        let progress: @Sendable (String) -> Void = { if !json { print($0) } }
        // validate() accepted them.
        let seconds = { (text: String) in DurationText.seconds(text) ?? 1 }
        let benchmark = SoakBenchmark(
            settings: settings, duration: .seconds(seconds(duration)), itemsPerSecond: itemsPerSecond, everySeconds: seconds(every),
            windowSeconds: seconds(window), sampleInterval: .seconds(seconds(sampleInterval)), logger: logger, progress: progress)
        let report = try await untilInterrupted(progress: progress) { try await benchmark.run() }
        print(json ? try jsonOutput(report) : report.table())
    }
}
