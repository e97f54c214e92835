import Dispatch
import Foundation
import Kafka
import Logging

/// Which of our producer's APIs `bench kafka` times against the C loop.
enum ProducerAPI: String, CaseIterable, Codable, Sendable {
    /// `[KafkaProducerMessage]`: an array per key and value, no header.
    case messages
    /// ``KafkaProducerBatch``, the worker's: records laid out in one buffer per
    /// ``batchRecords``, each with a header of its own (``headerName``, ``headerSize``
    /// bytes); the C loop then adds the same header to each record.
    case batch

    static let batchRecords = 2_000
    /// Messages handed over and not yet reported, at most, for either API.
    static let messagesInFlight = 80_000
    static let headerName = "alert-id"
    static let headerSize = 36

    /// The headers each record carries, for the C loop.
    var headers: [(name: String, size: Int)] { self == .batch ? [(Self.headerName, Self.headerSize)] : [] }
}

/// Runs the Kafka benchmark phases against one broker and collects the figures.
struct KafkaBenchmark: PhasedBenchmark {
    let configuration: KafkaConfiguration
    let messages: Int
    let size: Int
    let partitions: Int32
    let latencyMessages: Int
    let logger: Logger
    let progress: @Sendable (String) -> Void

    private let runID = UUID().uuidString.prefix(8).lowercased()
    private let clock = ContinuousClock()

    init(
        configuration: KafkaConfiguration, messages: Int, size: Int, partitions: Int32, latencyMessages: Int,
        logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) {
        self.configuration = configuration
        self.messages = messages
        self.size = size
        self.partitions = partitions
        self.latencyMessages = latencyMessages
        self.logger = logger
        self.progress = progress
    }

    /// Produce rounds, each on topics of its own; the C loop goes first in odd rounds and
    /// second in even ones, so neither profits from a warmer broker or page cache.
    var rounds = 3
    /// Messages each producer sends, untimed, before the first round.
    var warmUpMessages = 100_000
    /// Our producer's API under test.
    var api = ProducerAPI.messages

    func run() async throws -> KafkaBenchmarkReport {
        let latencyTopic = "bench-\(runID)-latency"
        let roundTopics = (1...rounds).map { ("bench-\(runID)-\($0)-c", "bench-\(runID)-\($0)-swift") }
        let partitions = self.partitions
        let topics = [latencyTopic] + roundTopics.flatMap { [$0.0, $0.1] }
        return try await withBenchTopics(
            topics.map { KafkaTopicSpecification(name: $0, partitions: partitions) }, configuration: configuration, logger: logger,
            progress: progress
        ) {
            try await measure(topics: topics, roundTopics: roundTopics, latencyTopic: latencyTopic)
        }
    }

