import Kafka
import ProactivityCore

/// Applies `topics/` definitions: creates the topics that are missing, leaves existing
/// ones alone, and reports drift (a partition count other than defined).
public enum TopicApplier {
    /// What applying did to one topic.
    public struct Outcome: Sendable, Hashable {
        public var role: String
        public var name: String
        public var created: Bool
        /// Why the topic differs from its definition, if it does.
        public var drift: String?
    }

    public static func apply(_ definitions: [TopicDefinition], admin: KafkaAdmin) async throws -> [Outcome] {
        let created = try await admin.createTopics(
            definitions.map {
                KafkaTopicSpecification(name: $0.name, partitions: $0.partitions, replicationFactor: $0.replicationFactor, configs: $0.configs)
            })
        let existing = Dictionary(uniqueKeysWithValues: try await admin.listTopics().map { ($0.name, $0.partitionCount) })
        return definitions.map { definition in
            var drift: String?
            if let partitions = existing[definition.name], partitions != Int(definition.partitions) {
                drift = "\(partitions) partitions, defined \(definition.partitions)"
            }
            return Outcome(role: definition.role, name: definition.name, created: created[definition.name] == .created, drift: drift)
        }
    }
}
