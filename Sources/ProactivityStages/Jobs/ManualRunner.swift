import Foundation
import Kafka
import Logging
import ProactivityCore
import ProactivityStore

/// Runs a job now (`proactivity jobs run`, `POST /jobs/{job}/run`): publishes a tick for
/// each shard of the job's current slot, with a run id of its own, after recording who
/// asked and from where in `worker_manual_runs`.
///
/// The ticks carry the slot's window (workers derive it again from their own job
/// definition, as for any tick) and ids that cannot collide with the slot's scheduled
/// tick, so the scheduled tick still runs; the alert ledger keeps each item to one alert.
public struct ManualRunner: Sendable {
    let catalog: JobCatalog
    let ticksTopic: String
    let store: ManualRunStore
    let producer: KafkaProducer
    let logger: Logger

    public init(catalog: JobCatalog, ticksTopic: String, store: ManualRunStore, producer: KafkaProducer, logger: Logger) {
        self.catalog = catalog
        self.ticksTopic = ticksTopic
        self.store = store
        self.producer = producer
        self.logger = logger
    }

    /// A request this runner does not carry out, with the reason (nothing was recorded).
    public struct Refusal: Error, CustomStringConvertible, Sendable {
        public enum Kind: Sendable {
            case unknownJob, disabledJob, unknownShard, invalidTick
        }

        public let kind: Kind
        public let description: String
    }

    /// The outcome of one run.
    public struct Run: Sendable {
        public let runId: UUID
        /// The run's ticks, each with whether the broker has it.
        public let ticks: [(tick: TickMessage, failure: KafkaError?)]

        public var failed: Bool { ticks.contains { $0.failure != nil } }
    }

    /// Checks the request, records it, publishes the ticks.
    /// - Parameters:
    ///   - shard: one shard, or every shard of the job (`nil`).
    ///   - now: the slot run is the last one at or before `now`.
    /// - Throws: ``Refusal`` for an unknown or disabled job or a shard it does not have;
    ///   a database error when the request could not be recorded (then nothing is published).
    public func run(
        job name: String, shard: Int?, requestedBy: String, requestedHost: String, channel: ManualRun.Channel, now: Date = Date()
    ) async throws -> Run {
        let ticks = try Self.ticks(for: name, shard: shard, in: catalog, now: now)
        let runId = UUID(uuidString: ticks[0].manualRun!)!
        try await store.record(
            ticks.map { ManualRun(tick: $0, runId: runId, requestedBy: requestedBy, requestedHost: requestedHost, channel: channel) })
        let results = await producer.send(ticks.map { TickProducerStage.record(of: $0, topic: ticksTopic) })
        let run = Run(
            runId: runId,
            ticks: zip(ticks, results).map { tick, result in
                if case .failure(let error) = result { (tick, error) } else { (tick, nil) }
            })
        for (tick, failure) in run.ticks {
            logger.notice(
                "job_run_requested",
                metadata: [
                    "job_name": "\(tick.jobName)", "tick_id": "\(tick.tickId)", "requested_by": "\(requestedBy)",
                    "requested_host": "\(requestedHost)", "via": "\(channel.rawValue)", "published": .stringConvertible(failure == nil),
                ])
        }
        return run
    }

    /// The ticks of a manual run of `name` (validated as a worker will), or the reason there are none.
    public static func ticks(for name: String, shard: Int?, in catalog: JobCatalog, now: Date) throws(Refusal) -> [TickMessage] {
        guard let job = catalog.job(named: name) else {
            throw Refusal(kind: .unknownJob, description: "no job named '\(name.prefix(200))' (see: proactivity jobs list)")
        }
        guard job.enabled else { throw Refusal(kind: .disabledJob, description: "job '\(job.name)' is disabled (enabled: false in the jobs file)") }
        if let shard, !(0..<job.shards).contains(shard) {
            throw Refusal(kind: .unknownShard, description: "shard \(shard) is not one of job '\(job.name)''s shards 0…\(job.shards - 1)")
        }
        let slot = job.schedule.slot(atOrBefore: now)
        let run = UUID()
        var ticks: [TickMessage] = []
        for shard in shard.map({ [$0] }) ?? Array(0..<job.shards) {
            do {
                ticks.append(try TickMessage.manual(job: job, slot: slot, shard: shard, run: run, producedAt: now).validated(for: job, now: now))
            } catch {
                throw Refusal(kind: .invalidTick, description: error.description)
            }
        }
        return ticks
    }
}