    private func measure(topics: [String], roundTopics: [(String, String)], latencyTopic: String) async throws -> KafkaBenchmarkReport {
        let partitions = self.partitions
        // Before any timing: one record on every partition of every topic (the broker
        // creating a partition's log counts against neither producer), then an untimed
        // round of both into the first round's topics (connections, threads, the broker's
        // and the machine's caches warm for whichever producer is timed first).
        try phase("warming up: \(topics.count) topics, then \(warmUpMessages) messages from each producer…")
        try await withKafkaClient(try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: configuration), logger: logger)) { producer in
            for result in await producer.send(topics.flatMap { topic in
                (0..<partitions).map { KafkaProducerMessage(topic: topic, partition: $0, value: Array("warm-up".utf8)) }
            }) {
                _ = try result.get()
            }
        }
        if warmUpMessages > 0 {
            _ = try await produceWithC(topic: roundTopics[0].0, messages: warmUpMessages)
            _ = try await produceWithSwift(topic: roundTopics[0].1, messages: warmUpMessages)
        }

        var results: [KafkaBenchmarkReport.Round] = []
        for (index, (baselineTopic, swiftTopic)) in roundTopics.enumerated() {
            let baselineFirst = index.isMultiple(of: 2)
            var baseline: KafkaBenchmarkReport.Throughput?
            var swift: KafkaBenchmarkReport.Throughput?
            for side in baselineFirst ? ["C", "Swift"] : ["Swift", "C"] {
                try phase("round \(index + 1)/\(rounds): \(side) producing \(messages) × \(size) B…")
                let before = CPUUsage.Snapshot.take(worker: nil)
                if side == "C" {
                    baseline = try await produceWithC(topic: baselineTopic)
                    baseline?.cpu = CPUUsage.between(before, CPUUsage.Snapshot.take(worker: nil))
                } else {
                    swift = try await produceWithSwift(topic: swiftTopic)
                    swift?.cpu = CPUUsage.between(before, CPUUsage.Snapshot.take(worker: nil))
                }
            }
            results.append(KafkaBenchmarkReport.Round(baselineFirst: baselineFirst, baseline: baseline!, swift: swift!))
        }
        try phase("Swift consumer: reading \(messages) back…")
        let consume = try await consume(topic: roundTopics[roundTopics.count - 1].1)
        try phase("Latency: \(latencyMessages) single sends…")
        let latency = try await measureLatency(topic: latencyTopic)
        return KafkaBenchmarkReport(
            librdkafka: KafkaLibrary.version, api: api, messages: messages, size: size, partitions: Int(partitions),
            rounds: results, consume: consume, latency: latency)
    }

    private func produceWithC(topic: String, messages: Int? = nil) async throws -> KafkaBenchmarkReport.Throughput {
        try await BaselineProducer(configuration: configuration).produce(
            topic: topic, messages: messages ?? self.messages, size: size, headers: api.headers)
    }

    private func produceWithSwift(topic: String, messages: Int? = nil) async throws -> KafkaBenchmarkReport.Throughput {
        let messages = messages ?? self.messages
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: configuration), logger: logger)
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let keys = (0..<1024).map { Array("k\($0)".utf8) }
        let api = self.api
        let chunk = api == .batch ? ProducerAPI.batchRecords : 10_000
        let chunksInFlight = ProducerAPI.messagesInFlight / chunk
        let start = clock.now
        let (failures, seconds) = try await withKafkaClient(producer) { producer in
            // One task hands the chunks over in order, as the worker hands over its pages, and
            // awaits the oldest chunk's deliveries once `chunksInFlight` are pending. Each chunk
            // is built inside the timed loop, as the C loop builds its messages. Only failures
            // are counted, as the C loop does in its delivery callback.
            var failures = 0
            var pending: [KafkaDeliveries] = []
            for chunkStart in stride(from: 0, to: messages, by: chunk) {
                let indices = chunkStart..<min(chunkStart + chunk, messages)
                if pending.count == chunksInFlight { failures += await pending.removeFirst().failures().count }
                switch api {
                case .messages:
                    pending.append(await producer.enqueue(indices.map { KafkaProducerMessage(topic: topic, key: keys[$0 % keys.count], value: payload) }))
                case .batch:
                    pending.append(await producer.enqueue(Self.batch(topic: topic, indices: indices, keys: keys, payload: payload)))
                }
            }
            for deliveries in pending { failures += await deliveries.failures().count }
            return (failures, (clock.now - start).seconds)
        }
        guard failures == 0 else { throw KafkaError(code: .state, message: "\(failures) Swift deliveries failed") }
        return .init(messages: messages, size: size, seconds: seconds)
    }

    /// Records `indices` as one ``KafkaProducerBatch``: key, value and header value of each
    /// laid out one after another in one buffer, as the worker lays out a page of alerts.
    private static func batch(topic: String, indices: Range<Int>, keys: [[UInt8]], payload: [UInt8]) -> KafkaProducerBatch {
        let header = [UInt8](repeating: UInt8(ascii: "h"), count: ProducerAPI.headerSize)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(indices.count * (8 + payload.count + header.count))
        var records: [KafkaProducerBatch.Record] = []
        records.reserveCapacity(indices.count)
        func append(_ part: [UInt8]) -> Range<Int> {
            let start = bytes.count
            bytes.append(contentsOf: part)
            return start..<bytes.count
        }
        for index in indices {
            records.append(.init(key: append(keys[index % keys.count]), value: append(payload), header: append(header)))
        }
        return KafkaProducerBatch(topic: topic, headerName: ProducerAPI.headerName, bytes: bytes, records: records)
    }

    private func consume(topic: String) async throws -> KafkaBenchmarkReport.Consume {
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(kafka: configuration, groupID: "bench-\(runID)-consume", sessionTimeout: .seconds(6)),
            logger: logger)
        try consumer.subscribe(topics: [topic])
        let (clock, messages, size) = (self.clock, self.messages, self.size)
        return try await withKafkaClient(consumer) { consumer in
            let subscribed = clock.now
            var first: ContinuousClock.Instant?
            var count = 0
            for try await message in consumer.messages {
                if first == nil { first = clock.now }
                consumer.markProcessed(message)
                count += 1
                if count == messages { break }
            }
            let end = clock.now
            let firstAt = first ?? end
            return .init(
                throughput: .init(messages: count, size: size, seconds: (end - firstAt).seconds),
                joinSeconds: (firstAt - subscribed).seconds)
        }
    }

    private func measureLatency(topic: String) async throws -> KafkaBenchmarkReport.Latency {
        var consumerConfiguration = KafkaConsumerConfiguration(
            kafka: configuration, groupID: "bench-\(runID)-latency", sessionTimeout: .seconds(6), fetchWaitMax: .milliseconds(10))
        consumerConfiguration.kafka.properties["fetch.error.backoff.ms"] = "10"
        let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
        try consumer.subscribe(topics: [topic])
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: configuration, linger: .zero), logger: logger)
        let expected = latencyMessages
        let samples = try await withKafkaClient(consumer) { consumer in try await withKafkaClient(producer) { producer in
            try await withThrowingTaskGroup(of: [Double].self) { group in
            group.addTask {
                var samples: [Double] = []
                for try await message in consumer.messages {
                    consumer.markProcessed(message)
                    guard let sent = message.headers.string(named: "sent-ns").flatMap(UInt64.init) else { continue }
                    samples.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6)
                    if samples.count == expected { break }
                }
                return samples
            }
            // Warm up until the consumer has joined and reads from the end.
            while consumer.assignment.isEmpty {
                _ = try await producer.send(KafkaProducerMessage(topic: topic, key: nil, value: "warmup"))
                try await Task.sleep(for: .milliseconds(200))
            }
            for index in 0..<expected {
                let sent = String(DispatchTime.now().uptimeNanoseconds)
                _ = try await producer.send(
                    KafkaProducerMessage(topic: topic, key: "k\(index)", value: "latency", headers: [KafkaHeader(name: "sent-ns", string: sent)]))
            }
            return try await group.next()!
        } } }
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Double { sorted[Int((Double(sorted.count - 1) * p).rounded())] }
        return .init(samples: sorted.count, p50: percentile(0.5), p99: percentile(0.99), max: sorted.last ?? 0)
    }
}

extension Duration {
    /// Seconds as a floating-point number.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
