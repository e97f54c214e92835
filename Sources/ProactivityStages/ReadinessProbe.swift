import Foundation
import Kafka
import Logging
import Observability
import PostgresNIO
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
        health.require("kafka")
        health.require("database")
        if consumer != nil { health.require("assignment", initially: "the consumer has no partitions yet") }
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
            health.report("kafka", failing: nil)
            metrics.dependency("kafka", up: true)
        } catch {
            health.report("kafka", failing: "broker unreachable: \(error)")
            metrics.dependency("kafka", up: false)
        }
        do {
            try await withDeadline(.seconds(3)) { try await database.query("SELECT 1") }
            health.report("database", failing: nil)
            metrics.dependency("database", up: true)
        } catch {
            health.report("database", failing: "database unreachable: \(DatabaseError.describe(error))")
            metrics.dependency("database", up: false)
        }
        if let consumer {
            health.report("assignment", failing: consumer.assignment.isEmpty ? "the consumer has no partitions" : nil)
        }
    }
}

import ProactivityStore

/// No answer within the probe's deadline.
struct ProbeTimeout: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}

/// Runs `body`, giving up after `limit` (a pool waiting for a connection to a stopped
/// server can wait far longer than a readiness check may).
func withDeadline(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw ProbeTimeout(limit: limit)
        }
        defer { group.cancelAll() }
        try await group.next()
    }
}
