import Foundation
import Logging

/// A Kafka consumer-group member over librdkafka.
///
/// Read messages with ``messages``. Offsets are committed only for messages marked with
/// ``markProcessed(_:)`` — in the background every `autoCommitInterval`, on
/// ``commit()``, when partitions are revoked and at its end (``finish(gracefully:)``) — and a partition's
/// commit point never passes a message that is still being processed.
///
/// Rebalancing (cooperative-sticky by default) is handled inside: when partitions are
/// revoked, messages fetched for them but not yet handed out are dropped, the consumer
/// waits (up to `revocationTimeout`) for the ones being processed to be marked, commits,
/// and only then gives the partitions up. Every message is therefore processed at least
/// once, and exactly once when processing finishes within that time.
///
/// The consumer is a `Service`: run it in the service group of the stage consuming it
/// (listed before the stage), or scope it with ``withKafkaClient(_:_:)``; either commits
/// and leaves the group at the end (``finish(gracefully:)``).
public final class KafkaConsumer: @unchecked Sendable {
    let client: RDKafkaClient
    /// The thread that polls the consumer queue (and closes): one at a time, in order.
    private let pollThread = SerialThread(name: "librdkafka-consumer")
    private let revocationTimeout: Duration
    private let maxBatch = 1000

    /// Everything below is guarded by `condition`.
    private let condition = NSCondition()
    private var tracker = OffsetTracker()
    private var assignedPartitions: Set<KafkaTopicPartition> = []
    /// See ``isGroupMember``.
    private var member = false
    private var paused: Set<KafkaTopicPartition> = []
    private var fetched: [KafkaConsumerMessage] = []
    private var fetchedHead = 0
    private var closed = false
    private var subscribedTopics: [String] = []
    /// Consumption is held (see ``hold()``).
    private var held = false
    /// Commit points reached since librdkafka was last told (see `storeOffsets()`).
    private var unstored: [KafkaTopicPartition: Int64] = [:]

    /// Creates a consumer; call ``subscribe(topics:)`` next.
    ///
    /// - Parameters:
    ///   - revocationTimeout: how long a revocation waits for messages being processed.
    /// - Throws: ``KafkaError`` naming the property for invalid configuration.
    public init(
        configuration: KafkaConsumerConfiguration,
        revocationTimeout: Duration = .seconds(10),
        logger: Logger
    ) throws(KafkaError) {
        client = try RDKafkaClient(
            role: .consumer,
            properties: try configuration.librdkafkaProperties(),
            events: RDKafkaClient.consumerEvents,
            statisticsHandler: configuration.kafka.statisticsHandler,
            logger: logger
        )
        self.revocationTimeout = revocationTimeout
        client.startEventThread()
    }

    deinit {
        let client = self.client
        pollThread.stop()
        destroyDetached(client) { client.destroy() }
    }

    /// Joins the group for these topics (replacing an earlier subscription).
    public func subscribe(topics: [String]) throws(KafkaError) {
        try subscribeOnly(topics)
        locked {
            subscribedTopics = topics
            member = false
        }
    }

    /// The topics of the current subscription.
    public var subscription: [String] { locked { subscribedTopics } }

    /// Leaves and joins the group again with the same topics, which also refreshes their
    /// metadata: for a consumer that has had no partitions for long although its topics
    /// exist (a topic recreated while the group was being rebuilt). Does nothing while
    /// the consumer has partitions.
    public func resubscribe() throws(KafkaError) {
        let topics = locked { assignedPartitions.isEmpty ? subscribedTopics : [] }
        guard !topics.isEmpty else { return }
        try client.unsubscribe()
        try subscribeOnly(topics)
        locked { member = false }
    }

    private func subscribeOnly(_ topics: [String]) throws(KafkaError) {
        try client.subscribe(topics)
    }

    /// The messages of the subscribed topics, in offset order per partition. Ends
    /// (returns `nil`) when the consumer is closed or the iterating task is cancelled.
    public var messages: KafkaConsumerMessages { KafkaConsumerMessages(consumer: self) }

    /// The partitions currently assigned to this member.
    public var assignment: Set<KafkaTopicPartition> {
        condition.lock()
        defer { condition.unlock() }
        return assignedPartitions
    }

    /// Whether the group has given this consumer its assignment, and has not taken it
    /// back as lost since. The assignment may hold no partition: a group with more
    /// members than its topics have partitions leaves some members idle, ready to take
    /// partitions over. `false` from ``subscribe(topics:)`` (or ``resubscribe()``) until
    /// the first assignment, and after a lost assignment or a failed rebalance until the
    /// next one.
    public var isGroupMember: Bool { locked { member } }

