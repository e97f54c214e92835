import Testing

@testable import Kafka

@Suite struct OffsetTrackerTests {
    let partition = KafkaTopicPartition(topic: "t", partition: 0)

    @Test func inOrderFinishingAdvancesEachTime() {
        var tracker = OffsetTracker()
        for offset in 10..<13 { tracker.handedOut(partition, offset: Int64(offset)) }
        #expect(tracker.finished(partition, offset: 10) == 11)
        #expect(tracker.finished(partition, offset: 11) == 12)
        #expect(tracker.finished(partition, offset: 12) == 13)
        #expect(tracker.unfinished(in: [partition]) == 0)
    }

    @Test func commitPointNeverPassesAnUnfinishedMessage() {
        var tracker = OffsetTracker()
        for offset in 0..<4 { tracker.handedOut(partition, offset: Int64(offset)) }
        #expect(tracker.finished(partition, offset: 2) == nil)
        #expect(tracker.finished(partition, offset: 1) == nil)
        #expect(tracker.unfinished(in: [partition]) == 4 - 0)
        #expect(tracker.finished(partition, offset: 0) == 3)
        #expect(tracker.unfinished(in: [partition]) == 1)
        #expect(tracker.finished(partition, offset: 3) == 4)
    }

    @Test func gapsInOffsetsAreFollowed() {
        // Compacted topics and transaction markers leave gaps between offsets.
        var tracker = OffsetTracker()
        for offset: Int64 in [5, 9, 20] { tracker.handedOut(partition, offset: offset) }
        #expect(tracker.finished(partition, offset: 9) == nil)
        #expect(tracker.finished(partition, offset: 5) == 10)
        #expect(tracker.finished(partition, offset: 20) == 21)
    }

    @Test func partitionsAreIndependent() {
        var tracker = OffsetTracker()
        let other = KafkaTopicPartition(topic: "t", partition: 1)
        tracker.handedOut(partition, offset: 0)
        tracker.handedOut(other, offset: 0)
        #expect(tracker.finished(other, offset: 0) == 1)
        #expect(tracker.unfinished(in: [partition]) == 1)
        #expect(tracker.unfinished(in: [other]) == 0)
    }

    @Test func resetForgetsAndIgnoresStaleFinishes() {
        var tracker = OffsetTracker()
        tracker.handedOut(partition, offset: 7)
        tracker.reset([partition])
        #expect(tracker.unfinished(in: [partition]) == 0)
        #expect(tracker.finished(partition, offset: 7) == nil)
        tracker.handedOut(partition, offset: 3)
        #expect(tracker.finished(partition, offset: 99) == nil)
        #expect(tracker.finished(partition, offset: 3) == 4)
    }

    @Test func longRunsStayCorrectAcrossCompaction() {
        var tracker = OffsetTracker()
        var last: Int64?
        for offset in 0..<5000 { tracker.handedOut(partition, offset: Int64(offset)) }
        for offset in stride(from: 0, to: 5000, by: 2) {
            #expect(tracker.finished(partition, offset: Int64(offset + 1)) == nil)
            last = tracker.finished(partition, offset: Int64(offset))
            #expect(last == Int64(offset + 2))
        }
        #expect(tracker.unfinished(in: [partition]) == 0)
    }
}
