import Kafka
import Testing

/// Failures come back typed and in bounded time. The bounds are liveness bounds (15× the
/// configured timeout, for a loaded machine): they catch a call that hangs, not one that
/// is slow; the measured times are printed.
@Suite(.timeLimit(.minutes(4)))
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
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .messageTimedOut)
        #expect(error?.isRetriable == true)
        #expect(elapsed < .seconds(30), "message.timeout.ms is 2 s")
        print("unreachable broker: the send failed after \(elapsed.seconds) s (message timeout 2 s)")
        try await producer.close(timeout: .seconds(1))
    }

    @Test func listingTopicsOnAnUnreachableBrokerFailsInBoundedTime() async throws {
        let admin = try KafkaAdmin(configuration: unreachable, logger: quiet)
        let started = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) { _ = try await admin.listTopics(timeout: .seconds(2)) }
        let elapsed = ContinuousClock.now - started
        #expect([KafkaError.Code.transport, .timedOut].contains(error?.code))
        #expect(elapsed < .seconds(30), "the listing's timeout is 2 s")
        print("unreachable broker: listing topics failed after \(elapsed.seconds) s (timeout 2 s)")
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
