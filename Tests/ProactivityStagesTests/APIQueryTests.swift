import Foundation
import Hummingbird
import ProactivityCore
@testable import ProactivityStages
import Testing

/// The DLQ API's query parameters: what is not of its kind is a 400 naming the parameter.
@Suite struct APIQueryTests {
    private func query(_ text: String, known: Set<String>) throws -> APIQuery {
        let pairs = text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (key: parts[0], value: parts.count > 1 ? parts[1] : "")
        }
        return try APIQuery(Parameters(pairs), known: known)
    }

    private func message(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as HTTPError {
            #expect(error.status == .badRequest)
            return error.body
        } catch {
            return "\(error)"
        }
    }

    @Test func typedValuesAreReadAndDefaultsAreNil() throws {
        let parsed = try query("limit=50&processed=TRUE&since=2026-11-25T10:00:00Z&job=x", known: ["limit", "processed", "since", "job", "after"])
        #expect(try parsed.int("limit", in: 1...1000) == 50)
        #expect(try parsed.bool("processed") == true)
        #expect(try parsed.date("since") == MessageCoding.parseTimestamp("2026-11-25T10:00:00Z"))
        #expect(parsed.string("job") == "x")
        #expect(try parsed.int("after", in: Int64(0)...Int64.max) == nil)
    }

    @Test func unknownRepeatedAndNULParametersAreRefusedByName() {
        #expect(message { _ = try query("bogus=1", known: ["limit"]) }?.contains("unknown parameter 'bogus' (this route takes: limit)") == true)
        #expect(message { _ = try query("limit=1&limit=2", known: ["limit"]) }?.contains("parameter 'limit' is given twice") == true)
        #expect(message { _ = try query("job=a\u{0}b", known: ["job"]) }?.contains("parameter 'job' contains a NUL character") == true)
    }

    @Test func valuesOfTheWrongKindAreRefusedByName() throws {
        let parsed = try query("limit=99999999999999999999&processed=yes&since=yesterday", known: ["limit", "processed", "since"])
        #expect(message { _ = try parsed.int("limit", in: 1...1000) }?.contains("limit must be a whole number from 1 to 1000") == true)
        #expect(message { _ = try parsed.bool("processed") }?.contains("processed must be true, false, 1 or 0, not 'yes'") == true)
        #expect(message { _ = try parsed.date("since") }?.contains("since must be an ISO 8601 time") == true)
    }
}
