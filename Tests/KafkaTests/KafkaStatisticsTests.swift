import Testing

@testable import Kafka

@Suite struct KafkaStatisticsTests {
    @Test func decodesPartitionLagAndSkipsInternalPartition() throws {
        let json = """
            {"name":"c#consumer-1","type":"consumer","msg_cnt":0,"topics":{"ticks":{"partitions":{
              "0":{"partition":0,"consumer_lag":5,"committed_offset":10,"hi_offset":15},
              "1":{"partition":1,"consumer_lag":-1,"committed_offset":-1001,"hi_offset":-1},
              "-1":{"partition":-1,"consumer_lag":-1}}}}}
            """
        let statistics = try #require(KafkaStatistics(json: json))
        #expect(statistics.clientType == "consumer")
        #expect(statistics.partitions.count == 2)
        #expect(statistics.partitions[0] == .init(topic: "ticks", partition: 0, consumerLag: 5, committedOffset: 10, highWatermark: 15))
        #expect(statistics.partitions[1].consumerLag == nil)
    }

    @Test func rejectsOtherDocuments() {
        #expect(KafkaStatistics(json: "{}") == nil)
        #expect(KafkaStatistics(json: "not json") == nil)
    }
}
