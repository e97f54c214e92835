import Logging
import Testing

@testable import Kafka

@Suite struct KafkaConfigurationTests {
    let logger = Logger(label: "test")

    func producerError(_ properties: [String: String]) -> KafkaError? {
        let configuration = KafkaProducerConfiguration(
            kafka: KafkaConfiguration(bootstrapServers: "127.0.0.1:1", properties: properties))
        do {
            let producer = try KafkaProducer(configuration: configuration, logger: logger)
            _ = producer
            return nil
        } catch {
            return error
        }
    }

    @Test func unknownPropertyIsNamed() throws {
        let error = try #require(producerError(["no.such.property": "1"]))
        #expect(error.code == .invalidConfiguration)
        #expect(error.property == "no.such.property")
        #expect(error.description.contains("unknown Kafka property 'no.such.property'"))
    }

    @Test func invalidValueIsNamed() throws {
        let error = try #require(producerError(["linger.ms": "soon"]))
        #expect(error.code == .invalidConfiguration)
        #expect(error.property == "linger.ms")
    }

    @Test func secretValuesStayOutOfErrors() {
        #expect(KafkaConfiguration.isSecret(property: "sasl.password"))
        #expect(KafkaConfiguration.isSecret(property: "ssl.key.password"))
        #expect(KafkaConfiguration.isSecret(property: "sasl.oauthbearer.client.secret"))
        #expect(!KafkaConfiguration.isSecret(property: "linger.ms"))
        let text = RDKafkaConfig.redacted("Invalid value \"hunter2\" for sasl.password", property: "sasl.password", value: "hunter2")
        #expect(text == "Invalid value \"[redacted]\" for sasl.password")
        #expect(RDKafkaConfig.redacted("bad 5x", property: "linger.ms", value: "5x") == "bad 5x")
    }

    @Test func passThroughWinsOverTypedSettings() {
        let configuration = KafkaProducerConfiguration(
            kafka: KafkaConfiguration(bootstrapServers: "a:1", properties: ["linger.ms": "50", "enable.idempotence": "false"]),
            linger: .milliseconds(5))
        let properties = configuration.librdkafkaProperties
        #expect(properties["linger.ms"] == "50")
        #expect(properties["enable.idempotence"] == "false")
        #expect(properties["bootstrap.servers"] == "a:1")
    }

    @Test func producerDefaultsAreIdempotent() {
        let properties = KafkaProducerConfiguration(kafka: KafkaConfiguration(bootstrapServers: "a:1")).librdkafkaProperties
        #expect(properties["enable.idempotence"] == "true")
    }

    @Test func consumerRefusesAutomaticOffsetStore() throws {
        let configuration = KafkaConsumerConfiguration(
            kafka: KafkaConfiguration(bootstrapServers: "a:1", properties: ["enable.auto.offset.store": "true"]), groupID: "g")
        #expect(throws: KafkaError.self) { try KafkaConsumer(configuration: configuration, logger: logger) }
    }

    @Test func consumerDefaults() throws {
        let properties = try KafkaConsumerConfiguration(kafka: KafkaConfiguration(bootstrapServers: "a:1"), groupID: "g")
            .librdkafkaProperties()
        #expect(properties["enable.auto.offset.store"] == "false")
        #expect(properties["partition.assignment.strategy"] == "cooperative-sticky")
        #expect(properties["isolation.level"] == "read_committed")
        #expect(properties["group.id"] == "g")
        #expect(properties["session.timeout.ms"] == "30000")
        #expect(properties["heartbeat.interval.ms"] == "2000")
    }

    @Test func heartbeatsFollowAPassedThroughSessionTimeout() throws {
        let properties = try KafkaConsumerConfiguration(
            kafka: KafkaConfiguration(bootstrapServers: "a:1", properties: ["session.timeout.ms": "6000"]), groupID: "g"
        ).librdkafkaProperties()
        #expect(properties["session.timeout.ms"] == "6000")
        #expect(properties["heartbeat.interval.ms"] == "1000")
        let short = try KafkaConsumerConfiguration(
            kafka: KafkaConfiguration(bootstrapServers: "a:1"), groupID: "g", sessionTimeout: .seconds(9)
        ).librdkafkaProperties()
        #expect(short["heartbeat.interval.ms"] == "1500")
    }

    @Test func errorCodesHaveLibrdkafkaNames() {
        #expect(KafkaError.Code.messageTimedOut.name == "_MSG_TIMED_OUT")
        #expect(KafkaError.Code.topicAlreadyExists.name == "TOPIC_ALREADY_EXISTS")
    }
}
