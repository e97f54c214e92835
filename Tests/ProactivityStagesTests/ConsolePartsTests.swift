import Foundation
import Synchronization
@testable import ProactivityStages
import TestSupport
import Testing

/// The console's pure parts (no broker, no database): escaping, sessions and CSRF
/// tokens, the sign-in limit, form parsing, how record bytes are shown, how often the
/// broker is asked for the lag.
@Suite struct ConsolePartsTests {
    @Test func textAndAttributesAreEscapedWhateverTheyHold() throws {
        var random = try SeededRandom()
        let alphabet = Array(#"<>&"' =/abc\u{0}é😀"#.unicodeScalars)
        for _ in 0..<2000 {
            let text = String(String.UnicodeScalarView((0..<Int.random(in: 0...30, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
            let html = el("p", .class(text), HTMLAttribute("title", text)) { text }.markup
            let inner = html[html.index(after: html.firstIndex(of: ">")!)...].dropLast(4)
            #expect(!inner.contains("<") && !inner.contains(">"), "text cannot open a tag: \(html)")
            // Inside the start tag, only the element's own quotes delimit values.
            let start = html.prefix { $0 != ">" }
            #expect(start.filter { $0 == "\"" }.count == 4, "attribute values cannot close their quotes: \(html)")
        }
        #expect(HTML("<b>&'\"").markup == "&lt;b&gt;&amp;&#39;&quot;")
        #expect(el("input", .flag("checked")).markup == "<input checked>")
        #expect(el("a", .when(false, .class("x"))) { "a" }.markup == "<a>a</a>")
    }

    @Test func linksCarryValuesOnlyPercentEncoded() {
        let href = HTMLAttribute.href("/console/dlq/rows", [("job", "javascript:alert(1)"), ("fingerprint", "a&b=c <d>")])
        #expect(href.value == "/console/dlq/rows?job=javascript%3Aalert%281%29&fingerprint=a%26b%3Dc%20%3Cd%3E")
    }

    @Test func sessionsVerifyTheirOwnCookiesOnlyUntilTheyExpire() {
        let sessions = ConsoleSessions(token: "the-token", lifetime: 60)
        let now = Date()
        let (session, cookie) = sessions.issue(now: now)
        #expect(sessions.verify(cookie, now: now) == session)
        #expect(sessions.verify(cookie, now: now.addingTimeInterval(59)) == session)
        #expect(sessions.verify(cookie, now: now.addingTimeInterval(61)) == nil, "expired")
        #expect(ConsoleSessions(token: "another", lifetime: 60).verify(cookie, now: now) == nil, "another token's key")
        let parts = cookie.split(separator: ".").map(String.init)
        let extended = [parts[0], String(Int(parts[1])! + 3600), parts[2], parts[3]].joined(separator: ".")
        #expect(sessions.verify(extended, now: now) == nil, "a changed expiry breaks the MAC")
        for junk in ["", "v1", "v1...", "v2.\(parts[1]).\(parts[2]).\(parts[3])", cookie + "x", String(repeating: "a", count: 5000)] {
            #expect(sessions.verify(junk, now: now) == nil, "\(junk.prefix(40))")
        }
        #expect(sessions.isToken("the-token") && !sessions.isToken("the-token ") && !sessions.isToken(""))
    }

    @Test func aCSRFTokenBelongsToItsSession() {
        let sessions = ConsoleSessions(token: "the-token")
        let one = sessions.issue().session
        let two = sessions.issue().session
        #expect(one != two)
        #expect(sessions.isValidCSRF(sessions.csrfToken(for: one), for: one))
        #expect(!sessions.isValidCSRF(sessions.csrfToken(for: two), for: one))
        #expect(!sessions.isValidCSRF("", for: one) && !sessions.isValidCSRF("%%%", for: one))
    }

    @Test func theSignInLimitCountsFailuresPerPeerWithinItsWindow() {
        let limiter = SignInLimiter(limit: 3, window: 60, maximumPeers: 2)
        let start = Date()
        for second in 0..<3 { limiter.recordFailure("10.0.0.1", now: start.addingTimeInterval(Double(second))) }
        let held = limiter.check("10.0.0.1", now: start.addingTimeInterval(3))
        #expect(!held.allowed && held.retryAfter == 57)
        #expect(limiter.check("10.0.0.2", now: start.addingTimeInterval(3)).allowed, "another peer is not held up")
        #expect(limiter.check("10.0.0.1", now: start.addingTimeInterval(60.5)).allowed, "the oldest failure left the window")
        limiter.recordFailure("10.0.0.2", now: start)
        limiter.recordFailure("10.0.0.3", now: start)
        limiter.recordFailure("10.0.0.4", now: start)
        #expect(limiter.check("10.0.0.4", now: start).allowed)
    }

    @Test func formFieldsAreReadStrictly() throws {
        let fields = try FormFields("id=1&id=2&job=event%2Dreminder&note=a+b", known: ["id", "job", "note"])
        #expect(fields.all("id") == ["1", "2"])
        #expect(try fields.value("job") == "event-reminder")
        #expect(try fields.value("note") == "a b")
        #expect(throws: (any Error).self) { try fields.value("id") }
        #expect(throws: (any Error).self) { try FormFields("other=1", known: ["id"]) }
        #expect(throws: (any Error).self) { try FormFields("id=%ZZ", known: ["id"]) }
        #expect(throws: (any Error).self) { try FormFields("id=%00", known: ["id"]) }
    }

    @Test func recordBytesShowAsJSONTextOrCappedHex() {
        #expect(RecordBytes.show(Array(#"{"b":1,"a":"<x>"}"#.utf8)) == .json("{\n  \"a\" : \"<x>\",\n  \"b\" : 1\n}"))
        #expect(RecordBytes.show(Array("not json at all".utf8)) == .text("not json at all"))
        let binary = (0..<5000).map { UInt8($0 % 256) }
        guard case .hex(let dump, let truncated) = RecordBytes.show(binary) else { Issue.record("binary shown as text"); return }
        #expect(truncated)
        #expect(dump.split(separator: "\n").count == RecordBytes.hexLimit / 16)
        #expect(dump.hasPrefix("00000000  00 01 02 03"))
        #expect(RecordBytes.show([0x41, 0x00, 0x42]).kind == "binary, in hex", "control bytes are not text")
    }

    @Test func theLagIsAskedOfTheBrokerOnceForManyRequestsWithinItsAge() async {
        let asked = Mutex(0)
        let lookup = ConsumerLagLookup(maximumAge: .seconds(3600)) {
            let number = asked.withLock { count in
                count += 1
                return count
            }
            return ["answer \(number)"]
        }
        let answers = await withTaskGroup(of: ConsumerLagLookup.Answer.self) { group in
            for _ in 0..<20 { group.addTask { await lookup.answer() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let later = await lookup.answer()
        #expect(asked.withLock { $0 } == 1, "one lookup for 21 requests")
        #expect(Set((answers + [later]).map(\.lines)) == [["answer 1"]])
        #expect(Set((answers + [later]).map(\.askedAt)).count == 1, "every request is told when the broker was asked")

        let stale = ConsumerLagLookup(maximumAge: .zero) {
            asked.withLock { $0 += 1 }
            return []
        }
        _ = await stale.answer()
        _ = await stale.answer()
        #expect(asked.withLock { $0 } == 3, "an answer past its age is asked again")
    }
}
