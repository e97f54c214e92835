import Foundation
import Kafka
import Logging
import PostgresNIO
import ProactivityStore

/// What `proactivity status` shows: each job's recent runs (from the audit trail), the
/// lag of the worker and DLQ-mirror groups (from the broker), and the DLQ backlog.
/// A source that cannot be read is reported in `problems`; the rest is still shown.
public struct StatusReport: Sendable, Codable {
    /// A consumer group's position on one partition.
    public struct PartitionLag: Sendable, Codable {
        public var partition: Int32
        /// The committed offset; `nil` when the group has committed nothing there.
        public var committed: Int64?
        /// The next offset to be written (the high watermark).
        public var end: Int64
        public var lag: Int64
    }

    /// A consumer group on a topic.
    public struct GroupLag: Sendable, Codable {
        public var group: String
        public var topic: String
        public var partitions: [PartitionLag]
        public var total: Int64 { partitions.reduce(0) { $0 + $1.lag } }
    }

    public var generatedAt: Date
    /// The period `runs` and `failures` of ``jobs`` count.
    public var since: Date
    public var jobs: [JobRunSummary]
    /// Enabled jobs with no run in the audit trail at all.
    public var neverRun: [String]
    public var lag: [GroupLag]
    public var deadLetters: [DeadLetterBacklogGroup]
    public var problems: [String]

    /// Reads every source, each bounded by `timeout`.
    public static func gather(
        settings: EngineSettings, database: PostgresClient, since: Date, timeout: Duration = .seconds(10), logger: Logger
    ) async -> StatusReport {
        var report = StatusReport(generatedAt: Date(), since: since, jobs: [], neverRun: [], lag: [], deadLetters: [], problems: [])
        // A database without this build's migrations explains what follows (and keeps the
        // stages waiting). One that cannot be read says so below.
        if let state = try? await MigrationState.of(database, logger: logger), case .behind = state {
            report.problems.append(state.description)
        }
        do {
            report.jobs = try await JobEventStore(client: database, logger: logger).summaries(since: since)
            report.deadLetters = try await DeadLetterStore(client: database, logger: logger).backlogGroups()
            let seen = Set(report.jobs.map(\.jobName))
            report.neverRun = settings.jobs.enabled.map(\.name).filter { !seen.contains($0) }
        } catch {
            report.problems.append("database \(settings.database): \(DatabaseError.describe(error))")
        }
        for (group, topic) in [(settings.workerGroupID, settings.ticksTopic), (settings.mirrorGroupID, settings.dlqTopic)] {
            do {
                report.lag.append(try await lag(of: group, on: topic, kafka: settings.kafka, timeout: timeout, logger: logger))
            } catch {
                report.problems.append("lag of \(group) on \(topic): \(error)")
            }
        }
        return report
    }

    /// Reads a group's committed offsets and the partitions' ends without joining the group.
    static func lag(of group: String, on topic: String, kafka: KafkaConfiguration, timeout: Duration, logger: Logger) async throws
        -> GroupLag
    {
        let topics = try await withKafkaClient(try KafkaAdmin(configuration: kafka, logger: logger)) { admin in
            try await admin.listTopics(timeout: timeout)
        }
        guard let description = topics.first(where: { $0.name == topic }) else {
            throw StatusProblem(description: "the topic does not exist (run `proactivity topics apply`)")
        }
        // The consumer never joins the group: it only reads the group's offsets.
        let consumer = try KafkaConsumer(configuration: KafkaConsumerConfiguration(kafka: kafka, groupID: group), logger: logger)
        return try await withKafkaClient(consumer) { consumer in
            let partitions = (0..<Int32(description.partitionCount)).map { KafkaTopicPartition(topic: topic, partition: $0) }
            let committed = try await consumer.committedOffsets(for: partitions, timeout: timeout)
            var result = GroupLag(group: group, topic: topic, partitions: [])
            for position in committed {
                let watermarks = try await consumer.watermarks(of: position.topicPartition, timeout: timeout)
                let offset = position.offset >= 0 ? position.offset : nil
                result.partitions.append(
                    PartitionLag(partition: position.topicPartition.partition, committed: offset, end: watermarks.high,
                        lag: max(0, watermarks.high - (offset ?? watermarks.low))))
            }
            return result
        }
    }
}

/// A status source that is readable but not as expected.
struct StatusProblem: Error, CustomStringConvertible {
    let description: String
}
