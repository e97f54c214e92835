import Foundation
import Logging

/// Writes each log record as one JSON object per line: `timestamp`, `level`, `event`
/// (the message, e.g. `worker_job_succeeded`), `logger`, then the metadata fields
/// (e.g. `job_name`, `severity`), for log pipelines such as Loki.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let output: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public init(label: String, level: Logger.Level) {
        self.init(label: label, level: level) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// A handler writing each line to `output`.
    public init(label: String, level: Logger.Level, output: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [
            "timestamp": Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "event": event.message.description,
            "logger": label,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) where fields[key] == nil {
            fields[key] = Self.plain(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        output(String(decoding: data, as: UTF8.self))
    }

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
    }
}
