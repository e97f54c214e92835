import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Observability
import ProactivityCore
import ProactivityStages
import ProactivityStore
import ServiceLifecycle
import Testing

/// A mirror that cannot move says so: readiness names the record, a gauge counts up.
@Suite(.timeLimit(.minutes(4)))
struct MirrorStallTests {
    @Test func aRecordTheDatabaseKeepsRefusingMakesTheMirrorNotReadyUntilItMoves() async throws {
        try await PipelineHarness.with { harness in
            // Inserts fail as if the server were out of connections (not the record's fault).
            try await harness.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no room' USING ERRCODE = '53300'; END $$")
            try await harness.execute("CREATE TRIGGER refuse BEFORE INSERT ON worker_dlq FOR EACH ROW EXECUTE FUNCTION refuse()")
            let producer = try TestEnvironment.producer()
            _ = try await producer.send(KafkaProducerMessage(topic: harness.dlqTopic, key: Array("k".utf8), value: Array("{}".utf8)))
            try await producer.close()
            let metrics = EngineMetrics()
            metrics.declareDeadLetterMirror()
            let health = HealthState(stage: "dlq-mirror")
            let consumer = try KafkaConsumer(
                configuration: KafkaConsumerConfiguration(
                    kafka: try TestEnvironment.kafka(), groupID: harness.group + "-mirror", sessionTimeout: .seconds(6),
                    fetchWaitMax: .milliseconds(20)),
                logger: harness.logger)
            let stage = DeadLetterMirrorStage(
                topic: harness.dlqTopic, consumer: consumer,
                store: DeadLetterStore(client: harness.client, logger: harness.logger), metrics: metrics, health: health,
                stallAfter: .seconds(1),
                migrations: MigrationWait(database: harness.client, condition: .mirrorMigrations, health: health, logger: harness.logger),
                logger: harness.logger)
            // The consumer comes first: it leaves the group once the stage has stopped.
            let group = ServiceGroup(services: [consumer, stage], logger: harness.logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await eventually(within: .seconds(60), "readiness says where the mirror is stuck") {
                    health.readiness.checks["dlq-mirror.progress"]?.contains("stuck at \(harness.dlqTopic)/0/0") == true
                }
                #expect(!health.readiness.ready)
                #expect(!metrics.render().contains("proactivity_dlq_mirror_stalled_seconds 0\n"))
                try await harness.execute("DROP TRIGGER refuse ON worker_dlq")
                try await eventually(within: .seconds(60), "the mirror moves again") {
                    health.readiness.checks["dlq-mirror.progress"] == "ok"
                }
                #expect(metrics.render().contains("proactivity_dlq_mirror_stalled_seconds 0"))
                #expect(try await harness.count("SELECT count(*)::int FROM worker_dlq") == 1)
                await group.triggerGracefulShutdown()
            }
        }
    }
}
