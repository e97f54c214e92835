import Logging
import Tracing

extension Logger.MetadataProvider {
    /// `trace_id`, `span_id` and `parent_span_id` (lower-case hex, as in `traceparent`)
    /// of the task's current span (``PropagatingTracer``), on every log line written
    /// inside it by any logger: the lines of one tick's work share its trace id.
    /// Outside a span it adds nothing.
    public static let traceContext = Logger.MetadataProvider {
        guard let context = ServiceContext.current, let trace = context.traceContext else { return [:] }
        var metadata: Logger.Metadata = [
            "trace_id": .string(trace.traceID.description), "span_id": .string(trace.spanID.description),
        ]
        if let parent = context.parentSpanID { metadata["parent_span_id"] = .string(parent.description) }
        return metadata
    }
}

extension ServiceContext {
    /// The trace id of the current task's span (lower-case hex), if it runs in one: kept
    /// on audit rows so `explain` can name a tick's trace.
    public static var currentTraceID: String? { current?.traceContext?.traceID.description }
}
