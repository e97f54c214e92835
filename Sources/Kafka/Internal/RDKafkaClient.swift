import CRdKafka
import Foundation
import Logging
import Synchronization

/// Owns one `rd_kafka_t` handle and serves its main queue on a dedicated thread:
/// log lines go to swift-log, statistics to the configured handler, errors to the log,
/// delivery reports to the producer's handler. Nothing else touches the C handle's
/// lifetime; `close()` (or `deinit`) destroys it.
final class RDKafkaClient: @unchecked Sendable {
    enum Role {
        case producer, consumer

        var cType: rd_kafka_type_t { self == .producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER }
    }

    /// The C handle; valid until `destroy()`.
    let handle: OpaquePointer
    let logger: Logger
    /// Delivery-report events (producers); called on the event thread.
    var onDeliveryReport: ((OpaquePointer) -> Void)?

    private let mainQueue: OpaquePointer
    /// The consumer's queue (messages, rebalances, commit results); consumers only.
    let consumerQueue: OpaquePointer?
    private let statisticsHandler: (@Sendable (KafkaStatistics) -> Void)?
    private let stopRequested = Atomic<Bool>(false)
    private let threadFinished = DispatchSemaphore(value: 0)
    private let destroyed = Atomic<Bool>(false)
    private let topicHandles = Mutex<[String: OpaquePointer]>([:])

