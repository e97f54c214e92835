import ArgumentParser
import Foundation
import Kafka
import Logging
import ProactivityStages

/// What the command line sets of the configuration: `--bootstrap-servers`, `-X` and
/// `--log-level`, the top layer of ``SettingsReader``'s stack. Commands that talk only to
/// Kafka load their settings through it; ``EngineOptions`` adds the engine's settings.
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
            "A librdkafka property as name=value (repeatable), e.g. -X security.protocol=SASL_SSL; wins over KAFKA_* variables.",
            valueName: "name=value")
    )
    public var properties: [String] = []

    @OptionGroup public var logging: LoggingOptions

    public func validate() throws {
        for property in properties where !property.contains("=") {
            throw ValidationError("-X takes name=value; got '\(property)'")
        }
    }

    /// The command line's layer of the configuration.
    public var commandLine: CommandLineValues {
        var values: [String: String] = [:]
        values["kafka.bootstrapServers"] = bootstrapServers
        values["log.level"] = logging.logLevel
        var kafkaProperties: [String: String] = [:]
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            kafkaProperties[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return CommandLineValues(values: values, kafkaProperties: kafkaProperties)
    }

    /// Loads the Kafka client settings and sets up logging (plain text), or exits 2
    /// listing every problem.
    public func load(label: String, clientID: String) async throws -> (KafkaConfiguration, Logger) {
        do {
            let (kafka, level) = try await EngineSettings.loadKafka(commandLine: commandLine, clientID: clientID)
            return (kafka, logging.makeLogger(label: label, json: false, level: level, librdkafkaLine: .debug))
        } catch {
            throw exitListing(error)
        }
    }
}

/// Writes the configuration's problems to standard error; the exit status that goes with them.
func exitListing(_ error: EngineSettings.Invalid) -> ExitCode {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    return ExitCode(2)
}
