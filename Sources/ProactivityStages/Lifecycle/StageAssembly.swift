import Foundation
import Hummingbird
import Kafka
import Logging
import Observability
import PostgresNIO
import ProactivityCore
import ProactivityStore
import ServiceLifecycle

/// Wires the stages of one process: which stages run, their Kafka clients, the database
/// pool, readiness checks and the HTTP endpoints, as the services of one `ServiceGroup`
/// that its caller (the command, a test) owns and runs
/// (``serviceGroupConfiguration(shutdownLimit:onServerRunning:)``). Services stop in
/// reverse order: HTTP first, then each stage, then the Kafka clients it used (flushed,
/// their groups left), the database pool last.
public struct StageAssembly: Sendable {
    /// The stages a process can run.
    public enum Stage: String, Sendable, CaseIterable {
        case tick, worker, mirror = "dlq-mirror"
    }

    public let settings: EngineSettings
    public let stages: Set<Stage>
    public let metrics: EngineMetrics
    public let health: HealthState
    public let database: PostgresClient
    /// What the last graceful shutdown left undone.
    public let shutdown = ShutdownReport()
    /// Start order (services stop in reverse): the database pool, the Kafka clients, the
    /// stages (the tick producer's stage runs its producer itself), the readiness probe.
    let services: [any Service]
    let operatorRoutes: [any OperatorRoutes]
    let logger: Logger

