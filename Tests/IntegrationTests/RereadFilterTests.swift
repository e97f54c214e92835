import Testing

@testable import proactivity

/// `alerts tail` prints a record handed out again after a rebalance once.
@Suite struct RereadFilterTests {
    @Test func aRecordReadAgainIsRecognisedPerPartition() {
        var filter = RereadFilter()
        // (partition, offset) as a consumer hands them out: the group rebalanced before
        // offset 1 of partition 0 was committed, so 0 and 1 come again, then 2.
        let reads: [(Int32, Int64)] = [(0, 0), (0, 1), (1, 0), (0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
        let firsts = reads.map { filter.isFirstRead(partition: $0.0, offset: $0.1) }
        #expect(firsts == [true, true, true, false, false, true, false, true])
    }
}
