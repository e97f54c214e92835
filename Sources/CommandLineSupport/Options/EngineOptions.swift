import ArgumentParser
import Foundation
import Logging
import ProactivityStages

/// Options of every command that reads the engine's settings.
public struct EngineOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(
        name: [.customShort("X"), .customLong("kafka-property")],
        help: ArgumentHelp("A librdkafka property as name=value (repeatable); wins over KAFKA_* variables.", valueName: "name=value"))
    public var properties: [String] = []

    @OptionGroup public var logging: LoggingOptions

    public func validate() throws {
        for property in properties where !property.contains("=") {
            throw ValidationError("-X takes name=value; got '\(property)'")
        }
    }

    /// Loads the settings and sets up logging, or exits non-zero listing every problem.
    public func load(label: String) async throws -> (EngineSettings, Logger) {
        var passThrough: [String: String] = [:]
        for property in properties {
            let parts = property.split(separator: "=", maxSplits: 1)
            passThrough[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        do {
            let settings = try await EngineSettings.load(kafkaProperties: passThrough)
            let logger = logging.makeLogger(label: label, json: settings.logFormat == "json", defaultLevel: settings.logLevel)
            return (settings, logger)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
