import ArgumentParser
import Foundation
import Logging
import ProactivityStages

/// Options of every command that reads the engine's settings.
public struct EngineOptions: ParsableArguments, Sendable {
    public init() {}

    @OptionGroup public var kafka: KafkaOptions

    /// Loads the settings and sets up logging, or exits 2 listing every problem.
    /// - Parameter librdkafkaLine: the level of the line naming the loaded librdkafka
    ///   (info for the long-running stages, debug by default: a one-shot command's
    ///   output is for a person).
    public func load(label: String, librdkafkaLine: Logger.Level = .debug) async throws -> (EngineSettings, Logger) {
        do {
            let settings = try await EngineSettings.load(commandLine: kafka.commandLine)
            let logger = kafka.logging.makeLogger(label: label, json: settings.logFormat == .json, level: settings.logLevel, librdkafkaLine: librdkafkaLine)
            return (settings, logger)
        } catch {
            throw exitListing(error)
        }
    }
}
