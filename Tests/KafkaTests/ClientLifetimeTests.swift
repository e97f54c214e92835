import Kafka
import Logging
import ServiceLifecycle
import Testing

/// The clients' lifetime (librdkafka's mock cluster; no broker needed): a service group's
/// graceful shutdown flushes a producer and ends it, and a send after the end fails at
/// once instead of waiting for a client that will never take it.
@Suite struct ClientLifetimeTests {
    static let kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "lifetime-test", properties: ["test.mock.num.brokers": "1"])
    static let logger = Logger(label: "tests")

    @Test func aGracefulShutdownEndsTheProducerAndLaterSendsFailClosed() async throws {
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: Self.kafka), logger: Self.logger)
        let group = ServiceGroup(services: [producer], logger: Self.logger)
        let message = KafkaProducerMessage(topic: "lifetime", key: Array("key".utf8), value: Array("value".utf8))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let report = try await producer.send(message)
            #expect(report.offset >= 0)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let results = await producer.send([message, message])
        #expect(results.allSatisfy { if case .failure(let error) = $0 { error.code == .closed } else { false } })
    }

    @Test func aScopedClientEndsAlsoWhenTheBodyThrows() async throws {
        struct Refused: Error {}
        let producer = try KafkaProducer(configuration: KafkaProducerConfiguration(kafka: Self.kafka), logger: Self.logger)
        await #expect(throws: Refused.self) {
            try await withKafkaClient(producer) { _ in throw Refused() }
        }
        let result = await producer.send([KafkaProducerMessage(topic: "lifetime", key: nil, value: Array("value".utf8))])
        #expect(result.count == 1 && { if case .failure(let error) = result[0] { error.code == .closed } else { false } }())
    }
}
