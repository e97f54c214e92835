import CRdKafka
import Synchronization

/// Collects the delivery reports of one batch of produced messages and resumes the
/// sender when the last one arrives.
///
/// Each message carries, as librdkafka's per-message opaque, a pointer to its token
/// (batch and index), so a report finds its slot without allocating per message, and a
/// report is kept compactly (partition and offset, or the error): the hot path asks
/// only for the failures, and full reports are built on request.
/// The batch keeps itself alive until every report has arrived, so a sender may stop
/// waiting (a failed pipeline) without leaving librdkafka a dangling opaque.
final class DeliveryBatch: Sendable {
    typealias Results = [Result<KafkaDeliveryReport, KafkaError>]

    private struct Token {
        let batch: Unmanaged<DeliveryBatch>
        let index: Int
    }

    /// Where a delivered message was written.
    private struct Position {
        var partition: Int32 = -1
        var offset: Int64 = -1
    }

    /// A message's outcome, as a report brings it.
    enum Outcome {
        case delivered(partition: Int32, offset: Int64)
        case failed(KafkaError)
    }

    private struct State {
        var positions: [Position]
        var failures: [Int: KafkaError] = [:]
        var remaining: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// The batch itself while reports are outstanding (released by the last one).
        var keepAlive: DeliveryBatch?
    }

    let count: Int
    /// The topic of every message, when they share one (the usual case), else of each.
    private let topic: String?
    private let topics: [String]
    private nonisolated(unsafe) let tokens: UnsafeMutablePointer<Token>
    private let state: Mutex<State>

    /// For messages to their topics.
    convenience init(messages: [KafkaProducerMessage]) {
        let first = messages.first?.topic
        if messages.allSatisfy({ $0.topic == first }) {
            self.init(count: messages.count, topic: first, topics: [])
        } else {
            self.init(count: messages.count, topic: nil, topics: messages.map(\.topic))
        }
    }

    /// For `count` messages to one topic.
    convenience init(count: Int, topic: String) {
        self.init(count: count, topic: topic, topics: [])
    }

    private init(count: Int, topic: String?, topics: [String]) {
        self.count = count
        self.topic = topic
        self.topics = topics
        tokens = .allocate(capacity: max(count, 1))
        state = Mutex(State(positions: Array(repeating: Position(), count: count), remaining: count))
        let unmanaged = Unmanaged.passUnretained(self)
        for index in 0..<count {
            (tokens + index).initialize(to: Token(batch: unmanaged, index: index))
        }
        if count > 0 { state.withLock { $0.keepAlive = self } }
    }

    deinit {
        tokens.deinitialize(count: count)
        tokens.deallocate()
    }

    private func topic(of index: Int) -> String { topic ?? topics[index] }

    /// Whether every message goes to one topic.
    var hasOneTopic: Bool { topic != nil }

    /// The opaque pointer to pass with message `index`.
    func opaque(for index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(tokens + index) }

    /// Records that message `index` could not even be queued.
    func fail(_ index: Int, _ error: KafkaError) {
        complete([(index, .failed(error))])
    }

    /// Records several outcomes under one lock.
    private func complete(_ outcomes: [(Int, Outcome)]) {
        let (waiters, keepAlive): ([CheckedContinuation<Void, Never>], DeliveryBatch?) = state.withLock { state in
            for (index, outcome) in outcomes {
                switch outcome {
                case .delivered(let partition, let offset): state.positions[index] = Position(partition: partition, offset: offset)
                case .failed(let error): state.failures[index] = error
                }
            }
            state.remaining -= outcomes.count
            guard state.remaining == 0 else { return ([], nil) }
            defer {
                state.waiters = []
                state.keepAlive = nil
            }
            return (state.waiters, state.keepAlive)
        }
        waiters.forEach { $0.resume() }
        _ = keepAlive  // released here, outside the lock
    }

