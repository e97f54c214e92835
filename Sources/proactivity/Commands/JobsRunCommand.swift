import ArgumentParser
import CommandLineSupport
import Foundation
import Kafka
import ProactivityCore
import ProactivityStages
import ProactivityStore

/// `proactivity jobs run`: runs a job now, for its current window.
struct JobsRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a job now, for its current window (an audited manual run).",
        discussion: """
            Publishes a tick for the job's current slot (the last one at or before now), with an \
            id of its own that marks it manual (job@slot~manual-RUN), so the slot's scheduled tick \
            still runs. Items already alerted are not alerted again. Who asked (user and host) is \
            recorded in worker_manual_runs. Example: proactivity jobs run event-reminder
            """)

    @OptionGroup var engine: EngineOptions
    @Argument(help: "An enabled job of the catalog.") var job: String
    @Option(help: "Only this shard (default: every shard of the job).") var shard: Int?

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.jobs")
        // Refuse a bad request before touching the database or the broker.
        do throws(ManualRunner.Refusal) {
            _ = try ManualRunner.ticks(for: job, shard: shard, in: settings.jobs, now: Date())
        } catch {
            throw ValidationError(error.description)
        }
        let producer = try KafkaProducer(configuration: StageAssembly.producerConfiguration(settings.kafka), logger: logger)
        let requester = Requester.current
        let (job, shard, ticksTopic) = (self.job, self.shard, settings.ticksTopic)
        let run = try await withKafkaClient(producer) { producer in
            try await withDatabase(settings, logger: logger) { client in
                let runner = ManualRunner(
                    catalog: settings.jobs, ticksTopic: ticksTopic, store: ManualRunStore(client: client, logger: logger), producer: producer,
                    logger: logger)
                return try await runner.run(job: job, shard: shard, requestedBy: requester.user, requestedHost: requester.host, channel: .cli)
            }
        }
        for (tick, failure) in run.ticks {
            if let failure {
                FileHandle.standardError.write(Data("error: \(tick.tickId) not published: \(failure); run the command again\n".utf8))
            } else {
                print("published \(tick.tickId) (window \(Timestamp.format(tick.windowStart)) – \(Timestamp.format(tick.windowEnd)))")
            }
        }
        if run.failed { throw ExitCode(1) }
    }
}
