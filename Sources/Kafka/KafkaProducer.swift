import CRdKafka
import Dispatch
import Logging

/// A Kafka producer over librdkafka.
///
/// `send` enqueues and returns when the broker has acknowledged (or refused) the
/// message. Sending an array enqueues every message at once and awaits all reports
/// together, so librdkafka batches them: that is the hot path. When librdkafka's
/// queue is full, sending waits for deliveries to make room (backpressure).
///
/// Idempotence is on by default. Call ``close(timeout:)`` when done: it flushes and
/// releases the client.
public final class KafkaProducer: Sendable {
    let client: RDKafkaClient
    private let progress = ProgressSignal()

    /// Creates a producer and connects in the background.
    ///
    /// - Throws: ``KafkaError`` naming the property for invalid configuration.
    public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
        client = try RDKafkaClient(
            role: .producer,
            properties: configuration.librdkafkaProperties,
            events: RD_KAFKA_EVENT_DR,
            statisticsHandler: configuration.kafka.statisticsHandler,
            logger: logger
        )
        client.onDeliveryReport = { [client, progress] event in
            DeliveryBatch.deliver(event: event, fatal: client.fatalError)
            progress.advance()
        }
        client.startEventThread()
    }

    deinit {
        let client = self.client
        detachBlocking { client.destroy() }
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
        let batch = DeliveryBatch(messages: messages)
        var topic: (name: String, handle: OpaquePointer)?
        for index in messages.indices {
            let message = messages[index]
            if topic?.name != message.topic { topic = (message.topic, client.topicHandle(message.topic)) }
            var seen = progress.generation
            var err = produce(message, topic: topic!.handle, opaque: batch.opaque(for: index))
            while err == RD_KAFKA_RESP_ERR__QUEUE_FULL, !client.isDestroyed {
                await progress.wait(after: seen)
                seen = progress.generation
                err = produce(message, topic: topic!.handle, opaque: batch.opaque(for: index))
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let error = err == RD_KAFKA_RESP_ERR__FATAL ? client.fatalError() : KafkaError(err, context: "cannot produce to \(message.topic)")
                batch.fail(index, error)
            }
        }
        return KafkaDeliveries(batch: batch)
    }

    private func produce(_ message: KafkaProducerMessage, topic: OpaquePointer, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        if client.isDestroyed { return RD_KAFKA_RESP_ERR__DESTROY }
        let headers = Self.makeHeaders(message.headers)
        let err = withBytes(message.key) { key in
            withBytes(message.value) { value in
                crdkafka_produce(
                    client.handle, topic, message.partition ?? RD_KAFKA_PARTITION_UA,
                    key.baseAddress, key.count, value.baseAddress, value.count,
                    message.timestampMilliseconds ?? 0, headers, opaque
                )
            }
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return err
    }

    private static func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty else { return nil }
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            withBytes(header.value) { value in
                _ = rd_kafka_header_add(list, header.name, -1, value.baseAddress, header.value == nil ? 0 : value.count)
            }
        }
        return list
    }

    /// Waits until every queued message is delivered or failed.
    ///
    /// - Throws: ``KafkaError`` `timedOut` if messages remain after `timeout`.
    public func flush(timeout: Duration) async throws {
        let client = self.client
        let milliseconds = Int32(clamping: timeout.milliseconds)
        try await runBlocking {
            let err = rd_kafka_flush(client.handle, milliseconds)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(err, context: "\(rd_kafka_outq_len(client.handle)) messages still queued after flushing for \(timeout)")
            }
        }
    }

    /// Flushes, then releases the client.
    ///
    /// - Throws: ``KafkaError`` `closed` when messages were still undelivered after
    ///   `timeout`: they are purged and their sends fail, none is left waiting.
    public func close(timeout: Duration = .seconds(30)) async throws {
        let client = self.client
        let undelivered: Int32 = try await runBlocking {
            guard !client.isDestroyed else { return 0 }
            var left: Int32 = 0
            if rd_kafka_flush(client.handle, Int32(clamping: timeout.milliseconds)) != RD_KAFKA_RESP_ERR_NO_ERROR {
                left = rd_kafka_outq_len(client.handle)
                rd_kafka_purge(client.handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
                _ = rd_kafka_flush(client.handle, 5000)  // lets the event thread report the purged messages
            }
            client.destroy()
            return left
        }
        progress.close()
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
