import CRdKafka

// The parts of `KafkaError` that come from librdkafka: code values and names, and
// errors built from librdkafka's error codes and error objects.

extension KafkaError.Code {
    /// librdkafka's symbolic name, e.g. `_MSG_TIMED_OUT` or `TOPIC_ALREADY_EXISTS`.
    public var name: String { String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue))) }

    /// A configuration property is unknown or its value is invalid.
    public static let invalidConfiguration = Self(RD_KAFKA_RESP_ERR__INVALID_ARG)
    /// A message could not be delivered within `message.timeout.ms`.
    public static let messageTimedOut = Self(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
    /// An operation did not finish within its time limit.
    public static let timedOut = Self(RD_KAFKA_RESP_ERR__TIMED_OUT)
    /// The broker connection failed.
    public static let transport = Self(RD_KAFKA_RESP_ERR__TRANSPORT)
    /// No broker is reachable.
    public static let allBrokersDown = Self(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    /// The producer's local queue is full.
    public static let queueFull = Self(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    /// The message is larger than the producer or broker allows.
    public static let messageTooLarge = Self(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
    /// The topic or partition does not exist.
    public static let unknownTopicOrPartition = Self(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    /// The topic exists already.
    public static let topicAlreadyExists = Self(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    /// The operation is not allowed in the client's current state.
    public static let state = Self(RD_KAFKA_RESP_ERR__STATE)
    /// The client hit a fatal error and must be recreated.
    public static let fatal = Self(RD_KAFKA_RESP_ERR__FATAL)
    /// The client has been closed.
    public static let closed = Self(RD_KAFKA_RESP_ERR__DESTROY)
    /// The message was cancelled while queued: its producer closed or replaced its client.
    public static let purgedQueued = Self(RD_KAFKA_RESP_ERR__PURGE_QUEUE)
    /// The message was cancelled in flight (it may have been written): its producer
    /// closed or replaced its client.
    public static let purgedInFlight = Self(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    /// The broker no longer knows the producer's id and epoch (another client took them,
    /// or the broker lost its state): an idempotent producer needs a new client.
    public static let producerFenced = Self(RD_KAFKA_RESP_ERR_PRODUCER_FENCED)


    init(_ err: rd_kafka_resp_err_t) { self.init(rawValue: err.rawValue) }
}

extension KafkaError {
    /// An error from a code, with librdkafka's text for it.
    init(_ code: Code, context: String? = nil) {
        self.init(rd_kafka_resp_err_t(code.rawValue), context: context)
    }

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

}
