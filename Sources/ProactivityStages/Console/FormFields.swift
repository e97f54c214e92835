import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body or a query string, read
/// strictly: a name outside `known` or a malformed pair is a 400 naming it. A name may
/// repeat (checkboxes); ``value(_:)`` refuses a repeated single-valued field.
struct FormFields: Sendable {
    private(set) var pairs: [(name: String, value: String)] = []

    /// - Throws: `HTTPError` 400 for an unknown name, bad percent-encoding or a NUL.
    init(_ encoded: String, known: Set<String>) throws {
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count == 2 ? parts[1] : "") else {
                throw HTTPError(.badRequest, message: "a form field is not percent-encoded properly")
            }
            guard known.contains(name) else {
                throw HTTPError(.badRequest, message: "unknown field '\(name.prefix(100))' (this form takes: \(known.sorted().joined(separator: ", ")))")
            }
            guard !value.contains("\u{0}") else { throw HTTPError(.badRequest, message: "field '\(name)' contains a NUL character") }
            pairs.append((name, value))
        }
    }

    /// A request's form body (at most 1 MB).
    static func body(of request: Request, known: Set<String>) async throws -> FormFields {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return try FormFields(String(decoding: buffer.readableBytesView, as: UTF8.self), known: known)
    }

    /// A request's query string.
    static func query(of request: Request, known: Set<String>) throws -> FormFields {
        try FormFields(request.uri.query ?? "", known: known)
    }

    /// The one value of `name`, `nil` when absent or empty.
    func value(_ name: String) throws -> String? {
        let values = all(name)
        guard values.count <= 1 else { throw HTTPError(.badRequest, message: "field '\(name)' is given twice") }
        return values.first.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Every value of `name`.
    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
