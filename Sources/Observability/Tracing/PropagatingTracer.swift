import Tracing
import W3CTraceContext

extension ServiceContext {
    /// The W3C trace context of the current span: its trace id, its own span id, flags
    /// and state (what `traceparent` and `tracestate` carry).
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }

    /// The span id of the current span's parent, when it has one (logged as
    /// `parent_span_id`: without an exporter, the log lines are where a span's parent
    /// is written down).
    public var parentSpanID: SpanID? {
        get { self[ParentSpanIDKey.self] }
        set { self[ParentSpanIDKey.self] = newValue }
    }

    private enum TraceContextKey: ServiceContextKey {
        typealias Value = TraceContext
        static var nameOverride: String? { "w3c-trace-context" }
    }

    private enum ParentSpanIDKey: ServiceContextKey {
        typealias Value = SpanID
        static var nameOverride: String? { "w3c-parent-span-id" }
    }
}

/// The engine's tracer: it propagates W3C trace context and records nothing.
///
/// A span started under a context with a trace is its child (same trace id, a new
/// random span id, the parent's sampled flag and `tracestate`); without one it starts a
/// new trace (random ids, sampled set, so a consumer that follows its parent's sampling
/// decision records its own spans). `extract` reads `traceparent`/`tracestate` through
/// ``TraceHeaders`` (an invalid one is ignored: the caller's span starts a new trace);
/// `inject` writes them. No span is exported (no OTLP exporter is linked into this
/// build): ids travel on the records and in the JSON log lines (`trace_id`,
/// `span_id`, `parent_span_id`), and an exporting tracer can replace this one where the
/// stages start their spans.
public struct PropagatingTracer: Tracer {
    public init() {}

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> PropagatingSpan {
        var context = context()
        let parent = context.traceContext
        context.traceContext = TraceContext(
            traceID: parent?.traceID ?? .random(), spanID: .random(),
            flags: parent.map { $0.flags.intersection(.sampled) } ?? .sampled, state: parent?.state ?? TraceState())
        context.parentSpanID = parent?.spanID
        return PropagatingSpan(context: context, operationName: operationName)
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        let parsed = TraceHeaders.parse(
            traceParent: extractor.extract(key: TraceHeaders.traceParent, from: carrier),
            traceState: extractor.extract(key: TraceHeaders.traceState, from: carrier))
        if case .success(let trace) = parsed {
            context.traceContext = trace
            context.parentSpanID = nil
        }
    }

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let trace = context.traceContext else { return }
        injector.inject(trace.traceParentHeaderValue, forKey: TraceHeaders.traceParent, into: &carrier)
        if let state = trace.traceStateHeaderValue {
            injector.inject(state, forKey: TraceHeaders.traceState, into: &carrier)
        }
    }

    public func forceFlush() {}
}

/// A span of ``PropagatingTracer``: its context only (it records no name changes,
/// attributes, events, errors or links, and its end is not reported anywhere).
public struct PropagatingSpan: Span {
    public let context: ServiceContext
    private let name: String

    init(context: ServiceContext, operationName: String) {
        self.context = context
        self.name = operationName
    }

    public var operationName: String {
        get { name }
        nonmutating set {}
    }

    public var attributes: SpanAttributes {
        get { [:] }
        nonmutating set {}
    }

    public var isRecording: Bool { false }

    public func setStatus(_ status: SpanStatus) {}
    public func addEvent(_ event: SpanEvent) {}
    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {}
    public func addLink(_ link: SpanLink) {}
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}
