import Kafka
import Testing

@Suite(.timeLimit(.minutes(1)))
struct FailureTests {
    /// Connection failures are the point here: keep their log lines out of the output.
    let quiet = {
        var logger = TestEnvironment.logger
        logger.logLevel = .critical
        return logger
    }()
    let unreachable = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: "unreachable-test")

    @Test func sendToAnUnreachableBrokerFailsWithATypedErrorInBoundedTime() async throws {
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: unreachable, messageTimeout: .seconds(2)),
            logger: quiet)
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) {
            _ = try await producer.send(KafkaProducerMessage(topic: "nowhere", key: "k", value: "v"))
        }
        #expect(error?.code == .messageTimedOut)
        #expect(error?.isRetriable == true)
        #expect(ContinuousClock.now - started < .seconds(15))
        try await producer.close(timeout: .seconds(1))
    }

    @Test func listingTopicsOnAnUnreachableBrokerFailsInBoundedTime() async throws {
        let admin = try KafkaAdmin(configuration: unreachable, logger: quiet)
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) { _ = try await admin.listTopics(timeout: .seconds(2)) }
        #expect([KafkaError.Code.transport, .timedOut].contains(error?.code))
        #expect(ContinuousClock.now - started < .seconds(10))
        await admin.close()
    }

    @Test func creatingTopicsIsIdempotentAndListed() async throws {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let name = TestEnvironment.unique("admin")
        let specification = KafkaTopicSpecification(name: name, partitions: 3, configs: ["retention.ms": "3600000"])
        #expect(try await admin.createTopics([specification])[name] == .created)
        #expect(try await admin.createTopics([specification])[name] == .alreadyExisted)
        let listed = try await admin.listTopics().first { $0.name == name }
        #expect(listed?.partitionCount == 3)
        await admin.close()
    }
}
