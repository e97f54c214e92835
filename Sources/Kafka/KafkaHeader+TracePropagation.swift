import Instrumentation

/// Reads trace headers (`traceparent`, `tracestate`) from a Kafka record's headers, for
/// an `Instrument`'s `extract`.
///
/// Kafka allows a header name more than once. As HTTP does with a repeated field, the
/// values are joined with commas: several `tracestate` headers combine into one list
/// (what W3C Trace Context asks of repeated `tracestate` fields), and several
/// `traceparent` headers make a value that does not parse, so the record is treated as
/// carrying no valid context. A header without a value reads as empty (invalid too).
/// Values are read as UTF-8; bytes that are not become U+FFFD and fail the parse.
public struct KafkaHeadersExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [KafkaHeader]) -> String? {
        var found: String?
        for header in carrier where header.name == key {
            let value = header.stringValue ?? ""
            found = found.map { $0 + "," + value } ?? value
        }
        return found
    }
}

/// Writes trace headers into a Kafka record's headers, for an `Instrument`'s `inject`:
/// a header of the same name already there is replaced, so a record never carries two
/// contexts.
public struct KafkaHeadersInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [KafkaHeader]) {
        carrier.removeAll { $0.name == key }
        carrier.append(KafkaHeader(name: key, string: value))
    }
}
