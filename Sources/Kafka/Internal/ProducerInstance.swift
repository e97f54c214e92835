import CRdKafka
import Foundation
import Logging
import Synchronization

/// One librdkafka producer behind a ``KafkaProducer``: the C client, how its deliveries
/// progress, and whether a renewal has retired it.
///
/// A retired instance takes no new messages; once the sends still using it have
/// finished handing theirs over, what it holds is cancelled (those sends fail with a
/// retriable error) and the client is destroyed.
final class ProducerInstance: Sendable {
    let client: RDKafkaClient
    /// Advanced by each batch of delivery reports; wakes sends waiting for queue room.
    let progress = ProgressSignal()
    let deliveries = DeliveryClock()
    private let retired = Atomic<Bool>(false)
    /// Users of the C handle right now (sends handing messages over, the renewal
    /// watch): the handle is destroyed only once there are none.
    private let producing = Atomic<Int>(0)

    /// - Parameter renewable: the owner replaces the instance after a fatal error, so
    ///   messages failed by one are reported retriable.
    init(properties: [String: String], statisticsHandler: (@Sendable (KafkaStatistics) -> Void)?, renewable: Bool, logger: Logger)
        throws(KafkaError)
    {
        client = try RDKafkaClient(
            role: .producer, properties: properties, events: RD_KAFKA_EVENT_DR, statisticsHandler: statisticsHandler, logger: logger)
        client.onDeliveryReport = { [client, progress, deliveries] event in
            let counts = DeliveryBatch.deliver(event: event, renewable: renewable) {
                let fatal = client.fatalError()
                guard renewable else { return fatal }
                return KafkaError(
                    code: fatal.code, message: fatal.message + " (the producer replaces its client)", isFatal: true, isRetriable: true)
            }
            deliveries.reported(delivered: counts.delivered, total: counts.total, producerIDLost: counts.producerIDLost)
            progress.advance()
        }
        client.startEventThread()
    }

    /// Starts using the handle. - Returns: `false` when the instance is retired.
    func enter() -> Bool {
        producing.add(1, ordering: .sequentiallyConsistent)
        guard !isRetired else {
            leave()
            return false
        }
        return true
    }

    /// Ends what ``enter()`` started.
    func leave() { producing.subtract(1, ordering: .sequentiallyConsistent) }

    var isRetired: Bool { retired.load(ordering: .sequentiallyConsistent) }

    /// Takes no more messages, and wakes sends waiting for queue room so they notice.
    func retire() {
        retired.store(true, ordering: .sequentiallyConsistent)
        progress.close()
    }

    /// The client's fatal error, if it has one.
    var fatalError: KafkaError? {
        guard !client.isDestroyed, rd_kafka_fatal_error(client.handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return client.fatalError()
    }

    /// Raises a fatal error through librdkafka's test hook, as a broker refusing the
    /// producer's sequence would (for tests of the renewal).
    func raiseFatalErrorForTesting(_ reason: String) {
        _ = rd_kafka_test_fatal_error(client.handle, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason)
    }

    /// Makes the mock cluster (`test.mock.num.brokers`) answer the next `count` produce
    /// requests with `code`, for tests of the renewal. Does nothing on a real cluster.
    func failProduceRequestsForTesting(_ code: KafkaError.Code, count: Int) {
        guard let cluster = rd_kafka_handle_mock_cluster(client.handle) else { return }
        let errors = [rd_kafka_resp_err_t](repeating: rd_kafka_resp_err_t(code.rawValue), count: count)
        rd_kafka_mock_push_request_errors_array(cluster, 0, errors.count, errors)
    }

    /// Whether the cluster answers a metadata request within `timeout`. Blocks.
    func brokerAnswers(within timeout: Duration) -> Bool {
        guard !client.isDestroyed else { return false }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(client.handle, 0, nil, &metadata, Int32(clamping: timeout.milliseconds))
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        return err == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// After ``retire()``: waits until nothing uses the handle, cancels what is queued or
    /// in flight (those sends fail, retriable) and destroys the client. Blocks: run it on
    /// a thread of its own.
    func drainAndDestroy() {
        while producing.load(ordering: .sequentiallyConsistent) > 0 { usleep(2_000) }
        guard !client.isDestroyed else { return }
        if rd_kafka_outq_len(client.handle) > 0 {
            rd_kafka_purge(client.handle, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
            _ = rd_kafka_flush(client.handle, 5_000)  // lets the event thread report the cancelled messages
        }
        client.destroy()
    }
}

/// How a producer's deliveries progress: how many messages wait for their report, and
/// when the last one was delivered (or the first began waiting).
final class DeliveryClock: Sendable {
    private struct State {
        var outstanding = 0
        var lastProgress = ContinuousClock.now
        var producerIDLost = false
    }

    private let state = Mutex(State())

    /// `count` messages are about to be handed to librdkafka.
    func sending(_ count: Int) {
        state.withLock { state in
            if state.outstanding == 0 { state.lastProgress = .now }
            state.outstanding += count
        }
    }

    /// Reports arrived for `total` messages, `delivered` of them successfully (or
    /// `total` messages were never handed over); `producerIDLost` when one failed
    /// because the broker no longer knows the client's producer id.
    func reported(delivered: Int, total: Int, producerIDLost: Bool = false) {
        state.withLock { state in
            state.outstanding -= total
            if delivered > 0 { state.lastProgress = .now }
            state.producerIDLost = state.producerIDLost || producerIDLost
        }
    }

    /// Whether a delivery failed because the broker no longer knows the client's
    /// producer id: only a new client delivers again.
    var hasLostProducerID: Bool { state.withLock { $0.producerIDLost } }

    /// How long messages have waited without any delivery; `nil` when none waits.
    var stall: Duration? {
        state.withLock { $0.outstanding > 0 ? .now - $0.lastProgress : nil }
    }
}
