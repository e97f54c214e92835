import Foundation
import Kafka
import ProactivityCore
import ProactivityLauncher
import Testing

/// The broker stops answering (SIGSTOP: its connections stay open, requests go
/// unanswered) while ticks flow, then comes back (SIGCONT). The worker gets back to work
/// by itself and nothing published is lost; a pause shorter than the session costs no
/// rebalance at all.
///
/// The bounds are liveness bounds for a loaded 2-core machine; the recovery time is
/// printed here and measured by `scripts/bench-recovery pause`.
@Suite(.timeLimit(.minutes(4)))
struct BrokerPauseTests {
    /// What a test sees of one pause.
    struct Pause {
        let harness: PipelineHarness
        let worker: ProactivityProcess
        let stopped: Date
        let continued: Date
        let outputBeforePause: Int
        /// The worker's output since the broker was stopped.
        var workerOutputSincePause: String { String(worker.text.dropFirst(outputBeforePause)) }
    }

    /// Runs a tick producer and a worker (`proactivity tick`, `proactivity worker`) on a
    /// broker of their own with six jobs due every 2 s, pauses the broker for `length`
    /// once ticks flow, and hands the pause to `body`; then checks that every published
    /// tick completed and that both processes stop cleanly.
    /// - Parameter sessionMilliseconds: the worker's `KAFKA_SESSION_TIMEOUT_MS`; nil: the engine's default.
    func pauseTheBroker(for length: Duration, sessionMilliseconds: String?, _ body: (Pause) async throws -> Void) async throws {
        try await BrokerRestartTests.withOwnBroker { stack, _, harness in
            let pidFile = PipelineHarness.repositoryRoot.appendingPathComponent(".local/run/tansu-\(stack.kafkaPort).pid")
            let broker = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
            var environment = try harness.environment(
                jobsFile: try harness.jobsFile(RestartStormTests.sixFastJobs),
                extra: ["KAFKA_BOOTSTRAP_SERVERS": stack.kafkaAddress, "LOG_LEVEL": "info"])
            environment["KAFKA_SESSION_TIMEOUT_MS"] = sessionMilliseconds
            let tick = try ProactivityProcess(["tick"], environment: environment)
            let worker = try ProactivityProcess(["worker"], environment: environment)
            try await eventually(within: .seconds(90), "ticks flow") {
                try await harness.count("SELECT count(*)::int FROM worker_ticks_completed") >= 6
            }
            #expect(worker.text.contains("\"kafka_partitions_assigned\""))

            let outputBeforePause = worker.text.count
            let stopped = Date()
            kill(broker, SIGSTOP)
            var resumed = false
            defer { if !resumed { kill(broker, SIGCONT) } }
            try await Task.sleep(for: length)  // the pause itself, not a synchronisation
            kill(broker, SIGCONT)
            resumed = true
            try await body(
                Pause(harness: harness, worker: worker, stopped: stopped, continued: Date(), outputBeforePause: outputBeforePause))

            tick.signal(SIGTERM)
            #expect(try await tick.waitForExit(within: .seconds(30)) == 0)
            let published = RestartStormTests.publishedTickIDs(in: tick.text)
            #expect(published.count >= 6)
            try await eventually(within: .seconds(90), "every published tick completed") {
                try await harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE tick_id = ANY(\(published))") == published.count
            }
            worker.signal(SIGTERM)
            #expect(try await worker.waitForExit(within: .seconds(40)) == 0)
        }
    }

    /// Waits (90 s at most: four times the slowest recovery measured) until a tick of a
    /// slot after the pause began has completed; the seconds from SIGCONT.
    func recovery(after pause: Pause) async throws -> Double {
        try await eventually(within: .seconds(90), "a tick of a slot after the pause began completed") {
            try await pause.harness.count("SELECT count(*)::int FROM worker_ticks_completed WHERE slot > \(pause.stopped)") >= 1
        }
        return Date().timeIntervalSince(pause.continued)
    }

    /// A 20 s pause outlives a 6 s session: the worker rejoins its group.
    @Test func aWorkerIsBackToWorkAfterAPauseLongerThanItsSessionAndNothingIsLost() async throws {
        try await pauseTheBroker(for: .seconds(20), sessionMilliseconds: "6000") { pause in
            let recovery = try await recovery(after: pause)
            print("broker paused 20 s, session 6 s: a tick completed \(String(format: "%.1f", recovery)) s after SIGCONT")
        }
    }

    /// A 15 s pause within the default session: the worker keeps its partitions and goes
    /// on (with a 10 s session, the former default, they were lost and the group rejoined).
    @Test func aPauseShorterThanTheDefaultSessionCostsNoRebalance() async throws {
        try await pauseTheBroker(for: .seconds(15), sessionMilliseconds: nil) { pause in
            let recovery = try await recovery(after: pause)
            let output = pause.workerOutputSincePause
            let lost = output.split(separator: "\n").filter {
                $0.contains("\"kafka_partitions_revoked\"") || $0.contains("\"kafka_consumer_resubscribing\"") || $0.contains("SESSTMOUT")
            }
            #expect(lost.isEmpty, "the worker left its group during the pause: \(lost.joined(separator: "\n"))")
            print("broker paused 15 s, default session: a tick completed \(String(format: "%.1f", recovery)) s after SIGCONT, no rebalance")
        }
    }
}
