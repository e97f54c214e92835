import Foundation
@testable import Kafka
import ProactivityLauncher
import Synchronization
import Testing

/// A client's event thread, on librdkafka's mock cluster.
@Suite(.timeLimit(.minutes(2)))
struct EventThreadTests {
    /// Delivery reports still queued when a producer's client is destroyed reach their
    /// batch: a client retired while its event thread was held up (here by a statistics
    /// handler that blocks) purges its messages, its flush runs out, and the destroy stops
    /// the thread with the purged messages' reports in the queue. Dropped with the queue,
    /// their sender would wait for good.
    @Test func reportsQueuedWhenTheClientIsDestroyedReachTheirSender() async throws {
        let handlerEntered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let calls = Mutex(0)
        var kafka = MockClusterTests.kafka("event-thread-test")
        kafka.statisticsInterval = .milliseconds(50)
        kafka.statisticsHandler = { _ in
            guard calls.withLock({ $0 += 1; return $0 }) == 1 else { return }
            handlerEntered.signal()
            release.wait()
        }
        let configuration = KafkaProducerConfiguration(kafka: kafka, messageTimeout: .seconds(60))
        let instance = try ProducerInstance(
            properties: configuration.librdkafkaProperties, statisticsHandler: kafka.statisticsHandler, renewable: false,
            logger: MockClusterTests.logger)
        #expect(await Self.wait(for: handlerEntered), "the first statistics report holds the event thread")

        let batch = DeliveryBatch(count: 3, topic: "held")
        let topic = try instance.client.topicHandle("held")
        let messages = [KafkaProducerMessage(topic: "held", value: Array("held".utf8))]
        for index in 0..<batch.count {
            #expect(instance.client.produce(messages, at: 0, topic: topic, opaque: batch.opaque(for: index)) == nil)
        }
        instance.retire()
        let destroyed = DispatchSemaphore(value: 0)
        Thread {
            instance.drainAndDestroy()
            destroyed.signal()
        }.start()
        // The destroy has begun (after the flush's 5 s) once the client says so; the thread
        // then stops at its next turn, with the reports still queued.
        #expect(try await poll(every: .milliseconds(10), within: .seconds(60)) { instance.client.isDestroyed })
        release.signal()
        #expect(await Self.wait(for: destroyed), "the client was destroyed")

        let outcomes = Mutex<DeliveryBatch.Results?>(nil)
        Task {
            let results = await batch.results()
            outcomes.withLock { $0 = results }
        }
        let reported = try await poll(every: .milliseconds(10), within: .seconds(10)) { outcomes.withLock { $0 } }
        #expect(reported?.count == 3, "every message of the batch has its outcome (delivered, or failed as purged)")
    }

    /// Waits for `semaphore` without blocking a thread of the cooperative pool, at most 60 s.
    private static func wait(for semaphore: DispatchSemaphore) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: semaphore.wait(timeout: .now() + 60) == .success) }.start()
        }
    }
}
