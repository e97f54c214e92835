import CRdKafka

/// An error from Kafka: a librdkafka error code with its name, a message a person can
/// act on, and whether retrying can help or the client is unusable.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A librdkafka error code (`rd_kafka_resp_err_t`). The set is open: every code
    /// librdkafka reports is representable, the ones the application tests for are named.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// librdkafka's numeric code (negative: client-side, positive: broker).
        public let rawValue: Int32

        /// Wraps a librdkafka code.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// librdkafka's symbolic name, e.g. `_MSG_TIMED_OUT` or `TOPIC_ALREADY_EXISTS`.
        public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue))) }

        public var description: String { name }

        /// A configuration property is unknown or its value is invalid.
        public static let invalidConfiguration = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
        /// A message could not be delivered within `message.timeout.ms`.
        public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        /// An operation did not finish within its time limit.
        public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
        /// The broker connection failed.
        public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
        /// No broker is reachable.
        public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
        /// The producer's local queue is full.
        public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
        /// The message is larger than the producer or broker allows.
        public static let messageTooLarge = Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        /// The topic or partition does not exist.
        public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        /// The topic exists already.
        public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        /// The operation is not allowed in the client's current state.
        public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
        /// The client hit a fatal error and must be recreated.
        public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
        /// The client has been closed.
        public static let closed = Code(RD_KAFKA_RESP_ERR__DESTROY)
        /// The message was cancelled while queued: its producer closed or replaced its client.
        public static let purgedQueued = Code(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
        /// The message was cancelled in flight (it may have been written): its producer
        /// closed or replaced its client.
        public static let purgedInFlight = Code(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)

        init(_ err: rd_kafka_resp_err_t) { self.rawValue = err.rawValue }
    }

    /// The error code.
    public let code: Code
    /// What happened, in librdkafka's words or ours.
    public let message: String
    /// The client cannot continue after this error; it must be recreated.
    public let isFatal: Bool
    /// Repeating the operation may succeed.
    public let isRetriable: Bool
    /// A transactional producer must abort the current transaction.
    public let transactionRequiresAbort: Bool
    /// The configuration property at fault, for configuration errors.
    public let property: String?

    /// Creates an error.
    public init(
        code: Code,
        message: String,
        isFatal: Bool = false,
        isRetriable: Bool = false,
        transactionRequiresAbort: Bool = false,
        property: String? = nil
    ) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.transactionRequiresAbort = transactionRequiresAbort
        self.property = property
    }

    public var description: String {
        var flags: [String] = []
        if isFatal { flags.append("fatal") }
        if isRetriable { flags.append("retriable") }
        if transactionRequiresAbort { flags.append("abort the transaction") }
        let suffix = flags.isEmpty ? "" : " (\(flags.joined(separator: ", ")))"
        return "Kafka error \(code.name): \(message)\(suffix)"
    }
}

extension KafkaError {
    /// An error from a bare librdkafka code, with librdkafka's text for it.
    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        let code = Code(err)
        self.init(
            code: code,
            message: context.map { "\($0): \(text)" } ?? text,
            isFatal: code == .fatal,
            isRetriable: Self.retriableCodes.contains(code)
        )
    }

    /// An error from an `rd_kafka_error_t`, which it destroys.
    init(consuming error: OpaquePointer, context: String? = nil) {
        defer { rd_kafka_error_destroy(error) }
        let text = String(cString: rd_kafka_error_string(error))
        self.init(
            code: Code(rd_kafka_error_code(error)),
            message: context.map { "\($0): \(text)" } ?? text,
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            transactionRequiresAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    /// A configuration error naming the property.
    static func invalidConfiguration(_ property: String, _ message: String) -> KafkaError {
        KafkaError(code: .invalidConfiguration, message: message, property: property)
    }

    /// The client was closed before the operation finished.
    static let closed = KafkaError(code: .closed, message: "the Kafka client is closed")

    /// Client-side codes for which a retry is expected to help.
    private static let retriableCodes: Set<Code> = [
        .messageTimedOut, .timedOut, .transport, .allBrokersDown, .queueFull, .purgedQueued, .purgedInFlight,
    ]
}
