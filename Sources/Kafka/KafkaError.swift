/// An error from Kafka: a librdkafka error code with its name, a message a person can
/// act on, and whether retrying can help or the client is unusable.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A librdkafka error code. The set is open: every code librdkafka reports is
    /// representable, the ones the application tests for are named (their values and
    /// names come from librdkafka: `Internal/KafkaError+RDKafka.swift`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// librdkafka's numeric code (negative: client-side, positive: broker).
        public let rawValue: Int32

        /// Wraps a librdkafka code.
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public var description: String { name }
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
    /// A configuration error naming the property.
    static func invalidConfiguration(_ property: String, _ message: String) -> KafkaError {
        KafkaError(code: .invalidConfiguration, message: message, property: property)
    }

    /// The client was closed before the operation finished.
    static let closed = KafkaError(code: .closed, message: "the Kafka client is closed")

    /// Client-side codes for which a retry is expected to help.
    static let retriableCodes: Set<Code> = [
        .messageTimedOut, .timedOut, .transport, .allBrokersDown, .queueFull, .purgedQueued, .purgedInFlight,
    ]
}
