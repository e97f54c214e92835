import Foundation

/// How the console shows a record's bytes (a key, a value, a header): JSON
/// pretty-printed when the bytes are UTF-8 JSON, text when they are printable UTF-8, and
/// otherwise a hex dump of the first ``hexLimit`` bytes. The result is always text for
/// ``HTML`` to escape, never markup.
enum RecordBytes {
    static let hexLimit = 4096
    /// JSON and text longer than this are cut (the whole value is in `GET /dlq/{id}`).
    static let textLimit = 256 * 1024

    enum Shown: Equatable {
        case json(String), text(String), hex(String, truncated: Bool)

        var kind: String {
            switch self {
            case .json: "UTF-8 JSON"
            case .text: "UTF-8 text"
            case .hex(_, let truncated): truncated ? "binary: first \(RecordBytes.hexLimit) bytes in hex" : "binary, in hex"
            }
        }

        var body: String {
            switch self {
            case .json(let text), .text(let text), .hex(let text, _): text
            }
        }
    }

    static func show(_ bytes: [UInt8]) -> Shown {
        if let text = String(validating: bytes, as: UTF8.self) {
            if let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
                let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
            {
                return .json(String(String(decoding: pretty, as: UTF8.self).prefix(textLimit)))
            }
            if text.unicodeScalars.allSatisfy({ $0 == "\n" || $0 == "\t" || $0 == "\r" || !($0.properties.generalCategory == .control) }) {
                return .text(String(text.prefix(textLimit)))
            }
        }
        return .hex(hexDump(bytes.prefix(hexLimit)), truncated: bytes.count > hexLimit)
    }

    /// `offset  hex bytes  |ascii|`, 16 bytes a line.
    static func hexDump(_ bytes: ArraySlice<UInt8>) -> String {
        var lines: [String] = []
        let start = bytes.startIndex
        for lineStart in stride(from: start, to: bytes.endIndex, by: 16) {
            let line = bytes[lineStart..<min(lineStart + 16, bytes.endIndex)]
            let hex = line.map { String(format: "%02x", $0) }.joined(separator: " ")
            let ascii = String(line.map { (0x20...0x7E).contains($0) ? Character(UnicodeScalar($0)) : "." })
            lines.append(String(format: "%08x  ", lineStart - start) + hex.padding(toLength: 47, withPad: " ", startingAt: 0) + "  |\(ascii)|")
        }
        return lines.joined(separator: "\n")
    }
}
