import CRdKafka
import Synchronization

/// Collects the delivery reports of one batch of produced messages and resumes the
/// sender when the last one arrives.
///
/// Each message carries, as librdkafka's per-message opaque, a pointer to its token
/// (batch and index), so a report finds its slot without allocating per message.
/// The batch keeps itself alive until every report has arrived, so a sender may stop
/// waiting (a failed pipeline) without leaving librdkafka a dangling opaque.
final class DeliveryBatch: Sendable {
    typealias Results = [Result<KafkaDeliveryReport, KafkaError>]

    private struct Token {
        let batch: Unmanaged<DeliveryBatch>
        let index: Int
    }

    private struct State {
        var results: [Result<KafkaDeliveryReport, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<Results, Never>?
        /// The batch itself while reports are outstanding (released by the last one).
        var keepAlive: DeliveryBatch?
    }

    private let messages: [KafkaProducerMessage]
    private nonisolated(unsafe) let tokens: UnsafeMutablePointer<Token>
    private let state: Mutex<State>

    init(messages: [KafkaProducerMessage]) {
        self.messages = messages
        self.tokens = .allocate(capacity: max(messages.count, 1))
        self.state = Mutex(State(results: Array(repeating: nil, count: messages.count), remaining: messages.count))
        let unmanaged = Unmanaged.passUnretained(self)
        for index in messages.indices {
            (tokens + index).initialize(to: Token(batch: unmanaged, index: index))
        }
        if !messages.isEmpty { state.withLock { $0.keepAlive = self } }
    }

    deinit {
        tokens.deinitialize(count: messages.count)
        tokens.deallocate()
    }

    /// The opaque pointer to pass with message `index`.
    func opaque(for index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(tokens + index) }

    /// Records the outcome of message `index`.
    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        complete([(index, result)])
    }

    /// Records several outcomes under one lock.
    private func complete(_ outcomes: [(Int, Result<KafkaDeliveryReport, KafkaError>)]) {
        let (finished, keepAlive): ((CheckedContinuation<Results, Never>, Results)?, DeliveryBatch?) = state.withLock { state in
            for (index, result) in outcomes { state.results[index] = result }
            state.remaining -= outcomes.count
            guard state.remaining == 0 else { return (nil, nil) }
            defer { state.keepAlive = nil }
            guard let continuation = state.continuation else { return (nil, state.keepAlive) }
            state.continuation = nil
            return ((continuation, state.results.map { $0! }), state.keepAlive)
        }
        if let (continuation, results) = finished { continuation.resume(returning: results) }
        _ = keepAlive  // released here, outside the lock
    }

    /// Waits until every message has its outcome.
    func results() async -> Results {
        await withCheckedContinuation { continuation in
            let ready: Results? = state.withLock { state in
                guard state.remaining > 0 else { return state.results.map { $0! } }
                state.continuation = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Routes the messages of a delivery-report event (from librdkafka's event thread)
    /// to their batches, taking each batch's lock once per run of its messages.
    static func deliver(event: OpaquePointer, fatal: () -> KafkaError) {
        var current: DeliveryBatch?
        var outcomes: [(Int, Result<KafkaDeliveryReport, KafkaError>)] = []
        while let message = rd_kafka_event_message_next(event) {
            guard let opaque = message.pointee._private else { continue }
            let token = opaque.assumingMemoryBound(to: Token.self).pointee
            let batch = token.batch.takeUnretainedValue()
            if batch !== current {
                if let current, !outcomes.isEmpty { current.complete(outcomes) }
                outcomes.removeAll(keepingCapacity: true)
                current = batch
            }
            outcomes.append((token.index, batch.outcome(of: message, index: token.index, fatal: fatal)))
        }
        if let current, !outcomes.isEmpty { current.complete(outcomes) }
    }

    private func outcome(
        of message: UnsafePointer<rd_kafka_message_t>, index: Int, fatal: () -> KafkaError
    ) -> Result<KafkaDeliveryReport, KafkaError> {
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            return .success(
                KafkaDeliveryReport(topic: messages[index].topic, partition: message.pointee.partition, offset: message.pointee.offset))
        }
        if err == RD_KAFKA_RESP_ERR__FATAL { return .failure(fatal()) }
        return .failure(KafkaError(err, context: "delivery to \(messages[index].topic) failed"))
    }
}
