import Dispatch
import Foundation
import Synchronization
import Logging

/// A Kafka producer over librdkafka.
///
/// `send` enqueues and returns when the broker has acknowledged (or refused) the
/// message. Sending an array enqueues every message at once and awaits all reports
/// together, so librdkafka batches them: that is the hot path. When librdkafka's
/// queue is full, sending waits for deliveries to make room (backpressure).
///
/// Idempotence is on by default. The producer is a `Service`: run it in the service
/// group of its users (listed before them), or scope it with ``withKafkaClient(_:_:)``;
/// either flushes it and releases the client at the end (``finish(gracefully:)``).
///
/// **Self-healing.** A librdkafka producer cannot recover from a fatal error, and one
/// whose broker lost its state (topics, producer ids) can retry a message until it
/// times out. A non-transactional producer therefore replaces its librdkafka client
/// after a fatal error, after a delivery the broker refused because it no longer knows
/// the producer's id (PRODUCER_FENCED and its kin, reported retriable), and when
/// messages have waited
/// ``KafkaProducerConfiguration/renewalAfterStall`` without any delivery while the
/// broker answers. Messages the old client still held fail with a retriable error
/// (``KafkaError/Code/purgedQueued`` or ``KafkaError/Code/purgedInFlight``): the sender
/// sends them again, with the same keys and ids.
public final class KafkaProducer: Sendable {
    private struct State {
        var instance: ProducerInstance
        var closed = false
        var renewals = 0
    }

    private let configuration: KafkaProducerConfiguration
    let logger: Logger
    private let state: Mutex<State>

