@testable import ProactivityStore
import Testing

/// A job's name (free text from the jobs file) becomes its cursor's name in SQL.
@Suite struct CursorNameTests {
    @Test func aPlainNameIsKept() {
        #expect(JobQuery.cursorName(forJob: "event-reminder") == #""job_event-reminder""#)
        #expect(JobQuery.cursorName(forJob: "invoice_due_2") == #""job_invoice_due_2""#)
    }

    @Test(arguments: [#"a"; DROP TABLE events; --"#, "quote\"d", "nul\u{0}byte", "émoji 🎉", String(repeating: "x", count: 500), "", "\\\n\t"])
    func anyOtherNameGivesASafeIdentifier(_ name: String) {
        let cursor = JobQuery.cursorName(forJob: name)
        #expect(cursor.hasPrefix("\"job_") && cursor.hasSuffix("\""))
        let inner = cursor.dropFirst().dropLast()
        #expect(inner.count <= 52)
        #expect(inner.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, "\(cursor)")
    }
}
