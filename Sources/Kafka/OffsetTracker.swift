/// Decides which offset may be committed per partition when messages finish out of order.
///
/// A consumer hands out messages in offset order per partition; the application may
/// finish them in any order. The commit point of a partition only moves past a run of
/// finished messages starting at the oldest unfinished one, so an offset is never
/// committed while an earlier message is still being processed.
struct OffsetTracker: Sendable {
    private struct PartitionState: Sendable {
        /// Handed-out offsets in order; `head` is the oldest not yet passed.
        var handedOut: [Int64] = []
        var head = 0
        var finished: Set<Int64> = []
    }

    private var partitions: [KafkaTopicPartition: PartitionState] = [:]

    /// Records that a message was handed to the application.
    mutating func handedOut(_ partition: KafkaTopicPartition, offset: Int64) {
        partitions[partition, default: PartitionState()].handedOut.append(offset)
    }

    /// Records that a message was processed.
    ///
    /// - Returns: the new commit offset (one past the last message of the finished run)
    ///   when the commit point moved, otherwise `nil`.
    mutating func finished(_ partition: KafkaTopicPartition, offset: Int64) -> Int64? {
        guard var state = partitions[partition], state.head < state.handedOut.count,
            offset >= state.handedOut[state.head], offset <= state.handedOut[state.handedOut.count - 1]
        else { return nil }
        state.finished.insert(offset)
        var commitOffset: Int64?
        while state.head < state.handedOut.count, state.finished.remove(state.handedOut[state.head]) != nil {
            commitOffset = state.handedOut[state.head] + 1
            state.head += 1
        }
        if state.head > 1024, state.head * 2 > state.handedOut.count {
            state.handedOut.removeFirst(state.head)
            state.head = 0
        }
        partitions[partition] = state
        return commitOffset
    }

    /// Messages handed out and not yet finished, in these partitions.
    func unfinished(in partitions: some Sequence<KafkaTopicPartition>) -> Int {
        partitions.reduce(0) { total, partition in
            guard let state = self.partitions[partition] else { return total }
            return total + (state.handedOut.count - state.head)
        }
    }

    /// Forgets partitions (revoked or newly assigned: their history no longer applies).
    mutating func reset(_ partitions: some Sequence<KafkaTopicPartition>) {
        for partition in partitions { self.partitions[partition] = nil }
    }
}
