import Foundation
import Logging
@testable import Observability
import Synchronization
import Testing

/// One JSON object per line, with numbers, durations, booleans and lists as JSON types,
/// so a log pipeline can sum, compare and filter on them.
@Suite struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let all = Mutex<[String]>([])
    }

    func logged(_ metadata: Logger.Metadata, handlerMetadata: Logger.Metadata = [:]) throws -> [String: Any] {
        let lines = Lines()
        var handler = JSONLogHandler(label: "test", level: .info) { line in lines.all.withLock { $0.append(line) } }
        handler.metadata = handlerMetadata
        Logger(label: "test") { _ in handler }.info("event_name", metadata: metadata)
        let line = try #require(lines.all.withLock { $0 }.first)
        #expect(!line.contains("\n"), "one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func numbersDurationsBooleansAndListsKeepTheirJSONTypes() throws {
        let object = try logged([
            "offset": .stringConvertible(Int64(42)), "partition": .stringConvertible(Int32(-1)), "ratio": .stringConvertible(0.25),
            "runtime_seconds": .stringConvertible(Duration.milliseconds(1500)), "lost": .stringConvertible(true),
            "jobs": .array([.string("a"), .string("b")]), "error": .string("12"), "huge": .stringConvertible(UInt64.max),
            "not_a_number": .stringConvertible(Double.nan),
        ])
        #expect(object["event"] as? String == "event_name" && object["level"] as? String == "info" && object["logger"] as? String == "test")
        #expect((object["offset"] as? NSNumber)?.int64Value == 42)
        #expect((object["partition"] as? NSNumber)?.int64Value == -1)
        #expect((object["ratio"] as? NSNumber)?.doubleValue == 0.25)
        #expect((object["runtime_seconds"] as? NSNumber)?.doubleValue == 1.5)
        #expect(object["lost"] as? Bool == true)
        #expect(object["jobs"] as? [String] == ["a", "b"])
        #expect(object["error"] as? String == "12", "a string stays a string, even one that looks like a number")
        #expect(object["huge"] as? String == "18446744073709551615", "beyond Int64: its text, never a wrong number")
        #expect(object["not_a_number"] as? String == "nan", "JSON has no NaN")
    }

    @Test func theLineOwnFieldsWinAndTheFixedFieldsCannotBeOverwritten() throws {
        let object = try logged(["job_name": .string("own"), "event": .string("forged")], handlerMetadata: ["job_name": .string("handler")])
        #expect(object["job_name"] as? String == "own")
        #expect(object["event"] as? String == "event_name")
    }

    /// A rendered line of text numbers: what `"\(n)"` at a call site gives, kept as text.
    @Test func interpolatedValuesStayText() throws {
        let count = 3
        let object = try logged(["count": "\(count)"])
        #expect(object["count"] as? String == "3")
    }
}
