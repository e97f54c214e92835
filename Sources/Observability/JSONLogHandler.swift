import Foundation
import Logging

/// Writes each log record as one JSON object per line: `timestamp`, `level`, `event`
/// (the message, e.g. `worker_job_succeeded`), `logger`, then the metadata fields
/// (e.g. `job_name`, `severity`), for log pipelines such as Loki: numbers, durations
/// (seconds), booleans and lists keep their JSON types (``plain(_:)``). Fields of the
/// metadata provider (``Logger/MetadataProvider/traceContext``: `trace_id`, `span_id`)
/// come between the handler's metadata and the line's own, which wins.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let label: String
    private let output: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(label: label, level: level, metadataProvider: metadataProvider) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// A handler writing each line to `output`.
    public init(
        label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil, output: @escaping @Sendable (String) -> Void
    ) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
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
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        for (key, value) in merged where fields[key] == nil {
            fields[key] = Self.plain(value)
        }
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        output(String(decoding: data, as: UTF8.self))
    }

    /// A metadata value as JSON: `.string` as a string; `.stringConvertible` as a number
    /// for integers and finite floating-point values, as seconds (a number) for a
    /// `Duration`, as `true`/`false` for a `Bool`, else as its description; arrays and
    /// dictionaries as JSON arrays and objects. Call sites log numbers as
    /// `.stringConvertible(n)` (not `"\(n)"`), so a log pipeline can sum and compare them.
    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): typed(convertible)
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
    }

    private static func typed(_ value: any CustomStringConvertible & Sendable) -> Any {
        switch value {
        case let flag as Bool: return flag
        case let integer as any BinaryInteger: return Int64(exactly: integer).map { NSNumber(value: $0) } ?? integer.description
        case let number as Double: return number.isFinite ? NSNumber(value: number) : number.description
        case let number as Float: return number.isFinite ? NSNumber(value: Double(number)) : number.description
        case let duration as Duration:
            let (seconds, attoseconds) = duration.components
            return NSNumber(value: Double(seconds) + Double(attoseconds) / 1e18)
        default: return value.description
        }
    }
}