    /// Builds the clients and services (nothing runs yet).
    /// - Throws: ``KafkaError`` for Kafka settings librdkafka refuses.
    public init(stages: Set<Stage>, settings: EngineSettings, clock: any EngineClock = SystemClock(), logger: Logger) throws {
        self.settings = settings
        self.stages = stages
        self.logger = logger
        let metrics = EngineMetrics()
        let name = stages.count == Stage.allCases.count ? "all" : stages.map(\.rawValue).sorted().joined(separator: "+")
        let health = HealthState(stage: name)
        health.setJobs(settings.jobs.enabled.map(\.name))
        metrics.declare(jobs: settings.jobs.enabled.map(\.name))
        var kafka = settings.kafka
        kafka.statisticsHandler = { metrics.record($0) }
        let database = PostgresClient(configuration: settings.database.clientConfiguration, backgroundLogger: logger)

        // Kafka clients come before the stages using them, so they end after them.
        var clients: [any Service] = []
        var services: [any Service] = []
        var consumers: [String: KafkaConsumer] = [:]
        var topics: Set<String> = []
        if stages.contains(.tick) {
            metrics.declareTickProducer(jobs: settings.jobs.enabled.map(\.name))
            topics.insert(settings.ticksTopic)
            metrics.declareProducer("tick")
            var producerConfiguration = KafkaProducerConfiguration(
                kafka: kafka, messageTimeout: .seconds(30), onRenewal: { _ in metrics.producerRenewed("tick") })
            // A publish waiting for an unreachable broker would hold a shutdown up to the
            // message timeout: the stage runs its producer, which hears the shutdown with
            // it and gets 2 s to deliver (see TickProducerStage).
            producerConfiguration.shutdownFlushTimeout = .seconds(2)
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            services.append(
                TickProducerStage(
                    jobs: settings.jobs.enabled, topic: settings.ticksTopic, producer: producer, clock: clock, metrics: metrics,
                    health: health, logger: logger))
        }
        if stages.contains(.worker) {
            let workerConsumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(
                    kafka: kafka, groupID: settings.workerGroupID, fetchWaitMax: .milliseconds(settings.workerFetchWaitMilliseconds),
                    groupInstanceID: settings.workerInstanceID),
                logger: logger)
            consumers[Stage.worker.rawValue] = workerConsumer
            clients.append(workerConsumer)
            topics.formUnion([settings.ticksTopic, settings.alertsTopic, settings.dlqTopic])
            metrics.declareWorker(jobs: settings.jobs.enabled.map(\.name))
            metrics.declareFailureHandling(
                stage: "worker", reasons: FailureClass.allCases.map(\.rawValue), circuitBreakers: ["database", "kafka"])
            metrics.declareProducer("worker")
            var producerConfiguration = Self.producerConfiguration(kafka)
            producerConfiguration.onRenewal = { _ in metrics.producerRenewed("worker") }
            let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            clients.append(producer)
            let deadLetters = DeadLetterPublisher(
                producer: producer, topic: settings.dlqTopic, consumerGroup: settings.workerGroupID, stage: "worker", clock: clock,
                metrics: metrics, logger: logger)
            services.append(
                ReminderWorkerStage(
                    catalog: settings.jobs, ticksTopic: settings.ticksTopic, alertsTopic: settings.alertsTopic,
                    consumer: workerConsumer, producer: producer,
                    store: ReminderStore(
                        client: database, logger: logger, cursorLimit: settings.database.windowCursorLimit,
                        windowsWaiting: { metrics.windowsWaiting($0) }),
                    events: JobEventStore(client: database, logger: logger), deadLetters: deadLetters,
                    backfills: BackfillStore(client: database, logger: logger), ledgerRetention: settings.ledgerRetention,
                    retryAttempts: settings.workerRetryAttempts, pageSize: settings.workerPageSize, shutdown: shutdown,
                    databaseProbe: { await database.unreachableReason(within: .seconds(3)) },
                    migrations: MigrationWait(database: database, condition: .workerMigrations, health: health, logger: logger),
                    clock: clock, metrics: metrics, health: health, logger: logger))
            metrics.declareLedger(tables: LedgerRetention.Table.allCases.map(\.rawValue))
            services.append(
                LedgerPruner(
                    store: LedgerRetention(client: database, logger: logger), retention: settings.ledgerRetention, metrics: metrics,
                    migrations: MigrationWait(database: database, condition: nil, health: health, logger: logger), logger: logger))
        }
        var operatorRoutes: [any OperatorRoutes] = []
        if stages.contains(.mirror) {
            let mirrorConsumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(kafka: kafka, groupID: settings.mirrorGroupID), logger: logger)
            consumers[Stage.mirror.rawValue] = mirrorConsumer
            clients.append(mirrorConsumer)
            topics.insert(settings.dlqTopic)
            let store = DeadLetterStore(client: database, logger: logger)
            services.append(
                DeadLetterMirrorStage(
                    topic: settings.dlqTopic, consumer: mirrorConsumer, store: store, metrics: metrics, health: health,
                    shutdown: shutdown, databaseProbe: { await database.unreachableReason(within: .seconds(3)) },
                    migrations: MigrationWait(database: database, condition: .mirrorMigrations, health: health, logger: logger),
                    logger: logger))
            metrics.declareProducer("replay")
            var replayConfiguration = Self.producerConfiguration(kafka)
            replayConfiguration.onRenewal = { _ in metrics.producerRenewed("replay") }
            let replayProducer = try KafkaProducer(configuration: replayConfiguration, logger: logger)
            clients.append(replayProducer)
            let replayer = DeadLetterReplayer(
                store: store, producer: replayProducer, allowedTopics: settings.replayTopics, metrics: metrics, logger: logger)
            operatorRoutes.append(DeadLetterAPI(store: store, replayer: replayer, token: settings.dlqAPIToken, logger: logger))
            let runner = ManualRunner(
                catalog: settings.jobs, ticksTopic: settings.ticksTopic, store: ManualRunStore(client: database, logger: logger),
                producer: replayProducer, logger: logger)
            operatorRoutes.append(JobsAPI(runner: runner, token: settings.dlqAPIToken, logger: logger))
            let explainer = Explainer(catalog: settings.jobs, store: LineageStore(client: database, logger: logger))
            operatorRoutes.append(ExplainAPI(explainer: explainer, token: settings.dlqAPIToken, logger: logger))
            operatorRoutes.append(
                ConsoleRoutes(
                    store: store, replayer: replayer, runner: runner, explainer: explainer,
                    events: JobEventStore(client: database, logger: logger), settings: settings, logger: logger))
            if let policy = settings.autoReplay {
                services.append(DeadLetterAutoReplayer(policy: policy, store: store, replayer: replayer, logger: logger))
            }
            metrics.declareDeadLetterMirror()
            metrics.declareFailureHandling(stage: "dlq-mirror", reasons: [])
        }
        self.operatorRoutes = operatorRoutes
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        clients.append(admin)
        services.append(
            ReadinessProbe(
                admin: admin, database: database, consumers: consumers, topics: topics.sorted(), health: health, metrics: metrics,
                logger: logger))
        self.metrics = metrics
        self.health = health
        self.database = database
        self.services = [database] + clients + services
    }

    /// The HTTP endpoints (`/healthz`, `/readyz`, `/metrics`) of this process.
    public var router: Router<EngineRequestContext> {
        let router = ObservabilityRouter.make(health: health, metrics: metrics)
        // Around the operator routes only (added after the health endpoints).
        router.add(middleware: OperatorErrorMiddleware(logger: logger))
        for routes in operatorRoutes { routes.register(on: router) }
        return router
    }

    /// Producers of alerts, dead letters and replays: records up to 8 MB (a dead letter
    /// carries the original value plus its context headers).
    public static func producerConfiguration(_ kafka: KafkaConfiguration) -> KafkaProducerConfiguration {
        var kafka = kafka
        if kafka.properties["message.max.bytes"] == nil { kafka.properties["message.max.bytes"] = "8388608" }
        return KafkaProducerConfiguration(kafka: kafka)
    }

    /// The configuration of the service group that runs these stages: their services,
    /// the HTTP endpoints and the shutdown's watch, the graceful shutdown bounded to
    /// `shutdownLimit`. The caller adds the signals that start a graceful shutdown
    /// (a command: SIGTERM and SIGINT), runs the group, then calls
    /// ``checkShutdown(limit:)``.
    ///
    /// A graceful shutdown stops the HTTP endpoints, then each stage stops taking
    /// messages and finishes what it holds, then its Kafka clients flush, commit and
    /// leave their groups, and the database pool closes last.
    /// - Parameter onServerRunning: told the HTTP port once it listens.
    public func serviceGroupConfiguration(
        shutdownLimit: Duration, onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in }
    ) -> ServiceGroupConfiguration {
        let app = ObservabilityRouter.application(
            router: self.router, host: settings.httpHost, port: settings.httpPort, logger: logger, onServerRunning: onServerRunning)
        let watch = ShutdownWatch(report: shutdown, logger: logger)
        var configuration = ServiceGroupConfiguration(services: (services + [app, watch]).map { .init(service: $0) }, logger: logger)
        configuration.maximumGracefulShutdownDuration = shutdownLimit
        logger.info(
            "stage_starting",
            metadata: [
                "stage": "\(health.stage)", "http": "\(settings.httpHost):\(settings.httpPort)",
                "librdkafka": "\(KafkaLibrary.version)", "jobs": .array(settings.jobs.enabled.map { .string($0.name) }),
            ])
        return configuration
    }

    /// After the service group returned: logs how the graceful shutdown went.
    /// - Throws: ``ShutdownTimedOut`` (naming the work abandoned) when the shutdown took
    ///   `limit` or longer: the group cancelled the stages.
    public func checkShutdown(limit: Duration) throws {
        guard let elapsed = shutdown.elapsed else { return }
        let abandoned = shutdown.abandonedWork
        if elapsed >= limit {
            let error = ShutdownTimedOut(limit: limit, abandoned: abandoned)
            logger.critical("shutdown_timed_out", metadata: ["stage": "\(health.stage)", "error": "\(error)"])
            throw error
        }
        logger.notice(
            "stage_stopped",
            metadata: ["stage": "\(health.stage)", "shutdown_seconds": .stringConvertible(elapsed), "abandoned": .array(abandoned.map { .string("\($0)") })])
    }
}