    /// Waits until every message has its outcome.
    private func waitForAll() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                guard state.remaining > 0 else { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    /// Waits for every outcome. - Returns: the failed messages' errors, by index.
    func failures() async -> [Int: KafkaError] {
        await waitForAll()
        return state.withLock { $0.failures }
    }

    /// Waits for every outcome. - Returns: one result per message, in order.
    func results() async -> Results {
        await waitForAll()
        let (positions, failures) = state.withLock { ($0.positions, $0.failures) }
        return positions.indices.map { index in
            if !failures.isEmpty, let error = failures[index] { return .failure(error) }
            return .success(KafkaDeliveryReport(topic: topic(of: index), partition: positions[index].partition, offset: positions[index].offset))
        }
    }

    /// Routes the messages of a delivery-report event (from librdkafka's event thread)
    /// to their batches, taking each batch's lock once per run of its messages.
    /// - Parameter renewable: the producer replaces its client when the broker no longer
    ///   knows its producer id, so such a failure is reported retriable.
    /// - Returns: how many reports the event carried, how many were deliveries, and
    ///   whether any failed because the broker no longer knows the producer's id.
    static func deliver(
        event: OpaquePointer, renewable: Bool, fatal: () -> KafkaError
    ) -> (delivered: Int, total: Int, producerIDLost: Bool) {
        // The batch is compared by address and taken (retained) once per run of its
        // messages, not once per report.
        var current: (address: UnsafeMutableRawPointer, batch: DeliveryBatch)?
        var outcomes: [(Int, Outcome)] = []
        var delivered = 0
        var total = 0
        var producerIDLost = false
        while let message = rd_kafka_event_message_next(event) {
            guard let opaque = message.pointee._private else { continue }
            let token = opaque.assumingMemoryBound(to: Token.self).pointee
            let address = token.batch.toOpaque()
            if current?.address != address {
                if let current, !outcomes.isEmpty { current.batch.complete(outcomes) }
                outcomes.removeAll(keepingCapacity: true)
                current = (address, token.batch.takeUnretainedValue())
            }
            let err = message.pointee.err
            total += 1
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                delivered += 1
                outcomes.append((token.index, .delivered(partition: message.pointee.partition, offset: message.pointee.offset)))
                continue
            }
            let lost = Self.isProducerIDLost(err)
            producerIDLost = producerIDLost || lost
            outcomes.append((token.index, current!.batch.failure(of: err, index: token.index, producerIDLost: lost && renewable, fatal: fatal)))
        }
        if let current, !outcomes.isEmpty { current.batch.complete(outcomes) }
        return (delivered, total, producerIDLost)
    }

    /// Broker answers that say it no longer knows the producer's id or epoch: after a
    /// broker lost its state (restarted empty, or the id expired), an idempotent client
    /// gets them for every message, and only a new client (a new id) delivers again.
    /// (A comparison, not a set: a hashed lookup per report cost as much as the rest of
    /// the report's handling.)
    private static func isProducerIDLost(_ err: rd_kafka_resp_err_t) -> Bool {
        switch err {
        case RD_KAFKA_RESP_ERR_PRODUCER_FENCED, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID,
            RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING:
            true
        default: false
        }
    }

    /// The outcome of a report with error `err`.
    private func failure(of err: rd_kafka_resp_err_t, index: Int, producerIDLost: Bool, fatal: () -> KafkaError) -> Outcome {
        if err == RD_KAFKA_RESP_ERR__FATAL { return .failed(fatal()) }
        if producerIDLost {
            let error = KafkaError(err, context: "delivery to \(topic(of: index)) failed")
            return .failed(
                KafkaError(code: error.code, message: error.message + " (the producer replaces its client)", isFatal: false, isRetriable: true))
        }
        if err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT {
            return .failed(KafkaError(err, context: "not delivered to \(topic(of: index)): the producer closed or replaced its client first"))
        }
        return .failed(KafkaError(err, context: "delivery to \(topic(of: index)) failed"))
    }
}
