import Kafka
import ProactivityCore
import ProactivityStages
import Testing

@Suite(.timeLimit(.minutes(1)))
struct TopicApplierTests {
    @Test func applyCreatesWhatIsMissingLeavesTheRestAndReportsDrift() async throws {
        let admin = try KafkaAdmin(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let definitions = try TopicDefinition.load(from: PipelineHarness.repositoryRoot.appendingPathComponent("topics")).map {
            var definition = $0
            definition.name = TestEnvironment.unique(definition.name)
            return definition
        }
        #expect(definitions.map(\.role) == ["alerts", "dlq", "ticks"])
        let first = try await TopicApplier.apply(definitions, admin: admin)
        #expect(first.allSatisfy { $0.created && $0.drift == nil })
        let second = try await TopicApplier.apply(definitions, admin: admin)
        #expect(second.allSatisfy { !$0.created && $0.drift == nil })

        var shrunk = definitions
        shrunk[0].partitions += 2
        let drifted = try await TopicApplier.apply(shrunk, admin: admin)
        #expect(drifted[0].drift == "\(definitions[0].partitions) partitions, defined \(shrunk[0].partitions)")
        await admin.close()
    }
}
