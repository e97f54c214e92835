import Foundation
import Kafka
import KafkaBaseline

/// The yardstick of the benchmarks: a plain-C librdkafka produce loop (`KafkaBaseline`)
/// with the engine producer's settings (idempotence, `linger.ms` 5, plus every property
/// passed through), on a thread of its own.
struct BaselineProducer {
    let configuration: KafkaConfiguration
    /// Properties that win over the defaults (e.g. the alerts producer's `message.max.bytes`).
    var extraProperties: [String: String] = [:]

    private var properties: [String] {
        var properties = [
            "bootstrap.servers": configuration.bootstrapServers,
            "client.id": "proactivity-bench-c",
            "enable.idempotence": "true",
            "linger.ms": "5",
        ]
        properties.merge(configuration.properties) { _, passedThrough in passedThrough }
        properties.merge(extraProperties) { $1 }
        return properties.map { "\($0.key)=\($0.value)" }
    }

    /// Produces `messages` records of `size` bytes to `topic`, each with `headers` (names
    /// and value sizes), and waits for every report.
    func produce(
        topic: String, messages: Int, size: Int, headers: [(name: String, size: Int)] = []
    ) async throws -> KafkaBenchmarkReport.Throughput {
        let properties = self.properties
        let headerNames = headers.map(\.name)
        let headerSizes = headers.map(\.size)
        let result = try await runOnThread { () throws -> kafka_baseline_result in
            var result = kafka_baseline_result()
            var error = [CChar](repeating: 0, count: 512)
            let cStrings = properties.map { strdup($0) }
            let cNames = headerNames.map { strdup($0) }
            defer { (cStrings + cNames).forEach { free($0) } }
            let status = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { pointers in
                cNames.map { UnsafePointer($0) }.withUnsafeBufferPointer { names in
                    headerSizes.withUnsafeBufferPointer { sizes in
                        kafka_baseline_produce(
                            pointers.baseAddress, pointers.count, topic, messages, size, names.baseAddress, sizes.baseAddress, names.count,
                            &result, &error, error.count)
                    }
                }
            }
            guard status == 0, result.failed == 0 else {
                let reason = status == 0 ? "\(result.failed) deliveries failed" : error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                throw KafkaError(code: .state, message: "C baseline: \(reason)")
            }
            return result
        }
        return .init(messages: messages, size: size, seconds: result.seconds)
    }
}

/// Runs a blocking call on a thread of its own (the C baseline loop blocks for seconds),
/// named so that a per-thread profile tells it from the Swift producer's threads.
private func runOnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = "bench-c-loop"
        thread.start()
    }
}
