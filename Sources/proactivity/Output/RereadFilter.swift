/// Tells a record read for the first time from one read again: a consumer group that
/// rebalances before its offsets are committed hands the same records out again (seen
/// with `alerts tail` on the local broker, where a group's first join reassigns its
/// partitions), and a person watching alerts should see each one once.
struct RereadFilter {
    private var lastOffsets: [Int32: Int64] = [:]

    /// Whether the record at `offset` of `partition` comes after every record seen
    /// there so far; it is then remembered as seen.
    mutating func isFirstRead(partition: Int32, offset: Int64) -> Bool {
        guard offset > lastOffsets[partition, default: -1] else { return false }
        lastOffsets[partition] = offset
        return true
    }
}
