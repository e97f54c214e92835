import AsyncAlgorithms
import Kafka
import ProactivityCore

/// Applies `topics/` definitions: creates the topics that are missing, leaves existing
/// ones alone, and reports drift (a partition count other than defined). On request it
/// deletes and creates again a drifted topic, for brokers whose records are disposable.
public enum TopicApplier {
    /// A topic whose partition count is not its definition's.
    public struct Drift: Sendable, Hashable, CustomStringConvertible {
        /// The partitions the topic has.
        public var partitions: Int
        /// The partitions its definition asks for.
        public var defined: Int
        public var description: String { "\(partitions) partitions, defined \(defined)" }

        public init(partitions: Int, defined: Int) {
            self.partitions = partitions
            self.defined = defined
        }
    }

    /// What applying did to one topic.
    public struct Outcome: Sendable, Hashable {
        public var role: String
        public var name: String
        public var created: Bool
        /// How the topic differs from its definition, if it still does.
        public var drift: Drift?
        /// The drift the topic had before it was deleted and created again, if it was.
        public var recreatedFrom: Drift?
    }

    /// Applies the definitions.
    ///
    /// - Parameters:
    ///   - recreatingDrifted: delete each drifted topic and create it as defined. Its
    ///     records and its groups' committed offsets are lost, so only for a broker whose
    ///     records are disposable (the local stack's keeps nothing across a restart, and a
    ///     client then creates topics with the broker's default partition count). Kafka
    ///     cannot remove partitions and adding some moves keys to other partitions:
    ///     recreation is the one repair that gives the defined layout in every case.
    ///   - recreationTimeout: how long a recreation may wait for the broker to finish a
    ///     deletion (Apache Kafka completes it in the background).
    public static func apply(
        _ definitions: [TopicDefinition], admin: KafkaAdmin, recreatingDrifted: Bool = false,
        recreationTimeout: Duration = .seconds(60)
    ) async throws -> [Outcome] {
        let created = try await admin.createTopics(definitions.map(specification))
        var outcomes = definitions.map {
            Outcome(role: $0.role, name: $0.name, created: created[$0.name] == .created, drift: nil, recreatedFrom: nil)
        }
        try await measureDrift(&outcomes, definitions, admin: admin)
        guard recreatingDrifted else { return outcomes }
        let drifted = definitions.filter { definition in outcomes.contains { $0.name == definition.name && $0.drift != nil } }
        guard !drifted.isEmpty else { return outcomes }
        try await admin.deleteTopics(drifted.map(\.name))
        let deadline = ContinuousClock.now + recreationTimeout
        var pending = drifted
        var polls = AsyncTimerSequence(interval: .milliseconds(200), clock: .continuous).makeAsyncIterator()
        while true {
            // Created once the deletion is complete: no longer listed, and not refused as
            // existing (Kafka refuses a name whose deletion is still under way).
            let listed = Set(try await admin.listTopics().map(\.name))
            let gone = pending.filter { !listed.contains($0.name) }
            let results = gone.isEmpty ? [:] : try await admin.createTopics(gone.map(specification))
            pending.removeAll { results[$0.name] == .created }
            guard !pending.isEmpty else { break }
            guard ContinuousClock.now < deadline else {
                throw KafkaError(
                    code: .timedOut,
                    message: "deleted topics not created again within \(recreationTimeout): \(pending.map(\.name).joined(separator: ", "))")
            }
            guard await polls.next() != nil else { throw CancellationError() }
        }
        for index in outcomes.indices where outcomes[index].drift != nil {
            outcomes[index].recreatedFrom = outcomes[index].drift
        }
        // A client that asked for a topic in between may have created it with the
        // broker's default again: what is reported is what the broker now has.
        try await measureDrift(&outcomes, definitions, admin: admin)
        return outcomes
    }

    private static func specification(_ definition: TopicDefinition) -> KafkaTopicSpecification {
        KafkaTopicSpecification(
            name: definition.name, partitions: definition.partitions, replicationFactor: definition.replicationFactor,
            configs: definition.configs)
    }

    /// Sets each outcome's drift from the partition counts the broker lists now.
    private static func measureDrift(_ outcomes: inout [Outcome], _ definitions: [TopicDefinition], admin: KafkaAdmin) async throws {
        let existing = Dictionary(uniqueKeysWithValues: try await admin.listTopics().map { ($0.name, $0.partitionCount) })
        for (index, definition) in definitions.enumerated() {
            let partitions = existing[definition.name]
            outcomes[index].drift =
                partitions.flatMap { $0 == Int(definition.partitions) ? nil : Drift(partitions: $0, defined: Int(definition.partitions)) }
        }
    }
}
