import Foundation
import Kafka
import Logging
import Observability
import PostgresNIO
import ProactivityStore
import ServiceLifecycle

/// Checks every 5 s (every second while the process is not ready) that the broker and
/// the database answer, that the process's topics exist, and that each consumer is a
/// member of its group (with partitions, or idle in a group with more members than
/// partitions), and reports it to readiness and metrics (also each topic's partition
/// count and how many of them each consumer holds: summed over every process, what no
/// member holds).
///
/// A topic that disappears (a broker that lost its state, a deleted topic) makes
/// `probe.topics` fail, naming it, until it exists again (`proactivity topics apply`);
/// a topic whose partition count changes (recreated) is logged. The consumers notice a
/// recreated topic by themselves, within their metadata refresh interval.
public struct ReadinessProbe: Service {
    let admin: KafkaAdmin
    let database: PostgresClient
    /// The consumers, by the stage that owns them (`worker`, `dlq-mirror`).
    let consumers: [String: KafkaConsumer]
    let topics: [String]
    let health: HealthState
    let metrics: EngineMetrics
    let interval: Duration
    let logger: Logger

    public init(
        admin: KafkaAdmin, database: PostgresClient, consumers: [String: KafkaConsumer], topics: [String], health: HealthState,
        metrics: EngineMetrics, interval: Duration = .seconds(5), logger: Logger
    ) {
        self.admin = admin
        self.database = database
        self.consumers = consumers
        self.topics = topics
        self.health = health
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
        health.require(.probeKafka)
        health.require(.probeDatabase)
        health.require(.probeTopics)
        for stage in consumers.keys { health.require(Self.assignment(of: stage), initially: Self.joining) }
    }

    /// Checks until graceful shutdown; the admin client is a service of its own, listed
    /// before this one.
    public func run() async throws {
        var memory = Memory()
        // While something fails, check every second: readiness returns soon after the
        // dependency does.
        let failingInterval = min(interval, .seconds(1))
        await repeatingUntilShutdown(every: failingInterval, wait: { health.readiness.ready ? interval : failingInterval }) {
            await check(&memory)
            return true
        }
    }

    /// What the checks remember from one to the next.
    struct Memory {
        /// Each topic's partition count, to notice a topic that was recreated.
        var partitionCounts: [String: Int] = [:]
        /// Since when each stage's consumer has had no partitions although its topics exist.
        var unassignedSince: [String: ContinuousClock.Instant] = [:]
        /// The stages whose consumer had partitions since it last joined again: losing them all
        /// arms one resubscription.
        var hadPartitions: Set<String> = []
    }

    /// Why a consumer that is not a member of its group yet is not ready: the wait an
    /// operator may not expect is named (a dynamic member that died keeps its partitions
    /// for its session, 30 s by default). A member whose assignment holds no partition
    /// (its group has more members than partitions) is ready: it is idle, and takes
    /// partitions over when a member leaves.
    static let joining =
        "the consumer has not joined its group yet (after a member died without leaving, the group waits out that member's session first)"

    /// How long a consumer that lost all its partitions may stay without any while its
    /// topics exist before it joins its group again (once per loss: a member left without
    /// partitions because the group has more members than partitions is normal).
    static let resubscribeAfter: Duration = .seconds(12)

    /// Runs every check once.
    func check(_ memory: inout Memory) async {
        var existing: Set<String>?
        do {
            let topics = try await admin.listTopics(timeout: .seconds(3))
            existing = Set(topics.map(\.name))
            health.report(.probeKafka, failing: nil)
            metrics.dependency("kafka", up: true)
            checkTopics(topics, partitionCounts: &memory.partitionCounts)
        } catch {
            health.report(.probeKafka, failing: "broker unreachable: \(error)")
            metrics.dependency("kafka", up: false)
        }
        let databaseFailure = await database.unreachableReason(within: .seconds(3))
        health.report(.probeDatabase, failing: databaseFailure)
        metrics.dependency("database", up: databaseFailure == nil)
        for (stage, consumer) in consumers {
            let assignment = consumer.assignment
            for topic in consumer.subscription {
                metrics.consumerPartitions(stage: stage, topic: topic, assignment.count { $0.topic == topic })
            }
            let unassigned = assignment.isEmpty
            health.report(Self.assignment(of: stage), failing: unassigned && !consumer.isGroupMember ? Self.joining : nil)
            if !unassigned { memory.hadPartitions.insert(stage) }
            guard unassigned, memory.hadPartitions.contains(stage), let existing, !consumer.subscription.isEmpty, existing.isSuperset(of: consumer.subscription) else {
                memory.unassignedSince[stage] = nil
                continue
            }
            let since = memory.unassignedSince[stage] ?? .now
            memory.unassignedSince[stage] = since
            guard ContinuousClock.now - since >= Self.resubscribeAfter else { continue }
            memory.unassignedSince[stage] = nil
            memory.hadPartitions.remove(stage)
            logger.warning(
                "kafka_consumer_resubscribing",
                metadata: ["stage": "\(stage)", "topics": .array(consumer.subscription.map { .string("\($0)") }), "reason": "no partitions for \(Self.resubscribeAfter) although the topics exist"])
            do {
                try consumer.resubscribe()
            } catch {
                logger.error("kafka_consumer_resubscribe_failed", metadata: ["stage": "\(stage)", "error": "\(error)"])
            }
        }
    }

    private func checkTopics(_ existing: [KafkaTopicDescription], partitionCounts: inout [String: Int]) {
        let counts = Dictionary(existing.map { ($0.name, $0.partitionCount) }, uniquingKeysWith: { first, _ in first })
        let missing = topics.filter { counts[$0] == nil }
        for topic in topics {
            metrics.topicPartitions(topic, counts[topic] ?? 0)
            guard let count = counts[topic] else { continue }
            if let before = partitionCounts[topic], before != count {
                logger.error(
                    "kafka_topic_changed",
                    metadata: [
                        "topic": "\(topic)", "partitions_before": .stringConvertible(before), "partitions": .stringConvertible(count),
                        "hint": "the topic was recreated (a broker that lost its state?): records of the old one are gone; `proactivity topics apply` reports its drift from the definition",
                    ])
            }
            partitionCounts[topic] = count
        }
        let reason = missing.isEmpty ? nil : "missing topics: \(missing.joined(separator: ", ")) (create them: proactivity topics apply)"
        if let reason, health.readiness.checks[ReadinessCondition.probeTopics.name] == "ok" { logger.error("kafka_topics_missing", metadata: ["error": "\(reason)"]) }
        health.report(.probeTopics, failing: reason)
    }

    /// The assignment condition of a stage's consumer (`worker` or `dlq-mirror`).
    static func assignment(of stage: String) -> ReadinessCondition {
        stage == StageAssembly.Stage.mirror.rawValue ? .mirrorAssignment : .workerAssignment
    }
}
