import CommandLineSupport
import Foundation

/// The figures of one `bench kafka` run.
struct KafkaBenchmarkReport: Codable {
    struct Throughput: Codable {
        var messages: Int
        var seconds: Double
        var messagesPerSecond: Double
        var megabytesPerSecond: Double

        init(messages: Int, size: Int, seconds: Double) {
            self.messages = messages
            self.seconds = seconds
            self.messagesPerSecond = seconds > 0 ? Double(messages) / seconds : 0
            self.megabytesPerSecond = seconds > 0 ? Double(messages * size) / seconds / 1_000_000 : 0
        }
    }

    struct Consume: Codable {
        var throughput: Throughput
        /// From subscribing until the first message (group join and first fetch).
        var joinSeconds: Double
    }

    struct Latency: Codable {
        var samples: Int
        var p50: Double
        var p99: Double
        var max: Double
    }

    var librdkafka: String
    var messages: Int
    var size: Int
    var partitions: Int
    var baselineProduce: Throughput
    var swiftProduce: Throughput
    /// Swift producer messages/s divided by the C baseline's.
    var produceRatio: Double
    var consume: Consume
    /// Produce-to-consume latency in milliseconds.
    var latency: Latency

    func json() throws -> String { try jsonOutput(self) }

    func table() -> String {
        func row(_ name: String, _ t: Throughput) -> String {
            "\(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(format(t.messagesPerSecond, 0).leftPad(12)) msg/s \(format(t.megabytesPerSecond, 1).leftPad(9)) MB/s  (\(format(t.seconds, 2)) s)"
        }
        return """
            librdkafka \(librdkafka); \(messages) messages of \(size) B; \(partitions) partitions
            \(row("produce, C baseline", baselineProduce))
            \(row("produce, Swift", swiftProduce))
            \(row("consume, Swift", consume.throughput))  join \(format(consume.joinSeconds, 2)) s
            Swift / C produce ratio: \(format(produceRatio * 100, 1)) %
            produce-to-consume latency over \(latency.samples) messages: p50 \(format(latency.p50, 2)) ms, p99 \(format(latency.p99, 2)) ms, max \(format(latency.max, 2)) ms
            """
    }

    private func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }
}

extension String {
    fileprivate func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
