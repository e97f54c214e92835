import Foundation

/// The context a dead-letter record carries in its headers, next to the original key,
/// value and headers (unchanged).
///
/// Header names (stable; documented in the README): `dlq.origin.topic`,
/// `dlq.origin.partition`, `dlq.origin.offset`, `dlq.origin.timestamp`,
/// `dlq.consumer.group`, `dlq.stage`, `dlq.job.name`, `dlq.error.class`,
/// `dlq.error.message`, `dlq.attempts`, `dlq.failure.first`, `dlq.failure.last`,
/// `dlq.correlation.id`; a replayed record also has `dlq.replay.id`,
/// `dlq.replay.count` and, when the original had a valid `traceparent`,
/// `dlq.replay.link`. Timestamps are ISO 8601 UTC; numbers are decimal text.
/// The same context is also written under Kafka Connect's dead-letter header names
/// (``ConnectHeader``), so tools made for Connect's DLQs read ours.
public struct DeadLetter: Sendable, Hashable {
    public var originTopic: String
    public var originPartition: Int32
    public var originOffset: Int64
    public var originTimestamp: Date?
    public var consumerGroup: String
    public var stage: String
    public var jobName: String?
    public var errorClass: FailureClass
    public var errorMessage: String
    public var attempts: Int
    public var firstFailure: Date
    public var lastFailure: Date
    public var correlationId: String

    public init(
        originTopic: String, originPartition: Int32, originOffset: Int64, originTimestamp: Date?, consumerGroup: String,
        stage: String, jobName: String?, errorClass: FailureClass, errorMessage: String, attempts: Int, firstFailure: Date,
        lastFailure: Date, correlationId: String
    ) {
        self.originTopic = originTopic
        self.originPartition = originPartition
        self.originOffset = originOffset
        self.originTimestamp = originTimestamp
        self.consumerGroup = consumerGroup
        self.stage = stage
        self.jobName = jobName
        self.errorClass = errorClass
        self.errorMessage = errorMessage
        self.attempts = attempts
        self.firstFailure = firstFailure
        self.lastFailure = lastFailure
        self.correlationId = correlationId
    }

    /// The id that ties a failed record to its log lines, audit row and DLQ row.
    public static func correlationId(topic: String, partition: Int32, offset: Int64) -> String {
        "\(topic)/\(partition)/\(offset)"
    }

    /// Header names.
    public enum Header {
        public static let prefix = "dlq."
        public static let originTopic = "dlq.origin.topic"
        public static let originPartition = "dlq.origin.partition"
        public static let originOffset = "dlq.origin.offset"
        public static let originTimestamp = "dlq.origin.timestamp"
        public static let consumerGroup = "dlq.consumer.group"
        public static let stage = "dlq.stage"
        public static let jobName = "dlq.job.name"
        public static let errorClass = "dlq.error.class"
        public static let errorMessage = "dlq.error.message"
        public static let attempts = "dlq.attempts"
        public static let firstFailure = "dlq.failure.first"
        public static let lastFailure = "dlq.failure.last"
        public static let correlationId = "dlq.correlation.id"
        /// The headers a replay adds; they stay on a replayed record that fails again.
        public static let replayPrefix = "dlq.replay."
        public static let replayID = "dlq.replay.id"
        public static let replayCount = "dlq.replay.count"
        /// On a replayed record: the `traceparent` of the dead-lettered record it
        /// replays (the replay's own `traceparent` is a new span of the same trace, its
        /// child): the link W3C/OpenTelemetry messaging tracing records between a
        /// message and the one it re-sends.
        public static let replayLink = "dlq.replay.link"
    }

    /// Reads a `dlq.replay.count` header strictly: no header is 0 replays; digits only
    /// (at most 1,000,000) are the count; anything else (negative, signed, not a number,
    /// forged) is `nil`, which callers treat as every replay budget spent.
    public static func replayCount(_ text: String?) -> Int? {
        guard let text else { return 0 }
        guard !text.isEmpty, text.count <= 7, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let count = Int(text),
            count <= 1_000_000
        else { return nil }
        return count
    }

