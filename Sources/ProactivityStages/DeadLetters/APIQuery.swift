import Foundation
import Hummingbird
import ProactivityCore

/// A request's query parameters, read strictly: a name the route does not know, or a
/// value that is not of its kind, is a 400 naming the parameter, never a silent default.
struct APIQuery {
    private let parameters: [String: String]

    /// - Throws: `HTTPError` 400 for a parameter not in `known`, or given twice.
    init(_ query: Parameters, known: Set<String>) throws {
        var parameters: [String: String] = [:]
        for (name, value) in query {
            let name = String(name)
            guard known.contains(name) else {
                throw HTTPError(
                    .badRequest,
                    message: "unknown parameter '\(name.prefix(100))' (this route takes: \(known.isEmpty ? "none" : known.sorted().joined(separator: ", ")))")
            }
            guard parameters[name] == nil else { throw HTTPError(.badRequest, message: "parameter '\(name)' is given twice") }
            // PostgreSQL text cannot hold NUL: refused here, not as a server error.
            guard !value.contains("\u{0}") else { throw HTTPError(.badRequest, message: "parameter '\(name)' contains a NUL character") }
            parameters[name] = String(value)
        }
        self.parameters = parameters
    }

    func string(_ name: String) -> String? { parameters[name] }

    /// `true`/`false`/`1`/`0`, in any case.
    func bool(_ name: String) throws -> Bool? {
        guard let text = parameters[name] else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw HTTPError(.badRequest, message: "\(name) must be true, false, 1 or 0, not '\(text.prefix(100))'")
        }
    }

    func int<T: FixedWidthInteger>(_ name: String, in range: ClosedRange<T>) throws -> T? {
        guard let text = parameters[name] else { return nil }
        guard let value = T(text), range.contains(value) else {
            throw HTTPError(.badRequest, message: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text.prefix(100))'")
        }
        return value
    }

    func date(_ name: String) throws -> Date? {
        guard let text = parameters[name] else { return nil }
        guard let date = MessageCoding.parseTimestamp(text) else {
            throw HTTPError(.badRequest, message: "\(name) must be an ISO 8601 time like 2026-11-25T10:00:00Z, not '\(text.prefix(100))'")
        }
        return date
    }
}
