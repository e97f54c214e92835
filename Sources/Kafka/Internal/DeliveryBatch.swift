import CRdKafka
import Synchronization

/// Collects the delivery reports of one batch of produced messages and resumes the
/// sender when the last one arrives.
///
/// Each message carries, as librdkafka's per-message opaque, a pointer to its token
/// (batch and index), so a report finds its slot without allocating per message.
/// The sender keeps the batch alive until every report has arrived.
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
    }

    deinit {
        tokens.deinitialize(count: messages.count)
        tokens.deallocate()
    }

    /// The opaque pointer to pass with message `index`.
    func opaque(for index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(tokens + index) }

    /// Records the outcome of message `index`.
    func complete(_ index: Int, _ result: Result<KafkaDeliveryReport, KafkaError>) {
        let finished: (CheckedContinuation<Results, Never>, Results)? = state.withLock { state in
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        if let (continuation, results) = finished { continuation.resume(returning: results) }
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

    /// Routes one delivery-report message (from librdkafka's event thread) to its batch.
    static func deliver(_ message: UnsafePointer<rd_kafka_message_t>, fatal: () -> KafkaError) {
        guard let opaque = message.pointee._private else { return }
        let token = opaque.assumingMemoryBound(to: Token.self).pointee
        let batch = token.batch.takeUnretainedValue()
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            let report = KafkaDeliveryReport(
                topic: batch.messages[token.index].topic,
                partition: message.pointee.partition,
                offset: message.pointee.offset
            )
            batch.complete(token.index, .success(report))
        } else if err == RD_KAFKA_RESP_ERR__FATAL {
            batch.complete(token.index, .failure(fatal()))
        } else {
            batch.complete(token.index, .failure(KafkaError(err, context: "delivery to \(batch.messages[token.index].topic) failed")))
        }
    }

}
