import Foundation

/// A topic as defined in `topics/*.json` (topics as code).
///
/// ```json
/// {"role": "ticks", "name": "proactivity.ticks", "partitions": 6, "replication_factor": 1,
///  "configs": {"retention.ms": "604800000", "cleanup.policy": "delete"},
///  "schema": "schemas/tick.schema.json"}
/// ```
/// `role` is what the engine uses the topic for (`ticks`, `alerts`, `dlq`); settings may
/// rename the topic of a role.
public struct TopicDefinition: Sendable, Hashable, Decodable {
    public var role: String
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    public var configs: [String: String]
    /// The JSON Schema of the topic's messages, relative to the topics folder.
    public var schema: String?

    /// Reads every `*.json` file of a folder, sorted by role.
    public static func load(from directory: URL) throws -> [TopicDefinition] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            do {
                return try decoder.decode(TopicDefinition.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
            } catch {
                throw TopicDefinitionError(description: "topics/\(name) is not a valid topic definition: \(error)")
            }
        }.sorted { $0.role < $1.role }
    }
}

/// A topic definition file that cannot be used.
public struct TopicDefinitionError: Error, CustomStringConvertible {
    public let description: String
}
