import Foundation

/// A command's `--json` output: pretty-printed, keys in snake_case and sorted, so the
/// same value always prints the same text.
public func jsonOutput(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
