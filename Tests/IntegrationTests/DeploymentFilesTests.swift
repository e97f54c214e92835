import ArgumentParser
import Foundation
import HummingbirdTesting
import Kafka
import ProactivityCore
import ProactivityLauncher
import ProactivityStages
import Testing
import Yams

@testable import proactivity

/// docker-compose.yml, the Prometheus configuration and rules, and the Grafana
/// dashboard, checked without a Docker engine: against the real command-line parser,
/// promtool, and the metrics a running engine exports.
@Suite(.timeLimit(.minutes(3)))
struct DeploymentFilesTests {
    static let root = PipelineHarness.repositoryRoot

    func yaml(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(path) is a YAML mapping")
    }

    var services: [String: [String: Any]] {
        get throws {
            let compose = try yaml("docker-compose.yml")
            return try #require(compose["services"] as? [String: [String: Any]])
        }
    }

    /// The engine's services: the ones built from this repository.
    var engineServices: [String: [String: Any]] {
        get throws { try services.filter { $0.value["image"] as? String == "proactivity" } }
    }

    @Test func theComposeFileHasKafkaInKRaftModePostgresTheStagesPrometheusAndGrafana() throws {
        let services = try self.services
        #expect(Set(services.keys).isSuperset(of: ["kafka", "postgres", "migrate", "topics", "tick", "worker", "dlq-mirror", "prometheus", "grafana"]))
        let kafka = try #require(services["kafka"])
        #expect((kafka["image"] as? String)?.hasPrefix("apache/kafka:") == true)
        let kafkaEnvironment = try #require(kafka["environment"] as? [String: Any])
        #expect(kafkaEnvironment["KAFKA_PROCESS_ROLES"] as? String == "broker,controller", "KRaft, no ZooKeeper")
        #expect(kafka["healthcheck"] != nil, "Kafka is healthy before anything uses it")
        let worker = try #require(services["worker"])
        #expect((worker["deploy"] as? [String: Any])?["replicas"] as? Int == 2)
        for name in ["tick", "worker", "dlq-mirror"] {
            let dependencies = try #require(services[name]?["depends_on"] as? [String: [String: String]], "\(name) depends_on")
            #expect(dependencies["migrate"]?["condition"] == "service_completed_successfully")
            #expect(dependencies["topics"]?["condition"] == "service_completed_successfully")
            #expect(dependencies["kafka"]?["condition"] == "service_healthy")
        }
    }

