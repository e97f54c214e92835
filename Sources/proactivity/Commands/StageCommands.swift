import ArgumentParser
import CommandLineSupport
import Kafka
import ProactivityStages
import ServiceLifecycle
import UnixSignals

/// `proactivity tick`: the tick producer.
struct TickCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tick",
        abstract: "Run the tick producer: publish each enabled job's ticks on its schedule (the first at start-up).")

    @OptionGroup var engine: EngineOptions

    func run() async throws { try await runStages([.tick], engine: engine) }
}

/// `proactivity worker`: a reminder worker.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a reminder worker: consume ticks (consumer group), query PostgreSQL, publish one alert per due item.")

    @OptionGroup var engine: EngineOptions

    func run() async throws { try await runStages([.worker], engine: engine) }
}

/// `proactivity dlq-mirror`: the DLQ mirror (and the DLQ HTTP API).
struct MirrorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq-mirror",
        abstract: "Mirror the DLQ topic into worker_dlq and serve the DLQ HTTP API (with DLQ_API_TOKEN).")

    @OptionGroup var engine: EngineOptions

    func run() async throws { try await runStages([.mirror], engine: engine) }
}

/// `proactivity all`: every stage in one process.
struct AllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Run every stage (tick producer, worker, DLQ mirror) in one process with one HTTP port.")

    @OptionGroup var engine: EngineOptions

    func run() async throws { try await runStages(Set(StageAssembly.Stage.allCases), engine: engine) }
}

/// Loads the settings, builds the stages and runs them in this command's service group
/// until SIGTERM, SIGINT or SIGHUP (a graceful shutdown within `SHUTDOWN_TIMEOUT`) or
/// until one fails. SIGHUP is a shutdown too: a stage started from a terminal that closes
/// (an ssh session ending) leaves its consumer group and commits instead of dying, which
/// would hold its partitions for a session timeout. A shutdown still not over 5 s after its limit (work that ignores cancellation)
/// ends the process with status 1.
private func runStages(_ stages: Set<StageAssembly.Stage>, engine: EngineOptions) async throws {
    let (settings, logger) = try await engine.load(label: "proactivity", librdkafkaLine: .info)
    let assembly: StageAssembly
    do {
        assembly = try StageAssembly(stages: stages, settings: settings, logger: logger)
    } catch let error as KafkaError {
        logger.critical("invalid_kafka_configuration", metadata: ["error": "\(error)"])
        throw ExitCode(2)
    }
    var configuration = assembly.serviceGroupConfiguration(shutdownLimit: settings.shutdownTimeout) { port in
        logger.info("http_listening", metadata: ["port": .stringConvertible(port ?? settings.httpPort), "endpoints": "/healthz /readyz /metrics"])
    }
    configuration.gracefulShutdownSignals = [.sigterm, .sigint, .sighup]
    let group = ServiceGroup(configuration: configuration)
    try await withThrowingDiscardingTaskGroup { tasks in
        tasks.addTask { await assembly.shutdown.exitWhenStuck(after: settings.shutdownTimeout + .seconds(5), logger: logger) }
        try await group.run()
        tasks.cancelAll()
    }
    try assembly.checkShutdown(limit: settings.shutdownTimeout)
}
