import CommandLineSupport
import Foundation

/// The figures of one `bench kafka` run.
struct KafkaBenchmarkReport: Codable {
    struct Throughput: Codable {
        var messages: Int
        var seconds: Double
        var messagesPerSecond: Double
        var megabytesPerSecond: Double
        /// The CPU of the phase: the benchmark's process (the producer and its
        /// librdkafka threads) and the rest of the machine (the broker). Set for produce
        /// rounds on Linux.
        var cpu: CPUUsage?

        /// The producer's own CPU per message, in microseconds.
        var producerMicroseconds: Double? { cpu.map { $0.benchmark / Double(messages) * 1e6 } }
        /// The rest of the machine's CPU per message (the broker), in microseconds.
        var restMicroseconds: Double? { cpu.map { $0.rest / Double(messages) * 1e6 } }

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
    /// Our producer's API under test.
    var api: ProducerAPI
    var messages: Int
    var size: Int
    var partitions: Int
    /// One produce round: the C loop and our producer, each on a topic of its own.
    struct Round: Codable {
        /// Whether the C loop ran first in this round (the order alternates).
        var baselineFirst: Bool
        var baseline: Throughput
        var swift: Throughput
        /// Our producer's messages/s divided by the C loop's.
        var ratio: Double
        /// Our producer's own CPU per message divided by the C loop's: a figure the
        /// broker's share of two cores does not move, unlike `ratio`.
        var cpuRatio: Double?

        init(baselineFirst: Bool, baseline: Throughput, swift: Throughput) {
            self.baselineFirst = baselineFirst
            self.baseline = baseline
            self.swift = swift
            self.ratio = baseline.messagesPerSecond > 0 ? swift.messagesPerSecond / baseline.messagesPerSecond : 0
            if let ours = swift.producerMicroseconds, let theirs = baseline.producerMicroseconds, theirs > 0 {
                self.cpuRatio = ours / theirs
            }
        }
    }

    var rounds: [Round]
    /// The rounds' median and lowest ratio of our producer to the C loop.
    var medianRatio: Double
    var lowestRatio: Double
    /// The rounds' median ratio of our producer's CPU per message to the C loop's.
    var medianCPURatio: Double?
    var consume: Consume
    /// Produce-to-consume latency in milliseconds.
    var latency: Latency

    init(
        librdkafka: String, api: ProducerAPI, messages: Int, size: Int, partitions: Int, rounds: [Round], consume: Consume, latency: Latency
    ) {
        self.librdkafka = librdkafka
        self.api = api
        self.messages = messages
        self.size = size
        self.partitions = partitions
        self.rounds = rounds
        let ratios = rounds.map(\.ratio).sorted()
        self.medianRatio = ratios.isEmpty ? 0 : ratios[ratios.count / 2]
        self.lowestRatio = ratios.first ?? 0
        let cpuRatios = rounds.compactMap(\.cpuRatio).sorted()
        self.medianCPURatio = cpuRatios.isEmpty ? nil : cpuRatios[cpuRatios.count / 2]
        self.consume = consume
        self.latency = latency
    }

    func json() throws -> String { try jsonOutput(self) }

    func table() -> String {
        func row(_ name: String, _ t: Throughput) -> String {
            "\(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(format(t.messagesPerSecond, 0).leftPad(12)) msg/s \(format(t.megabytesPerSecond, 1).leftPad(9)) MB/s  (\(format(t.seconds, 2)) s)"
        }
        func cpu(_ round: Round) -> String {
            guard let ours = round.swift.producerMicroseconds, let theirs = round.baseline.producerMicroseconds,
                let oursRest = round.swift.restMicroseconds, let theirsRest = round.baseline.restMicroseconds, let ratio = round.cpuRatio
            else { return "" }
            return "\n  CPU per message: producer C \(format(theirs, 2)) µs, Swift \(format(ours, 2)) µs (\(format(ratio * 100, 0)) %); broker and rest \(format(theirsRest, 2)) / \(format(oursRest, 2)) µs"
        }
        let what = switch api {
        case .messages: "Swift: [KafkaProducerMessage] in arrays of 10,000"
        case .batch: "Swift: KafkaProducerBatch of \(ProducerAPI.batchRecords) records; each record, C's too, with a \(ProducerAPI.headerSize)-byte header"
        }
        let cpuSummary = medianCPURatio.map { "; producer CPU per message, Swift / C: median \(format($0 * 100, 1)) %" } ?? ""
        return """
            librdkafka \(librdkafka); \(messages) messages of \(size) B; \(partitions) partitions; \(what)
            \(rounds.enumerated().map { index, round in
                let first = round.baselineFirst ? "C first" : "Swift first"
                return "round \(index + 1) (\(first))\n\(row("  produce, C baseline", round.baseline))\n\(row("  produce, Swift", round.swift))\n  Swift / C: \(format(round.ratio * 100, 1)) %\(cpu(round))"
            }.joined(separator: "\n"))
            Swift / C produce ratio over \(rounds.count) rounds: median \(format(medianRatio * 100, 1)) %, lowest \(format(lowestRatio * 100, 1)) %\(cpuSummary)
            \(row("consume, Swift", consume.throughput))  join \(format(consume.joinSeconds, 2)) s
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
