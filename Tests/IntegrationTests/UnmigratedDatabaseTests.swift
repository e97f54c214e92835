import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProactivityCore
import ProactivityLauncher
@testable import ProactivityStages
import Testing

/// Stages started on a database without this build's migrations (an upgrade deployed
/// before `proactivity migrate` ran) hold off their topics and say why, instead of
/// sending every tick to the DLQ, and go on by themselves once `migrate` has run.
@Suite(.timeLimit(.minutes(4)))
struct UnmigratedDatabaseTests {
    /// A fixed slot far from the real clock: the worker only uses the tick's window.
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func stagesWaitForMigrateThenRunTheTickThatWaited() async throws {
        try await PipelineHarness.with(migrated: false) { harness in
            // Published before the worker starts: a worker that did not wait would take it
            // at once and send it to the DLQ, its job's table missing.
            let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
            try await harness.publish([tick])
            try await harness.withWorker(stages: [.worker, .mirror]) { assembly in
                try await eventually(within: .seconds(60), "readiness names the missing migrations for both stages") {
                    let checks = assembly.health.readiness.checks
                    return checks["worker.migrations"]?.contains("no migrations applied") == true
                        && checks["worker.migrations"]?.contains("run `proactivity migrate`") == true
                        && checks["dlq-mirror.migrations"]?.contains("no migrations applied") == true
                }
                #expect(!assembly.health.readiness.ready)
                // The DLQ API answers what the database said, not an empty 500.
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    try await client.execute(
                        uri: "/dlq", method: .get, headers: [.authorization: "Bearer \(PipelineHarness.apiToken)"]
                    ) { response in
                        #expect(response.status == .serviceUnavailable)
                        let body = String(buffer: response.body)
                        #expect(body.contains("the database failed this request") && body.contains("worker_dlq"), "\(body)")
                    }
                    // The console says it on a page of its own.
                    let cookie = ConsoleSessions(token: PipelineHarness.apiToken).issue().cookie
                    try await client.execute(
                        uri: "/console/dlq", method: .get, headers: [.cookie: "\(ConsoleSessions.cookieName)=\(cookie)"]
                    ) { response in
                        #expect(response.status == .serviceUnavailable)
                        let page = String(buffer: response.body)
                        #expect(page.contains("<html") && page.contains("the database failed this request") && page.contains("worker_dlq"), "\(page)")
                    }
                }
                // `status` names it too, as a problem (exit status 1).
                let (status, output, _) = try await ProactivityProcess.run(["status"], environment: try harness.environment())
                #expect(status == 1 && output.contains("no migrations applied") && output.contains("run `proactivity migrate`"), "\(output)")

                try await harness.migrate()
                try await harness.execute(
                    "INSERT INTO events (user_id, title, starts_at) SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '10 minutes' FROM generate_series(1, 3) n"
                )
                try await eventually(within: .seconds(60), "both stages go on by themselves") {
                    let checks = assembly.health.readiness.checks
                    return checks["worker.migrations"] == "ok" && checks["dlq-mirror.migrations"] == "ok"
                }
                try await harness.waitForCompletion(of: [tick])
                let alerts = try await harness.alerts()
                #expect(alerts.count == 3, "the tick that waited ran on the migrated schema")
                #expect(try await harness.count("SELECT count(*)::int FROM worker_dlq") == 0)
            }
        }
    }
}
