import ArgumentParser
import Foundation
import Kafka

/// How to reach Kafka: shared by every command that talks to the cluster.
public struct KafkaOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(
        name: .customLong("bootstrap-servers"),
        help: "Kafka bootstrap servers, host:port[,host:port]. Default: $KAFKA_BOOTSTRAP_SERVERS, else localhost:9092."
    )
    public var bootstrapServers: String?

    @Option(
        name: [.customShort("X"), .customLong("kafka-property")],
        help: ArgumentHelp(
            "A librdkafka property as name=value (repeatable), e.g. -X security.protocol=SASL_SSL.",
            valueName: "name=value")
    )
    public var properties: [String] = []

    public func validate() throws {
        for property in properties where !property.contains("=") {
            throw ValidationError("-X takes name=value; got '\(property)'")
        }
    }

    /// The client configuration these options describe.
    public func configuration(clientID: String = "proactivity") -> KafkaConfiguration {
        let servers = bootstrapServers ?? ProcessInfo.processInfo.environment["KAFKA_BOOTSTRAP_SERVERS"] ?? "localhost:9092"
        var passThrough: [String: String] = [:]
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1)
            passThrough[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return KafkaConfiguration(bootstrapServers: servers, clientID: clientID, properties: passThrough)
    }
}
