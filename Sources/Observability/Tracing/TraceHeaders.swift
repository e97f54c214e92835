import W3CTraceContext

/// Reads the W3C Trace Context headers (`traceparent`, `tracestate`,
/// https://www.w3.org/TR/trace-context/) of a record, whoever wrote them: the values
/// are outside input, so every outcome is a value, never a trap.
///
/// The codec is swift-w3c-trace-context's; this adds what the spec asks of a receiver
/// around it:
/// - a `traceparent` of a later version (not `00`, not `ff`) is read by its first 55
///   characters when the 56th is absent or a `-` (the version-00 fields are the prefix
///   every later version keeps);
/// - an invalid `tracestate` does not invalidate the `traceparent`: the context is kept
///   without its state, as is a state of more than 32 list members; the codec is
///   lenient, so each member is checked against the spec's grammar here (a key of
///   lower-case letters, digits and `_-*/`, 1–256 long, or `tenant@system`; a value of
///   1–256 printable ASCII characters without `,` or `=`, not ending in a space);
/// - long values are refused before parsing, which bounds the parse's cost on hostile
///   input: a `traceparent` over 512 bytes (version 00 has 55; later versions may only
///   append fields), a `tracestate` over 4,096 (a member is at most 513 characters and
///   the spec asks receivers to propagate 512 in all).
public enum TraceHeaders {
    /// The header names, as W3C Trace Context spells them (Kafka header names are
    /// case-sensitive; every W3C propagator writes them in lower case).
    public static let traceParent = "traceparent"
    public static let traceState = "tracestate"

    /// Why a `traceparent` was not used (for a debug log line; the record is processed
    /// in a new trace).
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    static let traceParentLimit = 512
    static let traceStateLimit = 4_096
    static let traceStateMembers = 32

    /// The context the header values carry.
    /// - Returns: `nil` when there is no `traceparent`; ``Invalid`` when it is not a
    ///   valid one.
    public static func parse(traceParent: String?, traceState: String?) -> Result<TraceContext, Invalid>? {
        guard let traceParent else { return nil }
        let bytes = traceParent.utf8
        guard bytes.count <= traceParentLimit else { return .failure(Invalid(description: "traceparent longer than \(traceParentLimit) bytes")) }
        var versionZero = traceParent
        if bytes.count >= 2, bytes.prefix(2).elementsEqual("00".utf8) == false {
            let version = Array(bytes.prefix(2))
            guard version.allSatisfy(isLowerHex), version != Array("ff".utf8) else {
                return .failure(Invalid(description: "traceparent version is not two lower-case hex digits other than ff"))
            }
            guard bytes.count == 55 || (bytes.count > 55 && Array(bytes)[55] == UInt8(ascii: "-")) else {
                return .failure(Invalid(description: "traceparent of version \(String(decoding: version, as: UTF8.self)) has no version-00 prefix"))
            }
            versionZero = "00" + String(decoding: Array(bytes)[2..<55], as: UTF8.self)
        }
        let context: TraceContext
        do {
            context = try TraceContext(traceParentHeaderValue: versionZero)
        } catch {
            return .failure(Invalid(description: "traceparent is not version-traceid-parentid-flags: \(error)"))
        }
        return .success(withState(context, traceState))
    }

    /// `context` with the state `header` holds, or with none when it is not valid.
    private static func withState(_ context: TraceContext, _ header: String?) -> TraceContext {
        var result = TraceContext(traceID: context.traceID, spanID: context.spanID, flags: context.flags, state: TraceState())
        guard let header, !header.isEmpty, header.utf8.count <= traceStateLimit,
            let parsed = try? TraceContext(traceParentHeaderValue: context.traceParentHeaderValue, traceStateHeaderValue: header),
            parsed.state.count <= traceStateMembers
        else { return result }
        // The codec keeps the spaces before a comma in the value: they are the list's
        // optional white space.
        var members: [(TraceState.Vendor, String)] = []
        for member in parsed.state {
            var value = Array(member.value.utf8)
            while value.last == space { value.removeLast() }
            guard isKey(Array(member.vendor.rawValue.utf8)), isValue(value) else { return result }
            members.append((member.vendor, String(decoding: value, as: UTF8.self)))
        }
        result.state = TraceState(members)
        return result
    }

    private static let space = UInt8(ascii: " ")

    /// `simple-key` or `tenant-id@system-id` of the `tracestate` grammar.
    static func isKey(_ key: [UInt8]) -> Bool {
        func keyCharacter(_ byte: UInt8) -> Bool { isLowerAlpha(byte) || isDigit(byte) || "_-*/".utf8.contains(byte) }
        guard let at = key.firstIndex(of: UInt8(ascii: "@")) else {
            return (1...256).contains(key.count) && (isLowerAlpha(key[0]) || isDigit(key[0])) && key.allSatisfy(keyCharacter)
        }
        let tenant = key[..<at]
        let system = key[(at + 1)...]
        return (1...241).contains(tenant.count) && (isLowerAlpha(tenant.first!) || isDigit(tenant.first!)) && tenant.allSatisfy(keyCharacter)
            && (1...14).contains(system.count) && isLowerAlpha(system.first!) && system.allSatisfy(keyCharacter)
    }

    /// A `tracestate` value: 1–256 characters from 0x20–0x7E except `,` and `=`, the
    /// last not a space.
    static func isValue(_ value: [UInt8]) -> Bool {
        (1...256).contains(value.count) && value.last != space
            && value.allSatisfy { (0x20...0x7E).contains($0) && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
    }

    private static func isLowerAlpha(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
