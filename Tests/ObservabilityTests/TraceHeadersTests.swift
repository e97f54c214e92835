import Foundation
import Kafka
import Observability
import TestSupport
import Testing
import Tracing

/// ``TraceHeaders`` against the W3C Trace Context rules, checked by an oracle written
/// here from the spec (not from the codec): random and hostile values are answered with
/// a context or ``TraceHeaders/Invalid``, never a trap, and a context only for a valid
/// value. The random inputs come from ``SeededRandom`` (its seed is printed).
@Suite struct TraceHeadersTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    /// The spec's rule for a `traceparent` a receiver accepts: version two lower-case
    /// hex digits, not `ff`; version 00 exactly 55 characters, a later version at least
    /// 55 with a `-` after them; trace id 32 and parent id 16 lower-case hex digits, not
    /// all zeros; flags two lower-case hex digits; `-` between the fields.
    static func specAccepts(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        func hex(_ range: Range<Int>) -> Bool {
            bytes[range].allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
        }
        func zeros(_ range: Range<Int>) -> Bool { bytes[range].allSatisfy { $0 == 48 } }
        guard bytes.count >= 55, bytes.count <= 512, hex(0..<2), bytes[0..<2] != [102, 102] else { return false }
        let versionZero = bytes[0..<2] == [48, 48]
        if versionZero ? bytes.count != 55 : (bytes.count > 55 && bytes[55] != 45) { return false }
        return bytes[2] == 45 && bytes[35] == 45 && bytes[52] == 45 && hex(3..<35) && !zeros(3..<35) && hex(36..<52)
            && !zeros(36..<52) && hex(53..<55)
    }

    @Test func validValuesAreRead() throws {
        let trace = try TraceHeaders.parse(traceParent: Self.valid, traceState: "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")!.get()
        #expect(trace.traceID.description == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(trace.spanID.description == "00f067aa0ba902b7")
        #expect(trace.traceParentHeaderValue == Self.valid)
        #expect(trace.traceStateHeaderValue == "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")
        // A later version is read by its version-00 prefix.
        let later = try TraceHeaders.parse(traceParent: "cc" + Self.valid.dropFirst(2) + "-what-the-future-adds", traceState: nil)!.get()
        #expect(later.traceParentHeaderValue == Self.valid)
        #expect(TraceHeaders.parse(traceParent: nil, traceState: "a=b") == nil, "no traceparent: no context, no error")
    }

    @Test func invalidValuesAreRefusedWithAReason() {
        let cases = [
            "", "00", Self.valid.uppercased(), "ff" + Self.valid.dropFirst(2), Self.valid + "-", Self.valid + "0",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "cc" + Self.valid.dropFirst(2) + "x", "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            Self.valid.replacingOccurrences(of: "4bf9", with: "4bf\u{0}"), Self.valid.replacingOccurrences(of: "4b", with: "é"),
            String(repeating: "0", count: 1_000_000), Self.valid + "," + Self.valid,
        ]
        for value in cases {
            guard case .failure(let invalid)? = TraceHeaders.parse(traceParent: value, traceState: nil) else {
                Issue.record("accepted \(value.prefix(80).debugDescription)")
                continue
            }
            #expect(!invalid.description.isEmpty)
        }
    }

    /// A valid `traceparent` with a bad `tracestate` keeps the trace and drops the state.
    @Test func anInvalidTraceStateDropsOnlyTheState() throws {
        let states = [
            "UPPER=1", "a=b,=c", "a b=c", "a=\u{1}", String(repeating: "a", count: 2_000_000) + "=b", "a=b=c", "_a=b", "a=",
            "t@" + String(repeating: "s", count: 15) + "=v", String(repeating: "k", count: 257) + "=v", "a=" + String(repeating: "v", count: 257),
            (0..<33).map { "k\($0)=v" }.joined(separator: ","), "a=" + String(repeating: "v", count: 5_000),
        ]
        for state in states {
            let trace = try TraceHeaders.parse(traceParent: Self.valid, traceState: state)!.get()
            #expect(trace.state.isEmpty && trace.traceStateHeaderValue == nil, "state \(state.prefix(40).debugDescription)")
            #expect(trace.traceParentHeaderValue == Self.valid)
        }
    }

    /// Members the grammar allows, optional white space around commas included.
    @Test func validTraceStatesAreKept() throws {
        let states = [
            ("a=b", "a=b"), ("a=b ,c=d", "a=b, c=d"), ("a=b,   c=d", "a=b, c=d"), ("1a@sys-1=x y", "1a@sys-1=x y"),
            ("k_-*/0=!~", "k_-*/0=!~"), (String(repeating: "k", count: 256) + "=v", String(repeating: "k", count: 256) + "=v"),
            ((0..<32).map { "k\($0)=v" }.joined(separator: ","), (0..<32).map { "k\($0)=v" }.joined(separator: ", ")),
        ]
        for (state, written) in states {
            let trace = try TraceHeaders.parse(traceParent: Self.valid, traceState: state)!.get()
            #expect(trace.traceStateHeaderValue == written, "state \(state.prefix(40).debugDescription)")
        }
    }

    /// Random `tracestate` text: the `traceparent` always stays; a state kept reads back
    /// the same once written (what goes onto alerts is itself valid).
    @Test func randomTraceStatesKeepTheTraceAndWriteOnlyValidState() throws {
        var random = try SeededRandom()
        // Members shaped as key=value from alphabets of mostly valid characters (a few
        // hundred of the states are valid).
        let keys = Array("abz09_-*/@".utf8) + [UInt8(ascii: "A"), 0]
        let values = Array("ab~! =\"".utf8) + [UInt8(ascii: ","), 0x7F, 0xC3]
        func text(_ alphabet: [UInt8], _ length: ClosedRange<Int>, _ random: inout SeededRandom) -> String {
            String(decoding: (0..<Int.random(in: length, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
        }
        var kept = 0
        for _ in 0..<20_000 {
            let members = (0..<Int.random(in: 1...4, using: &random)).map { _ in
                text(keys, 1...5, &random) + (Int.random(in: 0..<20, using: &random) == 0 ? "" : "=") + text(values, 0...5, &random)
            }
            let state = members.joined(separator: Bool.random(using: &random) ? "," : " ,  ")
            let trace = try TraceHeaders.parse(traceParent: Self.valid, traceState: state)!.get()
            #expect(trace.traceParentHeaderValue == Self.valid)
            guard let written = trace.traceStateHeaderValue else { continue }
            kept += 1
            let again = try TraceHeaders.parse(traceParent: Self.valid, traceState: written)!.get()
            #expect(again.traceStateHeaderValue == written, "\(written.debugDescription)")
        }
        print("tracestate: \(kept) of 20000 kept")
        #expect(kept > 100)
    }

    /// Random mutations of a valid value: accepted exactly when the spec's rule accepts.
    @Test func randomValuesAgreeWithTheSpec() throws {
        var random = try SeededRandom()
        let alphabet = Array("0123456789abcdefABCDEF-xz_ ,\u{0}é🎉".utf8)
        var accepted = 0
        var refused = 0
        for _ in 0..<20_000 {
            var bytes = Array(Self.valid.utf8)
            if Bool.random(using: &random) {
                bytes.replaceSubrange(0..<2, with: (0..<2).map { _ in Array("0123456789abcdef".utf8).randomElement(using: &random)! })
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] = alphabet.randomElement(using: &random)!
                case 1: bytes.append(contentsOf: (0..<Int.random(in: 1...20, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
                case 2: if bytes.count > 1 { bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random)) }
                default: bytes.replaceSubrange(3..<11, with: Array("00000000".utf8))
                }
            }
            let value = String(decoding: bytes, as: UTF8.self)
            let parsed = TraceHeaders.parse(traceParent: value, traceState: nil)
            switch parsed {
            case .success(let trace)?:
                accepted += 1
                #expect(Self.specAccepts(value), "accepted \(value.debugDescription)")
                #expect(trace.traceParentHeaderValue == "00" + String(decoding: Array(value.utf8)[2..<55], as: UTF8.self))
            case .failure?:
                refused += 1
                #expect(!Self.specAccepts(value), "refused \(value.debugDescription)")
            case nil:
                Issue.record("a present value read as absent")
            }
        }
        print("traceparent: \(accepted) accepted, \(refused) refused")
        #expect(accepted > 100 && refused > 100, "both answers were exercised")
    }

    /// Random bytes as both headers, through the extractor and the tracer: never a trap,
    /// and whatever is injected afterwards is valid.
    @Test func randomHeaderBytesNeverTrapAndInjectOnlyValidValues() throws {
        var random = try SeededRandom()
        let tracer = PropagatingTracer()
        for _ in 0..<5_000 {
            var headers: [KafkaHeader] = []
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let name = [TraceHeaders.traceParent, TraceHeaders.traceState, "other"].randomElement(using: &random)!
                let value = Bool.random(using: &random) ? nil : (0..<Int.random(in: 0...80, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                headers.append(KafkaHeader(name: name, value: value))
            }
            var context = ServiceContext.topLevel
            tracer.extract(headers, into: &context, using: KafkaHeadersExtractor())
            let span = tracer.startSpan("process", context: context, ofKind: .consumer)
            var out: [KafkaHeader] = []
            tracer.inject(span.context, into: &out, using: KafkaHeadersInjector())
            let parent = try #require(out.string(named: TraceHeaders.traceParent))
            #expect(Self.specAccepts(parent), "\(parent)")
            #expect(out.filter { $0.name == TraceHeaders.traceParent }.count == 1)
        }
    }
}