    /// The context as (name, value) headers: ours (`dlq.*`), then Kafka Connect's.
    public var headers: [(name: String, value: String)] { ownHeaders + connectHeaders }

    /// Whether a header is dead-letter context a new failure replaces: every
    /// `__connect.errors.*` header and every `dlq.*` header but the replay ones (which
    /// carry the replay count across failures).
    public static func isReplacedContext(_ name: String) -> Bool {
        name.hasPrefix(ConnectHeader.prefix) || (name.hasPrefix(Header.prefix) && !name.hasPrefix(Header.replayPrefix))
    }

    /// Whether a header is dead-letter context of any kind (`dlq.*` or `__connect.errors.*`),
    /// which a replayed record does not carry back to its topic.
    public static func isContext(_ name: String) -> Bool {
        name.hasPrefix(Header.prefix) || name.hasPrefix(ConnectHeader.prefix)
    }

    private var ownHeaders: [(name: String, value: String)] {
        var headers: [(String, String)] = [
            (Header.originTopic, originTopic), (Header.originPartition, String(originPartition)),
            (Header.originOffset, String(originOffset)), (Header.consumerGroup, consumerGroup), (Header.stage, stage),
            (Header.errorClass, errorClass.rawValue), (Header.errorMessage, String(errorMessage.prefix(2000))),
            (Header.attempts, String(attempts)), (Header.firstFailure, MessageCoding.timestamp(firstFailure)),
            (Header.lastFailure, MessageCoding.timestamp(lastFailure)), (Header.correlationId, correlationId),
        ]
        if let originTimestamp { headers.append((Header.originTimestamp, MessageCoding.timestamp(originTimestamp))) }
        if let jobName { headers.append((Header.jobName, jobName)) }
        return headers
    }

    /// Reads the context back from headers; `nil` when a required header is missing.
    public init?(headers: [String: String]) {
        guard let topic = headers[Header.originTopic], let partition = headers[Header.originPartition].flatMap(Int32.init),
            let offset = headers[Header.originOffset].flatMap(Int64.init),
            let errorClass = headers[Header.errorClass].flatMap(FailureClass.init(rawValue:))
        else { return nil }
        let now = Date()
        self.init(
            originTopic: topic, originPartition: partition, originOffset: offset,
            originTimestamp: headers[Header.originTimestamp].flatMap(MessageCoding.parseTimestamp),
            consumerGroup: headers[Header.consumerGroup] ?? "", stage: headers[Header.stage] ?? "",
            jobName: headers[Header.jobName], errorClass: errorClass, errorMessage: headers[Header.errorMessage] ?? "",
            attempts: headers[Header.attempts].flatMap(Int.init) ?? 1,
            firstFailure: headers[Header.firstFailure].flatMap(MessageCoding.parseTimestamp) ?? now,
            lastFailure: headers[Header.lastFailure].flatMap(MessageCoding.parseTimestamp) ?? now,
            correlationId: headers[Header.correlationId] ?? "")
    }
}

extension DeadLetter {
    /// The context with every text made storable: NUL characters (PostgreSQL text
    /// refuses them) replaced by U+FFFD, each field cut to a bounded length (an index
    /// entry has a size limit), counts clamped. The headers are whatever someone wrote
    /// into the DLQ topic; the raw record is kept as bytes anyway.
    public func sanitized() -> DeadLetter {
        var copy = self
        copy.originTopic = Self.storable(originTopic, limit: 255)
        copy.consumerGroup = Self.storable(consumerGroup, limit: 255)
        copy.stage = Self.storable(stage, limit: 100)
        copy.jobName = jobName.map { Self.storable($0, limit: 200) }
        copy.errorMessage = Self.storable(errorMessage, limit: 2000)
        copy.correlationId = Self.storable(correlationId, limit: 500)
        copy.attempts = min(max(attempts, 0), Int(Int32.max))
        return copy
    }

    /// `text` without NUL characters, at most `limit` characters long (marked with `…`).
    public static func storable(_ text: String, limit: Int) -> String {
        let clean = text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
        return clean.count <= limit ? clean : String(clean.prefix(limit - 1)) + "…"
    }
}
