import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a consumer's messages concurrently across partitions and one at a time, in
/// offset order, within each: a tick matching a million rows on one partition does not
/// hold up a small tick on another. Concurrency is bounded by the partitions assigned (and
/// the windows read at once by the connections: ``ReminderStore``).
///
/// A partition with `maxQueued` messages waiting for its lane is paused until the lane
/// catches up, so nothing piles up in memory. A message is marked processed when its
/// handler says it is finished with; on graceful shutdown each lane finishes the
/// message it holds and leaves the rest unmarked (uncommitted: the next owner runs them).
struct PartitionLanes {
    let consumer: KafkaConsumer
    var maxQueued = 4
    let logger: Logger

    /// Consumes until graceful shutdown or cancellation.
    /// - Parameter handle: processes one message; returns whether it is finished with.
    /// - Throws: the consumer's fatal error.
    func run(_ handle: @escaping @Sendable (KafkaConsumerMessage) async -> Bool) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var lanes: [KafkaTopicPartition: Lane] = [:]
            defer { lanes.values.forEach { $0.finish() } }
            for try await message in consumer.messages.cancelOnGracefulShutdown() {
                let partition = message.topicPartition
                let lane: Lane
                if let existing = lanes[partition] {
                    lane = existing
                } else {
                    lane = Lane(partition: partition)
                    lanes[partition] = lane
                    group.addTask { [consumer] in await lane.run(consumer: consumer, handle) }
                }
                if lane.enqueue(message, pauseAt: maxQueued) {
                    do {
                        try consumer.pause([partition])
                    } catch {
                        logger.warning("worker_partition_pause_failed", metadata: ["partition": .stringConvertible(partition), "error": "\(error)"])
                        lane.resumed()
                    }
                }
            }
        }
    }

    /// One partition's messages, handled in order by one task.
    final class Lane: Sendable {
        let partition: KafkaTopicPartition
        private let stream: AsyncStream<KafkaConsumerMessage>
        private let continuation: AsyncStream<KafkaConsumerMessage>.Continuation
        /// Messages waiting, and whether the partition is paused because of them.
        private let backlog = Mutex<(queued: Int, paused: Bool)>((0, false))

        init(partition: KafkaTopicPartition) {
            self.partition = partition
            (stream, continuation) = AsyncStream.makeStream(of: KafkaConsumerMessage.self)
        }

        /// Queues a message. - Returns: whether the partition should be paused now.
        func enqueue(_ message: KafkaConsumerMessage, pauseAt limit: Int) -> Bool {
            let pause = backlog.withLock { backlog in
                backlog.queued += 1
                guard backlog.queued >= limit, !backlog.paused else { return false }
                backlog.paused = true
                return true
            }
            continuation.yield(message)
            return pause
        }

        /// The partition was not paused after all.
        func resumed() { backlog.withLock { $0.paused = false } }

        /// No more messages: the lane ends after the one it holds.
        func finish() { continuation.finish() }

        func run(consumer: KafkaConsumer, _ handle: @Sendable (KafkaConsumerMessage) async -> Bool) async {
            for await message in stream {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                let resume = backlog.withLock { backlog in
                    backlog.queued -= 1
                    guard backlog.paused, backlog.queued == 0 else { return false }
                    backlog.paused = false
                    return true
                }
                // Fetched messages of a partition revoked meanwhile are dropped by the
                // consumer; resuming it then fails harmlessly.
                if resume { try? consumer.resume([partition]) }
                if await handle(message) { consumer.markProcessed(message) }
            }
        }
    }
}