    /// Marks a message processed, so its offset can be committed once every earlier
    /// message of its partition is processed too. Messages that failed and were handled
    /// (for example sent to a dead-letter topic) must be marked as well.
    ///
    /// A message whose partition was revoked meanwhile is ignored: its new owner
    /// processes it again.
    public func markProcessed(_ message: KafkaConsumerMessage) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        let partition = message.topicPartition
        guard assignedPartitions.contains(partition), let offset = tracker.finished(partition, offset: message.offset) else { return }
        unstored[partition] = offset
    }

    /// Hands the commit points reached so far to librdkafka, in one call: before each
    /// poll, commit, revocation and close, rather than once per message.
    private func storeOffsets() {
        let pending = locked {
            defer { unstored.removeAll(keepingCapacity: true) }
            return unstored
        }
        guard !pending.isEmpty, !client.isDestroyed else { return }
        if let error = client.storeOffsets(pending.map { KafkaTopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) }) {
            // A partition revoked meanwhile refuses its offset; its new owner reprocesses.
            client.logger.debug("kafka_offset_store_refused", metadata: ["error": "\(error)"])
        }
    }

    /// Commits the offsets of processed messages now and waits for the broker.
    public func commit() async throws {
        let client = self.client
        try await runBlocking { [self] in
            guard !client.isDestroyed else { throw KafkaError.closed }
            storeOffsets()
            try client.commitStoredOffsets()
        }
    }

    /// The group's committed positions for these partitions, from the broker.
    ///
    /// - Returns: one position per partition; the offset is negative (librdkafka's
    ///   `OFFSET_INVALID`, -1001) where the group has committed nothing yet.
    public func committedOffsets(
        for partitions: [KafkaTopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [KafkaTopicPartitionOffset] {
        let client = self.client
        return try await runBlocking { () throws(KafkaError) -> [KafkaTopicPartitionOffset] in
            guard !client.isDestroyed else { throw KafkaError.closed }
            return try client.committedOffsets(partitions, timeout: timeout)
        }
    }

    /// A partition's low and high watermarks (first offset kept, next offset to be
    /// written), from the broker; the consumer need not be assigned the partition.
    public func watermarks(of partition: KafkaTopicPartition, timeout: Duration = .seconds(10)) async throws -> KafkaWatermarks {
        let client = self.client
        return try await runBlocking { () throws(KafkaError) -> KafkaWatermarks in
            guard !client.isDestroyed else { throw KafkaError.closed }
            return try client.watermarks(of: partition, timeout: timeout)
        }
    }

    /// Stops fetching from these partitions; messages already fetched for them are held
    /// back until ``resume(_:)``.
    public func pause(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        try setPaused(partitions, true)
    }

    /// Resumes fetching from paused partitions.
    public func resume(_ partitions: [KafkaTopicPartition]) throws(KafkaError) {
        try setPaused(partitions, false)
    }

    private func setPaused(_ partitions: [KafkaTopicPartition], _ pause: Bool) throws(KafkaError) {
        // A held consumer fetches nothing: a partition resumed meanwhile resumes on release.
        let fetching = locked { () -> Bool in
            if pause { paused.formUnion(partitions) } else { paused.subtract(partitions) }
            return !held
        }
        if pause || fetching { try setFetching(partitions, !pause) }
    }

    /// Pauses or resumes fetching in librdkafka only.
    func setFetching(_ partitions: [KafkaTopicPartition], _ fetch: Bool) throws(KafkaError) {
        guard !partitions.isEmpty else { return }
        try client.setFetching(partitions, fetch)
    }

    /// Holds consumption: fetching stops for every partition, those assigned now and
    /// later, and no message is handed out, until ``release()``. The consumer keeps
    /// polling, so it stays in its group. For a consumer whose processing waits for an
    /// unreachable dependency: nothing piles up meanwhile.
    public func hold() throws(KafkaError) {
        let partitions = locked { () -> [KafkaTopicPartition] in
            guard !held else { return [] }
            held = true
            return Array(assignedPartitions)
        }
        try setFetching(partitions, false)
    }

    /// Ends a ``hold()``: partitions not paused with ``pause(_:)`` fetch again.
    public func release() throws(KafkaError) {
        let partitions = locked { () -> [KafkaTopicPartition] in
            guard held else { return [] }
            held = false
            return Array(assignedPartitions.subtracting(paused))
        }
        try setFetching(partitions, true)
    }

    /// Whether consumption is held (see ``hold()``).
    public var isHeld: Bool { locked { held } }

    /// Leaves the group cleanly: revokes every partition (committing the offsets of
    /// messages marked processed so far, without waiting for others), then releases the
    /// client. ``messages`` ends. Finish or abandon in-flight messages before calling
    /// it. Gives up waiting for the group after `timeout` and releases the client anyway.
    /// A consumer run as a service or scoped with ``withKafkaClient(_:_:)`` is closed by
    /// ``finish(gracefully:)``; only tests (in this package) call this directly.
    package func close(timeout: Duration = .seconds(30)) async throws {
        let alreadyClosed = locked {
            defer {
                closed = true
                member = false
            }
            return closed
        }
        guard !alreadyClosed else { return }
        defer {
            pollThread.stop()
            // librdkafka's destroy joins its broker threads, and a broker thread waiting
            // on a request the broker never answers can hold it for good (seen with a
            // loaded Tansu). The consumer has left its group by now: release the client
            // on a thread of its own, so closing never hangs its caller.
            let client = self.client
            destroyDetached(client) { client.destroy() }
        }
        try await onPollThread { [self] () throws(KafkaError) in
            storeOffsets()
            try client.closeConsumer(timeout: timeout, rebalance: prepare)
        }
    }

    // MARK: - Rebalancing

    /// Records newly assigned partitions; their history starts afresh.
    /// - Returns: whether consumption is held: the caller pauses them once librdkafka
    ///   has them.
    func assigned(_ partitions: [KafkaTopicPartition]) -> Bool {
        locked {
            tracker.reset(partitions)
            assignedPartitions.formUnion(partitions)
            member = true
            return held
        }
    }

    /// Gives partitions up: drops messages fetched for them but not handed out, waits
    /// for the handed-out ones to be marked processed (not when closing), and commits.
    /// A lost assignment (another member may own the partitions already) is neither
    /// waited for nor committed.
    func revoked(_ partitions: [KafkaTopicPartition], lost: Bool) {
        let revoked = Set(partitions)
        condition.lock()
        fetched = fetched[fetchedHead...].filter { !revoked.contains($0.topicPartition) }
        fetchedHead = 0
        if !lost, !closed {
            let deadline = Date() + revocationTimeout.timeInterval
            while tracker.unfinished(in: revoked) > 0 {
                guard condition.wait(until: deadline) else {
                    client.logger.warning(
                        "kafka_revocation_timeout",
                        metadata: ["unfinished": .stringConvertible(tracker.unfinished(in: revoked)), "partitions": .array(partitions.map { .string("\($0)") })])
                    break
                }
            }
        }
        condition.unlock()
        if !lost {
            storeOffsets()
            do {
                try client.commitStoredOffsets()
            } catch {
                client.logger.warning("kafka_offset_commit_failed", metadata: ["error": "\(error)"])
            }
        }
        condition.lock()
        assignedPartitions.subtract(revoked)
        paused.subtract(revoked)
        tracker.reset(revoked)
        if lost { member = false }
        condition.unlock()
    }

    /// Runs `body` holding the state lock, then wakes waiters.
    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }

    // MARK: - Polling

    /// The next message to hand out, polling librdkafka when none is waiting.
    func nextMessage() async throws -> KafkaConsumerMessage? {
        while !Task.isCancelled {
            switch takeFetched() {
            case .message(let message): return message
            case .closed: return nil
            case .empty:
                do {
                    try await onPollThread { [self] () throws(KafkaError) in try poll(timeoutMilliseconds: 100) }
                } catch let error as KafkaError where error.code == .closed {
                    continue  // closed meanwhile: the next round says so
                }
            }
        }
        return nil
    }

    private enum Fetched {
        case message(KafkaConsumerMessage)
        case empty
        case closed
    }

    private func takeFetched() -> Fetched {
        condition.lock()
        defer { condition.unlock() }
        if closed { return .closed }
        if held { return .empty }
        var index = fetchedHead
        while index < fetched.count, !paused.isEmpty, paused.contains(fetched[index].topicPartition) { index += 1 }
        guard index < fetched.count else { return .empty }
        let message = fetched[index]
        if index == fetchedHead {
            fetchedHead += 1
            if fetchedHead == fetched.count {
                fetched.removeAll(keepingCapacity: true)
                fetchedHead = 0
            }
        } else {
            fetched.remove(at: index)
        }
        tracker.handedOut(message.topicPartition, offset: message.offset)
        return .message(message)
    }

    /// Serves the consumer queue for up to `timeoutMilliseconds` and keeps the messages
    /// it brings for handing out.
    private func poll(timeoutMilliseconds: Int32) throws(KafkaError) {
        if client.isDestroyed { return }
        storeOffsets()
        let batch = try client.pollMessages(timeoutMilliseconds: timeoutMilliseconds, maxBatch: maxBatch, rebalance: prepare)
        guard !batch.isEmpty else { return }
        locked {
            if fetchedHead == fetched.count {
                fetched = batch  // the common case: nothing left over, no copying
                fetchedHead = 0
            } else {
                fetched.append(contentsOf: batch)
            }
        }
    }

    /// Runs `body` on the poll thread and resumes with its outcome.
    private func onPollThread(_ body: @escaping @Sendable () throws(KafkaError) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let queued = pollThread.submit {
                do {
                    try body()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            // Closed between the caller's check and now: the thread has stopped.
            if !queued { continuation.resume(throwing: KafkaError.closed) }
        }
    }
}

/// The messages of a ``KafkaConsumer``.
public struct KafkaConsumerMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerMessage

    let consumer: KafkaConsumer

    /// Iterates the consumer's messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer

        /// The next message; `nil` once the consumer is closed or the task cancelled.
        /// - Throws: ``KafkaError`` when the consumer hit a fatal error.
        public mutating func next() async throws -> KafkaConsumerMessage? {
            try await consumer.nextMessage()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}