    /// Safe defaults: nothing published beyond loopback, no shipped secrets, limits and
    /// restart policies on every long-running service.
    @Test func theComposeFileKeepsPortsOnLoopbackRequiresItsSecretsAndLimitsEveryService() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        for (name, service) in try services {
            for port in service["ports"] as? [String] ?? [] {
                #expect(port.hasPrefix("127.0.0.1:"), "\(name) publishes \(port) beyond loopback")
            }
            #expect(service["mem_limit"] != nil, "\(name) has a memory limit")
            let restart = service["restart"] as? String
            if ["migrate", "topics"].contains(name) {
                #expect(restart == "no", "\(name) runs once")
            } else {
                #expect(restart == "unless-stopped", "\(name) restarts on failure")
            }
        }
        #expect(text.contains("DLQ_API_TOKEN: ${DLQ_API_TOKEN:?"), "the API token has no default")
        #expect(!text.contains("change-me"))
        let grafana = try #require(try services["grafana"]?["environment"] as? [String: Any])
        #expect(grafana["GF_SECURITY_ADMIN_PASSWORD"] as? String == "${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD}")
        #expect(grafana["GF_AUTH_ANONYMOUS_ENABLED"] as? String == "false")
    }

    @Test func everyEngineServiceRunsARealSubcommandWithValidFlags() throws {
        let engine = try engineServices
        #expect(Set(engine.keys) == ["migrate", "topics", "tick", "worker", "dlq-mirror"])
        for (name, service) in engine {
            let command = try #require(service["command"] as? [String], "\(name) has a command list")
            let parsed = try Proactivity.parseAsRoot(command)
            #expect(!(parsed is Proactivity), "\(name): `\(command.joined(separator: " "))` names a subcommand")
        }
        // The parser used above does reject what is not a command or a flag.
        #expect(throws: (any Error).self) { try Proactivity.parseAsRoot(["worker", "--no-such-flag"]) }
        #expect(throws: (any Error).self) { try Proactivity.parseAsRoot(["wrker"]) }
    }

    /// Each engine service's environment, its required secrets filled in, is a valid
    /// configuration: a setting the file adds (the worker's fetch wait for Apache Kafka)
    /// is read, not refused at start.
    @Test func everyEngineServiceEnvironmentIsAValidConfiguration() async throws {
        for (name, service) in try engineServices {
            let declared = try #require(service["environment"] as? [String: Any], "\(name) has an environment")
            var environment: [String: String] = [:]
            for (key, value) in declared {
                let text = "\(value)"
                environment[key] = text.hasPrefix("${") ? "a-required-secret-\(key.lowercased())" : text
            }
            do {
                let settings = try await EngineSettings.load(environment: environment)
                #expect(settings.workerFetchWaitMilliseconds == 500, "\(name): Apache Kafka answers a waiting fetch at once")
                #expect(settings.kafka.bootstrapServers == "kafka:9092")
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
    }

    @Test func everyStageHasTheSeedsHealthCheck() throws {
        let services = try self.services
        for name in ["tick", "worker", "dlq-mirror"] {
            let check = try #require(services[name]?["healthcheck"] as? [String: Any], "\(name) has a health check")
            let test = try #require(check["test"] as? [String])
            #expect(test.contains { $0.contains("localhost:9100/healthz") }, "\(name) probes /healthz on 9100")
            #expect(check["interval"] as? String == "30s")
            #expect(check["timeout"] as? String == "5s")
            #expect(check["retries"] as? Int == 3)
            #expect(check["start_period"] as? String == "10s")
        }
    }

    /// The binary links jemalloc (Package.swift says why), so every library's `malloc`,
    /// librdkafka's and the Swift runtime's, is jemalloc's; the image's run stage must
    /// then carry the library.
    @Test func theBinaryAllocatesWithJemallocAndTheImageShipsIt() async throws {
        let run = try await ProactivityProcess.run(["--help"], environment: ["LD_DEBUG": "bindings", "LD_BIND_NOW": "1"])
        #expect(run.status == 0)
        let bindings = run.output.split(separator: "\n").filter { $0.contains("normal symbol `malloc'") || $0.contains("normal symbol `free'") }
        #expect(!bindings.isEmpty, "the dynamic linker reported the bindings of malloc and free")
        let elsewhere = bindings.filter { !$0.contains("libjemalloc.so") }
        #expect(elsewhere.isEmpty, "malloc and free bound to jemalloc only, not: \(elsewhere.prefix(3))")
        #expect(bindings.contains { $0.contains("librdkafka") }, "librdkafka's allocations go to jemalloc too")

        let dockerfile = try String(contentsOf: Self.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let stages = dockerfile.components(separatedBy: "\nFROM ")
        #expect(stages.count == 3, "a build stage and a run stage")
        #expect(stages.first { $0.hasPrefix("swift:") }?.contains("libjemalloc-dev") == true, "the build stage installs libjemalloc-dev")
        #expect(stages.last?.contains("libjemalloc2") == true, "the run stage installs libjemalloc2")
    }

    @Test func thePrometheusConfigurationAndRulesPassPromtool() throws {
        for arguments in [
            ["check", "config", "deploy/prometheus/prometheus.yml"],
            ["check", "rules", "deploy/prometheus/alerts.yml"],
            ["test", "rules", "deploy/prometheus/alerts.test.yml"],
        ] {
            let (status, output) = try promtool(arguments)
            #expect(status == 0, "promtool \(arguments.joined(separator: " ")):\n\(output)")
        }
    }

    @Test func everyMetricTheDashboardAndRulesQueryIsExportedAndMetricsPassPromtool() async throws {
        try await PipelineHarness.with { harness in
            let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!
            try await harness.execute("INSERT INTO events (user_id, title, starts_at) VALUES ('alice', 'Standup', \(slot.addingTimeInterval(600)))")
            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            let environment = ["KAFKA_STATISTICS_INTERVAL_MS": "500"]
            try await harness.withWorker(stages: Set(StageAssembly.Stage.allCases), environment: environment) { assembly in
                try await harness.publish([tick])
                try await harness.waitForCompletion(of: [tick])
                try await eventually("consumer lag is reported") { assembly.metrics.render().contains("proactivity_consumer_lag{") }
                let scraped = try await ObservabilityApp.make(assembly).test(.live) { client in
                    try await client.execute(uri: "/metrics", method: .get) { response in
                        #expect(response.status == .ok)
                        return String(buffer: response.body)
                    }
                }
                let exported = Set(
                    scraped.split(separator: "\n").filter { !$0.hasPrefix("#") }
                        .map { String($0.prefix { $0 != "{" && $0 != " " }) })
                var queried: [String: String] = [:]
                for (file, expressions) in try queriedExpressions() {
                    for expression in expressions {
                        for name in Self.metricNames(in: expression) { queried[name] = file }
                    }
                }
                #expect(queried.count >= 12, "the dashboard and rules query the engine's metrics: \(queried.keys.sorted())")
                for (name, file) in queried.sorted(by: { $0.key < $1.key }) {
                    #expect(exported.contains(name), "\(file) queries \(name), which /metrics does not export")
                }
                let (status, output) = try promtool(["check", "metrics"], input: scraped)
                #expect(status == 0, "promtool check metrics:\n\(output)")
            }
        }
    }

    /// Every PromQL expression of the dashboard and the alert rules, by file.
    func queriedExpressions() throws -> [String: [String]] {
        let dashboardFile = "deploy/grafana/dashboards/proactivity.json"
        let dashboard = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent(dashboardFile)))
        var dashboardExpressions: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, child) in object {
                    if key == "expr", let expression = child as? String { dashboardExpressions.append(expression) } else { collect(child) }
                }
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(dashboard)
        let rulesFile = "deploy/prometheus/alerts.yml"
        let groups = try #require(try yaml(rulesFile)["groups"] as? [[String: Any]])
        let ruleExpressions = groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }.compactMap { $0["expr"] as? String }
        return [dashboardFile: dashboardExpressions, rulesFile: ruleExpressions]
    }

    /// The engine's metric names in a PromQL expression (Prometheus' own, like `up`, left out).
    static func metricNames(in expression: String) -> [String] {
        let pattern = /\b(?:proactivity|sparkone)_[a-z_]+\b/
        return expression.matches(of: pattern).map { String($0.output) }
    }

    /// Runs promtool from the repository root.
    func promtool(_ arguments: [String], input: String? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["promtool"] + arguments
        process.currentDirectoryURL = Self.root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
