import ArgumentParser
import Kafka
import Logging
import Observability

/// Log verbosity, and the one-time logging set-up every command runs first.
public struct LoggingOptions: ParsableArguments, Sendable {
    public init() {}

    /// Read through the configuration (``KafkaOptions/commandLine``), above `LOG_LEVEL`.
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Default: $LOG_LEVEL, else info.")
    public var logLevel: String?

    public func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("unknown log level '\(logLevel)'")
        }
    }

    /// Bootstraps swift-log and returns the command's logger, after logging which
    /// librdkafka was loaded (and warning when it is too old for some brokers).
    /// - Parameters:
    ///   - json: one JSON object per line (the stages) instead of plain text.
    ///   - level: the configured level (this option's, else `LOG_LEVEL`'s, else info).
    ///   - librdkafkaLine: the level of the line naming the loaded librdkafka: info in a
    ///     long-running stage's start-up record, debug in a one-shot command, whose
    ///     output is for a person (the warning of a too-old library shows in both).
    func makeLogger(label: String, json: Bool, level: Logger.Level, librdkafkaLine: Logger.Level) -> Logger {
        // Lines written inside a span (a tick's work) carry its trace_id and span_id.
        LoggingSystem.bootstrap(
            { label, provider in
                if json { return JSONLogHandler(label: label, level: level, metadataProvider: provider) }
                var handler = StreamLogHandler.standardError(label: label, metadataProvider: provider)
                handler.logLevel = level
                return handler
            }, metadataProvider: .traceContext)
        let logger = Logger(label: label)
        logger.log(level: librdkafkaLine, "librdkafka_loaded", metadata: ["version": .string(KafkaLibrary.version)])
        if KafkaLibrary.isOlderThan2_1 {
            logger.warning(
                "librdkafka_too_old",
                metadata: [
                    "hint": "librdkafka < 2.1 cannot talk to some brokers (Tansu); run with LD_LIBRARY_PATH from `scripts/stack env`"
                ])
        }
        return logger
    }
}
