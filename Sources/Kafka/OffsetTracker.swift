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

        /// Marks `offset` finished; returns the new commit offset if the run from the
        /// oldest unfinished message grew.
        mutating func finish(_ offset: Int64) -> Int64? {
            guard head < handedOut.count, offset >= handedOut[head], offset <= handedOut[handedOut.count - 1] else { return nil }
            finished.insert(offset)
            var commitOffset: Int64?
            while head < handedOut.count, finished.remove(handedOut[head]) != nil {
                commitOffset = handedOut[head] + 1
                head += 1
            }
            if head > 1024, head * 2 > handedOut.count {
                handedOut.removeFirst(head)
                head = 0
            }
            return commitOffset
        }
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
        // Optional chaining mutates the stored state in place (no copy of its arrays).
        partitions[partition]?.finish(offset) ?? nil
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
