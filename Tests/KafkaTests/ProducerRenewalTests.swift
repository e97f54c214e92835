import Foundation
@testable import Kafka
import Logging
import ProactivityLauncher
import Testing

/// A producer whose librdkafka client hits a fatal error replaces the client and sends
/// on (librdkafka's mock cluster; no broker needed).
@Suite struct ProducerRenewalTests {
    static var logger: Logger {
        var logger = Logger(label: "tests")
        logger.logLevel = .critical  // the fatal error is the subject of the test
        return logger
    }

    @Test func aFatalErrorReplacesTheClientAndSendingGoesOn() async throws {
        let kafka = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "renewal-test", properties: ["test.mock.num.brokers": "1"])
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: kafka, messageTimeout: .seconds(10)), logger: Self.logger)
        let message = KafkaProducerMessage(topic: "renewal", key: Array("key".utf8), value: Array("value".utf8))
        _ = try await producer.send(message)
        #expect(producer.renewals == 0)

        producer.raiseFatalErrorForTesting("injected by the test")
        _ = try await poll(every: .milliseconds(20), within: .seconds(10)) { producer.renewals > 0 }
        #expect(producer.renewals == 1, "the fatal client was replaced")

        let report = try await producer.send(message)
        #expect(report.topic == "renewal" && report.offset >= 0, "the new client delivers")
        try await producer.close()
    }
}