    /// Creates the handle.
    ///
    /// - Throws: ``KafkaError`` for a bad property or when librdkafka refuses the handle.
    init(
        role: Role,
        properties: [String: String],
        events: Int32,
        statisticsHandler: (@Sendable (KafkaStatistics) -> Void)?,
        logger: Logger
    ) throws(KafkaError) {
        let conf = try RDKafkaConfig.make(
            properties: properties,
            events: events | RD_KAFKA_EVENT_LOG | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS
        )
        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(role.cType, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)  // librdkafka frees it only on success
            let reason = String(errorBuffer: errorText)
            throw KafkaError(code: .invalidConfiguration, message: "cannot create the Kafka \(role) client: \(reason)")
        }
        self.handle = handle
        self.mainQueue = rd_kafka_queue_get_main(handle)
        self.consumerQueue = role == .consumer ? rd_kafka_queue_get_consumer(handle) : nil
        rd_kafka_set_log_queue(handle, nil)
        self.statisticsHandler = statisticsHandler
        name = String(cString: rd_kafka_name(handle))
        var logger = logger
        logger[metadataKey: "kafka.client"] = .string(name)
        self.logger = logger
        logger.debug("kafka_client_created", metadata: ["librdkafka": .string(KafkaLibrary.version)])
    }

    /// Starts the thread that serves the main queue. Call once, after the handlers are set.
    ///
    /// Once stopped, the thread still serves what the queue holds: delivery reports of
    /// messages purged just before the stop, say, which ``destroy()`` would otherwise
    /// drop with the queue, leaving their senders waiting for good.
    func startEventThread() {
        let thread = Thread { [self] in
            while !stopRequested.load(ordering: .acquiring) {
                guard let event = rd_kafka_queue_poll(mainQueue, 100) else { continue }
                serve(event)
            }
            while let event = rd_kafka_queue_poll(mainQueue, 0) { serve(event) }
            threadFinished.signal()
        }
        thread.name = "librdkafka-events"
        thread.start()
    }

    /// Handles an event of the main queue, then releases it.
    private func serve(_ event: OpaquePointer) {
        handle(event: event)
        rd_kafka_event_destroy(event)
    }

    /// Handles a log, error or statistics event from any queue.
    func handle(event: OpaquePointer) {
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            onDeliveryReport?(event)
        case RD_KAFKA_EVENT_LOG:
            var facility: UnsafePointer<CChar>?
            var text: UnsafePointer<CChar>?
            var level: Int32 = 0
            guard rd_kafka_event_log(event, &facility, &text, &level) == 0, let text else { return }
            let message = String(cString: text)
            // Shared pass-through properties (KAFKA_*) reach every client; librdkafka's
            // note that a consumer property is ignored by a producer is not a problem.
            let ignoredRoleProperty = message.contains("property and will be ignored by this")
            logger.log(
                level: ignoredRoleProperty ? .debug : Self.logLevel(syslog: level),
                "\(message)",
                metadata: ["kafka.facility": .string(facility.map { String(cString: $0) } ?? "")]
            )
        case RD_KAFKA_EVENT_ERROR:
            logError(event: event)
        case RD_KAFKA_EVENT_STATS:
            guard let statisticsHandler, let json = rd_kafka_event_stats(event) else { return }
            if let statistics = KafkaStatistics(json: String(cString: json)) { statisticsHandler(statistics) }
        default:
            logger.trace("kafka_event_ignored", metadata: ["event": .string(String(cString: rd_kafka_event_name(event)))])
        }
    }

    /// The error carried by an error event, with the fatal reason when it is fatal.
    func error(of event: OpaquePointer) -> KafkaError {
        let code = rd_kafka_event_error(event)
        let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
        if rd_kafka_event_error_is_fatal(event) != 0 {
            return fatalError()
        }
        let base = KafkaError(code)
        return KafkaError(code: base.code, message: text.isEmpty ? base.message : text, isRetriable: base.isRetriable)
    }

    /// The client's fatal error, as librdkafka reports it.
    func fatalError() -> KafkaError {
        var text = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(handle, &text, text.count)
        let reason = String(errorBuffer: text)
        return KafkaError(code: KafkaError.Code(rawValue: code.rawValue), message: reason, isFatal: true)
    }

    /// When the client last lost every broker connection (`_ALL_BROKERS_DOWN`).
    var allBrokersLostAt: ContinuousClock.Instant? { brokersLost.withLock { $0 } }
    private let brokersLost = Mutex<ContinuousClock.Instant?>(nil)

    private func logError(event: OpaquePointer) {
        let error = error(of: event)
        if error.code == .allBrokersDown { brokersLost.withLock { $0 = .now } }
        if error.isFatal {
            logger.critical("kafka_fatal_error", metadata: ["error": .string(error.description)])
        } else {
            // librdkafka recovers from these by itself (reconnects, retries).
            logger.warning("kafka_error", metadata: ["error": .string(error.description)])
        }
    }

    /// A cached topic handle for producing.
    /// - Throws: ``KafkaError`` when librdkafka refuses the name (e.g. too long).
    func topicHandle(_ name: String) throws(KafkaError) -> OpaquePointer {
        let result = topicHandles.withLock { handles -> OpaquePointer? in
            if let existing = handles[name] { return existing }
            guard let created = rd_kafka_topic_new(handle, name, nil) else { return nil }
            handles[name] = created
            return created
        }
        guard let result else { throw KafkaError(rd_kafka_last_error(), context: "invalid topic '\(name.prefix(300))'") }
        return result
    }

    /// Stops the event thread and destroys the handle. Safe to call more than once.
    /// Blocks: call it from a dispatch queue, never from a Swift task directly.
    func destroy() {
        // Stop first: whoever sees the client destroyed sees the thread told to stop.
        stopRequested.store(true, ordering: .releasing)
        guard !destroyed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        threadFinished.wait()
        topicHandles.withLock { handles in
            handles.values.forEach { rd_kafka_topic_destroy($0) }
            handles.removeAll()
        }
        rd_kafka_queue_destroy(mainQueue)
        if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
        destroyStarted.withLock { $0 = .now }
        // A consumer that was not closed leaves its group by session timeout instead
        // of running a close whose rebalance events nobody would serve.
        rd_kafka_destroy_flags(handle, consumerClosed.load(ordering: .acquiring) ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
    }

    /// librdkafka's name of the client (`client.id#role-N`), as its log lines carry it.
    let name: String

    /// Set by the consumer once it has left its group.
    let consumerClosed = Atomic<Bool>(false)

    var isDestroyed: Bool { destroyed.load(ordering: .acquiring) }

    /// When ``destroy()`` handed the handle to librdkafka's destroy. Within milliseconds
    /// librdkafka's main thread takes it apart: it removes the client's topics and
    /// disconnects its brokers, so the client no longer fetches nor handles metadata, even
    /// where the destroy itself never returns (librdkafka 2.16 sometimes keeps references to
    /// a closed consumer's partitions, and its broker thread waits for them for good).
    var librdkafkaDestroyStartedAt: ContinuousClock.Instant? { destroyStarted.withLock { $0 } }
    private let destroyStarted = Mutex<ContinuousClock.Instant?>(nil)

    deinit {
        if !destroyed.load(ordering: .acquiring) {
            // The event thread holds a strong reference, so this runs only if the
            // thread never started.
            rd_kafka_queue_destroy(mainQueue)
            if let consumerQueue { rd_kafka_queue_destroy(consumerQueue) }
            rd_kafka_destroy(handle)
        }
    }

    /// swift-log level for a syslog level (0 emergency … 7 debug).
    static func logLevel(syslog level: Int32) -> Logger.Level {
        switch level {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}
