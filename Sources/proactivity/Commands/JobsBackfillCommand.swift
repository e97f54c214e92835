import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import ProactivityCore
import ProactivityStages
import ProactivityStore

/// `proactivity jobs backfill`: runs a job's tick for a slot older than the alert ledger
/// remembers, which workers otherwise refuse (`stale_tick`).
struct JobsBackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Run a job's tick for a past slot that workers refuse as older than LEDGER_RETENTION.",
        discussion: """
            Workers refuse a tick whose window starts before what the alert ledger remembers: \
            they cannot know which of its items were alerted, so running it may alert them \
            again. This command records the request in worker_backfills (who, from which host, \
            why) and publishes the tick; workers run a tick recorded there. Items the ledger \
            still has are not alerted again. Example: \
            proactivity jobs backfill event-reminder --slot 2026-10-01T09:00:00Z --reason "outage INC-42"
            """)

    @OptionGroup var engine: EngineOptions
    @Argument(help: "A job of the catalog.") var job: String
    @Option(help: "The slot to run (ISO 8601, on the job's schedule).") var slot: String
    @Option(help: "Only this shard (default: every shard of the job).") var shard: Int?
    @Option(help: "Why (kept with the request).") var reason: String

    func validate() throws {
        guard MessageCoding.parseTimestamp(slot) != nil else { throw ValidationError("--slot must be an ISO 8601 time like 2026-10-01T09:00:00Z") }
        guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, reason.count <= 1000 else {
            throw ValidationError("--reason must say why, in at most 1000 characters")
        }
    }

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.jobs")
        guard let definition = settings.jobs.job(named: job) else {
            throw ValidationError("no job named '\(job)' (see: proactivity jobs list)")
        }
        let slot = MessageCoding.parseTimestamp(self.slot)!
        let now = Date()
        let shards = try shard.map { shard in
            guard (0..<definition.shards).contains(shard) else { throw ValidationError("--shard must be 0…\(definition.shards - 1)") }
            return [shard]
        } ?? Array(0..<definition.shards)
        let ticks = try shards.map { shard in
            do {
                return try TickMessage(job: definition, slot: slot, shard: shard, producedAt: now).validated(for: definition, now: now)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let requester = Requester.current
        let reason = self.reason
        try await withDatabase(settings, logger: logger) { client in
            let store = BackfillStore(client: client, logger: logger)
            for tick in ticks {
                try await store.record(
                    Backfill(
                        tickId: tick.tickId, jobName: tick.jobName, slot: tick.slot, requestedBy: requester.user,
                        requestedHost: requester.host, reason: reason))
            }
        }
        let records = ticks.map { TickProducerStage.record(of: $0, topic: settings.ticksTopic) }
        let results = try await withKafkaClient(try KafkaProducer(configuration: StageAssembly.producerConfiguration(settings.kafka), logger: logger)) {
            await $0.send(records)
        }
        var failed = false
        for (tick, (record, result)) in zip(ticks, zip(records, results)) {
            switch result {
            case .success:
                // The traceparent finds the worker's log lines and alerts of this tick.
                print(
                    "published \(tick.tickId) (window \(Timestamp.format(tick.windowStart)) – \(Timestamp.format(tick.windowEnd)); traceparent \(record.headers.string(named: "traceparent") ?? "none"))")
            case .failure(let error):
                failed = true
                FileHandle.standardError.write(Data("error: \(tick.tickId) not published: \(error); run the command again\n".utf8))
            }
        }
        if failed { throw ExitCode(1) }
    }
}
