import Foundation
import Kafka
import Logging
import Observability
import PostgresNIO
import ProactivityStore
import ServiceLifecycle

/// Checks every few seconds that the broker and the database answer (and, for
/// workers, that the consumer has partitions), and reports it to readiness and metrics.
public struct ReadinessProbe: Service {
    let admin: KafkaAdmin
    let database: PostgresClient
    let consumer: KafkaConsumer?
    let health: HealthState
    let metrics: EngineMetrics
    let interval: Duration

    public init(
        admin: KafkaAdmin, database: PostgresClient, consumer: KafkaConsumer?, health: HealthState, metrics: EngineMetrics,
        interval: Duration = .seconds(5)
    ) {
        self.admin = admin
        self.database = database
        self.consumer = consumer
        self.health = health
        self.metrics = metrics
        self.interval = interval
        health.require("probe.kafka")
        health.require("probe.database")
        if consumer != nil { health.require("worker.assignment", initially: "the consumer has no partitions yet") }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await check()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        await admin.close()
    }

    /// Runs every check once.
    public func check() async {
        do {
            _ = try await admin.listTopics(timeout: .seconds(3))
            health.report("probe.kafka", failing: nil)
            metrics.dependency("kafka", up: true)
        } catch {
            health.report("probe.kafka", failing: "broker unreachable: \(error)")
            metrics.dependency("kafka", up: false)
        }
        let databaseFailure = await database.unreachableReason(within: .seconds(3))
        health.report("probe.database", failing: databaseFailure)
        metrics.dependency("database", up: databaseFailure == nil)
        if let consumer {
            health.report("worker.assignment", failing: consumer.assignment.isEmpty ? "the consumer has no partitions" : nil)
        }
    }
}

