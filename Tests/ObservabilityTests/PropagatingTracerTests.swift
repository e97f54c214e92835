import Foundation
import Kafka
import Logging
import Observability
import Synchronization
import Testing
import Tracing

/// ``PropagatingTracer``: children keep their parent's trace, Kafka headers round-trip,
/// and log lines inside a span carry its ids.
@Suite struct PropagatingTracerTests {
    let tracer = PropagatingTracer()
    let incoming = [
        KafkaHeader(name: "tick-id", string: "job@slot"),
        KafkaHeader(name: TraceHeaders.traceParent, string: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03"),
        KafkaHeader(name: TraceHeaders.traceState, string: "congo=t61rcWkgMzE"),
    ]

    func extracted(_ headers: [KafkaHeader]) -> ServiceContext {
        var context = ServiceContext.topLevel
        tracer.extract(headers, into: &context, using: KafkaHeadersExtractor())
        return context
    }

    @Test func aChildKeepsTheTraceWithANewSpanWhoseParentIsTheRecordsSpan() throws {
        let parent = try #require(extracted(incoming).traceContext)
        let child = tracer.startSpan("process", context: extracted(incoming), ofKind: .consumer).context
        let trace = try #require(child.traceContext)
        #expect(trace.traceID == parent.traceID)
        #expect(trace.spanID != parent.spanID)
        #expect(child.parentSpanID == parent.spanID)
        #expect(trace.flags.rawValue == 1, "the sampled flag is kept; flags this version does not define are not")
        #expect(trace.traceStateHeaderValue == "congo=t61rcWkgMzE", "tracestate travels on")

        var out: [KafkaHeader] = [KafkaHeader(name: TraceHeaders.traceParent, string: "stale")]
        tracer.inject(child, into: &out, using: KafkaHeadersInjector())
        #expect(out.map(\.name) == [TraceHeaders.traceParent, TraceHeaders.traceState], "replaced, not added twice")
        #expect(out.string(named: TraceHeaders.traceParent) == "00-4bf92f3577b34da6a3ce929d0e0e4736-\(trace.spanID)-01")
    }

    @Test func withoutAValidContextASpanStartsANewSampledTrace() throws {
        let noHeader = extracted([KafkaHeader(name: "tick-id", string: "x")])
        let twoParents = extracted(incoming + [incoming[1]])
        let noValue = extracted([KafkaHeader(name: TraceHeaders.traceParent, value: nil)])
        for context in [noHeader, twoParents, noValue] {
            #expect(context.traceContext == nil)
            let span = tracer.startSpan("process", context: context, ofKind: .consumer).context
            let trace = try #require(span.traceContext)
            #expect(trace.flags.rawValue == 1 && span.parentSpanID == nil && trace.state.isEmpty)
        }
        let first = tracer.startSpan("a", context: noHeader, ofKind: .consumer).context.traceContext?.traceID
        let second = tracer.startSpan("b", context: noHeader, ofKind: .consumer).context.traceContext?.traceID
        #expect(first != second, "each new trace has its own id")
    }

    /// Several `tracestate` headers combine into one list, as repeated HTTP fields do.
    @Test func repeatedTraceStateHeadersCombine() throws {
        let context = extracted(incoming + [KafkaHeader(name: TraceHeaders.traceState, string: "rojo=00f067aa0ba902b7")])
        #expect(context.traceContext?.traceStateHeaderValue == "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7")
    }

    @Test func logLinesInsideASpanCarryItsIds() async throws {
        let lines = Mutex<[String]>([])
        let handler = JSONLogHandler(label: "test", level: .info, metadataProvider: .traceContext) { line in
            lines.withLock { $0.append(line) }
        }
        let logger = Logger(label: "test") { _ in handler }
        logger.info("outside")
        let span = tracer.startSpan("process", context: extracted(incoming), ofKind: .consumer)
        await ServiceContext.withValue(span.context) {
            await Task { logger.info("inside", metadata: ["job_name": "j"]) }.value
            logger.info("own", metadata: ["span_id": "mine"])
        }
        let written = lines.withLock { $0 }.map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        let trace = try #require(span.context.traceContext)
        #expect(written[0]["trace_id"] == nil && written[0]["span_id"] == nil)
        #expect(written[1]["trace_id"] as? String == trace.traceID.description, "a child task's line too")
        #expect(written[1]["span_id"] as? String == trace.spanID.description)
        #expect(written[1]["parent_span_id"] as? String == "00f067aa0ba902b7")
        #expect(written[1]["job_name"] as? String == "j")
        #expect(written[2]["span_id"] as? String == "mine", "a line's own field wins")
    }
}