    /// Creates a producer and connects in the background.
    ///
    /// - Throws: ``KafkaError`` naming the property for invalid configuration.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        self.configuration = configuration
        self.logger = logger
        state = Mutex(State(instance: try Self.makeInstance(configuration, logger: logger)))
        if configuration.transactionalID == nil { startWatch() }
    }

    private static func makeInstance(_ configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) -> ProducerInstance {
        try ProducerInstance(
            properties: configuration.librdkafkaProperties, statisticsHandler: configuration.kafka.statisticsHandler,
            renewable: configuration.transactionalID == nil, logger: logger)
    }

    deinit {
        let instance = state.withLock { $0.instance }
        destroyDetached(instance.client) { instance.client.destroy() }
    }

    /// The librdkafka client in use now.
    var client: RDKafkaClient { instance.client }

    private var instance: ProducerInstance { state.withLock { $0.instance } }

    /// How long a graceful end waits for queued messages.
    var shutdownFlushTimeout: Duration { configuration.shutdownFlushTimeout }

    /// How many times the producer replaced its librdkafka client.
    public var renewals: Int { state.withLock { $0.renewals } }

    /// Whether the cluster answers a metadata request within `timeout`.
    public func brokerAnswers(within timeout: Duration = .seconds(3)) async -> Bool {
        let instance = self.instance
        return (try? await runBlocking {
            guard instance.enter() else { return false }  // retired: being replaced
            defer { instance.leave() }
            return instance.brokerAnswers(within: timeout)
        }) ?? false
    }

    // MARK: - Renewal

    /// Makes the current client fail fatally (librdkafka's test hook), for tests.
    func raiseFatalErrorForTesting(_ reason: String) { instance.raiseFatalErrorForTesting(reason) }

    /// Makes librdkafka's mock cluster refuse the next `count` produce requests with `code`, for tests.
    func failProduceRequestsForTesting(_ code: KafkaError.Code, count: Int) { instance.failProduceRequestsForTesting(code, count: count) }

    /// Checks twice a second, on the blocking pool (the broker check blocks up to 1 s),
    /// whether the client must be replaced. Ends when the producer closes or is released.
    private func startWatch(answeringSince: ContinuousClock.Instant? = nil) {
        BlockingPool.shared.schedule(after: .milliseconds(500)) { [weak self] in
            var answeringSince = answeringSince
            guard let self, self.watch(&answeringSince) else { return }
            self.startWatch(answeringSince: answeringSince)
        }
    }

    /// One check. - Returns: `false` once the producer is closed.
    private func watch(_ answeringSince: inout ContinuousClock.Instant?) -> Bool {
        let (instance, closed) = state.withLock { ($0.instance, $0.closed) }
        guard !closed else { return false }
        // Holding the instance keeps its handle alive while it is checked.
        guard instance.enter() else { return true }
        defer { instance.leave() }
        if let fatal = instance.fatalError {
            renew(instance, reason: "fatal error: \(fatal)")
            answeringSince = nil
            return true
        }
        if instance.deliveries.hasLostProducerID {
            renew(instance, reason: "the broker no longer knows the producer's id (its state was lost)")
            answeringSince = nil
            return true
        }
        guard var limit = configuration.renewalAfterStall else { return true }
        // A broker that came back after every connection was lost may have lost its
        // state too (producer ids, sequence numbers): a client it does not take messages
        // from is given up on sooner.
        if let lost = instance.client.allBrokersLostAt, .now - lost < .seconds(120) { limit = min(limit, .seconds(1)) }
        guard let stall = instance.deliveries.stall, stall >= limit, instance.brokerAnswers(within: .seconds(1)) else {
            answeringSince = nil
            return true
        }
        // A broker that just came back usually delivers what waited at once: give it a
        // second of answering before giving up on the client.
        let now = ContinuousClock.now
        let since = answeringSince ?? now
        answeringSince = since
        if now - since >= .seconds(1), let stall = instance.deliveries.stall, stall >= now - since {
            renew(instance, reason: "no delivery for \(stall.components.seconds) s while the broker answers")
            answeringSince = nil
        }
        return true
    }

    /// Replaces `old` with a new client, then cancels what `old` held and destroys it.
    private func renew(_ old: ProducerInstance, reason: String) {
        let fresh: ProducerInstance
        do {
            fresh = try Self.makeInstance(configuration, logger: logger)
        } catch {
            logger.error("kafka_producer_renewal_failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
            return
        }
        let renewals: Int? = state.withLock { state in
            guard !state.closed, state.instance === old else { return nil }
            state.instance = fresh
            state.renewals += 1
            return state.renewals
        }
        guard let renewals else {
            destroyDetached(fresh.client) { fresh.client.destroy() }
            return
        }
        logger.warning("kafka_producer_renewed", metadata: ["reason": "\(reason)", "renewals": .stringConvertible(renewals)])
        configuration.onRenewal?(reason)
        old.retire()
        destroyDetached(old.client) { old.drainAndDestroy() }
    }

    /// Sends one message and waits for its delivery report.
    ///
    /// - Returns: where the message was written.
    /// - Throws: ``KafkaError``, e.g. `messageTimedOut` when no broker took it within
    ///   `message.timeout.ms`, `messageTooLarge`, `unknownTopicOrPartition`.
    public func send(_ message: KafkaProducerMessage) async throws(KafkaError) -> KafkaDeliveryReport {
        try await send([message])[0].get()
    }

    /// Sends messages together and waits for all their delivery reports.
    ///
    /// - Returns: one result per message, in the order given.
    public func send(_ messages: [KafkaProducerMessage]) async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await enqueue(messages).results()
    }

    /// Hands messages to librdkafka, in order, and returns without waiting for their
    /// delivery: a pipeline enqueues the next batch while earlier ones are in flight.
    /// Waits only while librdkafka's queue is full (backpressure).
    ///
    /// - Returns: the batch's pending delivery reports; dropping it unawaited is safe.
    public func enqueue(_ messages: [KafkaProducerMessage]) async -> KafkaDeliveries {
        await enqueue(DeliveryBatch(messages: messages), topic: { messages[$0].topic }) { index, client, topic, opaque in
            client.produce(messages, at: index, topic: topic, opaque: opaque)
        }
    }

    /// Hands a batch's records to librdkafka, in order, as ``enqueue(_:)-([KafkaProducerMessage])``
    /// does: straight from the batch's buffer, each record's key and value copied once,
    /// by librdkafka. The partitioner chooses each record's partition from its key.
    ///
    /// - Returns: the records' pending delivery reports, by their index in the batch.
    public func enqueue(_ batch: KafkaProducerBatch) async -> KafkaDeliveries {
        await enqueue(DeliveryBatch(count: batch.count, topic: batch.topic), topic: { _ in batch.topic }) { index, client, topic, opaque in
            client.produce(record: index, of: batch, topic: topic, opaque: opaque)
        }
    }

    /// Hands `deliveries`' messages to librdkafka one after another with `produce`
    /// (index, client, topic handle, opaque), waiting for queue room when it is full.
    private func enqueue(
        _ deliveries: DeliveryBatch, topic name: (Int) -> String,
        produce handOver: (Int, RDKafkaClient, OpaquePointer, UnsafeMutableRawPointer) -> KafkaError.Code?
    ) async -> KafkaDeliveries {
        guard let instance = enterInstance() else {
            for index in 0..<deliveries.count { deliveries.fail(index, KafkaError.closed) }
            return KafkaDeliveries(batch: deliveries)
        }
        defer { instance.leave() }
        instance.deliveries.sending(deliveries.count)
        // The topic's handle, looked up again only when the topic changes (never, for a
        // batch to one topic: no name is read per message then).
        var current: (name: String, handle: OpaquePointer)?
        for index in 0..<deliveries.count {
            let handle: OpaquePointer
            if let current, deliveries.hasOneTopic {
                handle = current.handle
            } else {
                let topicName = name(index)
                if let current, current.name == topicName {
                    handle = current.handle
                } else {
                    do throws(KafkaError) {
                        handle = try instance.client.topicHandle(topicName)
                        current = (topicName, handle)
                    } catch {
                        instance.deliveries.reported(delivered: 0, total: 1)
                        deliveries.fail(index, error)
                        continue
                    }
                }
            }
            var seen = instance.progress.generation
            var err = produceUnlessRetired(index, on: instance, topic: handle, opaque: deliveries.opaque(for: index), with: handOver)
            while err == .queueFull {
                await instance.progress.wait(after: seen)
                seen = instance.progress.generation
                err = produceUnlessRetired(index, on: instance, topic: handle, opaque: deliveries.opaque(for: index), with: handOver)
            }
            if let err {
                instance.deliveries.reported(delivered: 0, total: 1)
                let error = err == .fatal ? instance.client.fatalError() : KafkaError(err, context: "cannot produce to \(name(index))")
                deliveries.fail(index, error)
            }
        }
        return KafkaDeliveries(batch: deliveries)
    }

    /// The client in use now, entered (see ``ProducerInstance/enter()``); `nil` once the
    /// producer is closed. A client being replaced is retired: the next one is entered.
    private func enterInstance() -> ProducerInstance? {
        while true {
            let (instance, closed) = state.withLock { ($0.instance, $0.closed) }
            if instance.enter() { return instance }
            if closed { return nil }
        }
    }

    /// Hands message `index` over with `handOver`, unless the client is retired or destroyed.
    private func produceUnlessRetired(
        _ index: Int, on instance: ProducerInstance, topic: OpaquePointer, opaque: UnsafeMutableRawPointer,
        with handOver: (Int, RDKafkaClient, OpaquePointer, UnsafeMutableRawPointer) -> KafkaError.Code?
    ) -> KafkaError.Code? {
        // A retired client's messages are cancelled: the send fails, retriable.
        if instance.isRetired { return .purgedQueued }
        if instance.client.isDestroyed { return .closed }
        return handOver(index, instance.client, topic, opaque)
    }

    /// Waits until every queued message is delivered or failed.
    ///
    /// - Throws: ``KafkaError`` `timedOut` if messages remain after `timeout`.
    public func flush(timeout: Duration) async throws {
        let client = instance.client
        let left = try await runBlocking { client.flush(timeout: timeout) }
        guard left == 0 else {
            throw KafkaError(code: .timedOut, message: "\(left) messages still queued after flushing for \(timeout)")
        }
    }

    /// How long ``close(timeout:)`` waits for the drain and librdkafka's destroy before
    /// leaving them to finish in the background.
    static let destroyWait = Duration.seconds(15)

    /// Flushes, then releases the client. A producer run as a service or scoped with
    /// ``withKafkaClient(_:_:)`` is closed by ``finish(gracefully:)``; only tests (in this package) call this
    /// directly.
    ///
    /// - Throws: ``KafkaError`` `closed` when messages were still undelivered after
    ///   `timeout`: they are purged and their sends fail, none is left waiting.
    package func close(timeout: Duration = .seconds(30)) async throws {
        let instance = state.withLock { state in
            state.closed = true
            return state.instance
        }
        let client = instance.client
        let undelivered: Int32 = try await runBlocking { client.isDestroyed ? 0 : client.flush(timeout: timeout) }
        // Takes no more messages, waits for the handle's last users, cancels what is
        // left (those sends fail) and destroys the client.
        instance.retire()
        // The drain ends within its 5 s flush once the last sends have handed over their
        // messages; the destroy after it waits for good only on a broker thread that does.
        if !(await destroyAndWait(instance.client, atMost: Self.destroyWait) { instance.drainAndDestroy() }) {
            logger.warning("kafka_client_destroy_unfinished", metadata: ["waited_seconds": "\(Self.destroyWait.components.seconds)"])
        }
        if undelivered > 0 {
            throw KafkaError(code: .closed, message: "the producer closed with \(undelivered) messages undelivered after \(timeout); their sends failed")
        }
    }
}

/// The delivery reports of messages handed to ``KafkaProducer/enqueue(_:)``.
public struct KafkaDeliveries: Sendable {
    let batch: DeliveryBatch

    /// Waits until every message is delivered or failed.
    /// - Returns: one result per message, in the order given.
    public func results() async -> [Result<KafkaDeliveryReport, KafkaError>] {
        await batch.results()
    }

    /// Waits until every message is delivered or failed (cheaper than ``results()`` when
    /// only failures matter: no report is built per message).
    /// - Returns: the error of each message that failed, by its index in the batch.
    public func failures() async -> [Int: KafkaError] {
        await batch.failures()
    }
}

/// Calls `body` with the bytes of an optional array (empty and nil base for `nil`).
func withBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
}
