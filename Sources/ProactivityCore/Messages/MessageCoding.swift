import Foundation

/// The JSON conventions of every message we publish: snake_case keys, ISO 8601 UTC
/// timestamps with milliseconds, sorted keys (stable bytes for the same content).
public enum MessageCoding {
    /// The schema version this build writes and reads.
    public static let schemaVersion = 1

    /// A message whose bytes cannot be used, with the reason.
    public struct DecodingFailure: Error, CustomStringConvertible {
        public let description: String
        /// The message is well-formed but of a schema version this build does not read.
        public var isUnknownVersion = false
    }

    public static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        // Our message types hold only encodable values; a failure here is a programming error.
        return Array(try! encoder.encode(value))
    }

    /// Decodes a message after checking its `schema_version`.
    /// - Throws: ``DecodingFailure`` for bytes that are not JSON, an unknown schema
    ///   version, or missing/mistyped fields.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(DecodingFailure) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 timestamp")
            }
            return date
        }
        let data = Data(bytes)
        guard let envelope = try? decoder.decode(Envelope.self, from: data) else {
            throw DecodingFailure(description: "not a JSON object")
        }
        guard let version = envelope.schemaVersion else { throw DecodingFailure(description: "no schema_version") }
        guard version == schemaVersion else {
            throw DecodingFailure(
                description: "unknown schema_version \(version) (this build reads \(schemaVersion))", isUnknownVersion: true)
        }
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw DecodingFailure(description: "invalid \(T.self): \(error)")
        }
    }

    /// The field every message has, read before the rest.
    private struct Envelope: Decodable { var schemaVersion: Int? }

    /// `2026-11-25T15:05:00.000Z` (``Timestamp``).
    public static func timestamp(_ date: Date) -> String {
        Timestamp.format(date)
    }

    /// Reads ISO 8601 with or without fractional seconds.
    public static func parseTimestamp(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
