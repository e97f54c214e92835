import Foundation
import Observability
import PostgresNIO
import ProactivityCore
@testable import ProactivityStages
import ProactivityStore
import Testing

/// The least-privilege role of `docs/security.md`, made by running the document's own
/// statements, is enough for a worker and its ledger pruner: the documented grants stay
/// true as the engine's tables change.
@Suite(.timeLimit(.minutes(3)))
struct LeastPrivilegeTests {
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    @Test func aWorkerAndItsPrunerRunWithTheDocumentedRole() async throws {
        try await PipelineHarness.with { harness in
            let role = TestEnvironment.unique("engine").replacingOccurrences(of: "-", with: "_")
            let password = UUID().uuidString
            for statement in try Self.documentedGrants(schema: harness.schema, role: role, password: password) {
                try await harness.execute(PostgresQuery(unsafeSQL: statement))
            }
            do {
                try await exercise(harness, role: role, url: try Self.url(harness.databaseURL, user: role, password: password))
            } catch {
                try await Self.drop(role, harness)
                throw error
            }
            try await Self.drop(role, harness)
        }
    }

    private func exercise(_ harness: PipelineHarness, role: String, url: String) async throws {
        try await harness.execute(
            """
            INSERT INTO events (user_id, title, starts_at)
            SELECT 'user-' || n, 'Event ' || n, \(slot) + n * interval '1 minute' FROM generate_series(1, 30) n
            """)
        let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
        try await harness.withWorker(environment: ["POSTGRES_URL": url]) { _ in
            try await harness.publish([tick])
            try await harness.waitForCompletion(of: [tick])
        }
        #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 30)
        #expect(Set(try await harness.alerts().map(\.alert.itemId)).count == 30)

        // As the owner: a day partition past the retention, and an old page in the default partition.
        let now = Date()
        let oldDay = now.addingTimeInterval(-86_400 * 35)
        #expect(try await AlertLedger(client: harness.client, logger: harness.logger).addPartitions(from: oldDay, through: oldDay) == 1)
        try await harness.recordInLedger(tickId: "old", items: [("a", oldDay)])
        try await harness.execute(
            """
            INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats, published_at)
            SELECT 'event-reminder', 'older', due, due, 1, ARRAY['b'], ARRAY[due], \(now) - interval '40 days'
            FROM (SELECT \(now) - interval '400 days' AS due) AS page
            """)
        try await withPostgresClient(try DatabaseSettings(url: url), logger: harness.logger) { client async throws in
            let metrics = EngineMetrics()
            // Five days ahead: the migration made the partitions of the next three as the owner.
            await LedgerPruner(
                store: LedgerRetention(client: client, logger: harness.logger), retention: 86_400 * 30, daysAhead: 5, metrics: metrics,
                migrations: MigrationWait(database: client, condition: nil, health: HealthState(stage: "worker"), logger: harness.logger),
                logger: harness.logger
            ).pruneOnce(now: now)
            #expect(metrics.render().contains(#"proactivity_ledger_pruned_rows_total{table="worker_alerts_sent"} 2"#), "\(metrics.render())")
            // The function runs with the owner's rights: it drops day partitions of the ledger and nothing else.
            for table in ["worker_dlq", "worker_alert_pages_default", "worker_alert_pages"] {
                await #expect(throws: (any Error).self, "\(table) dropped through the ledger's function") {
                    for try await _ in try await client.query("SELECT worker_alert_pages_drop_partition(\(table)::regclass)") {}
                }
                #expect(try await harness.count("SELECT count(*)::int WHERE to_regclass(\(table)) IS NOT NULL") == 1)
            }
        }
        let days = (-1...5).map { partition(now.addingTimeInterval(86_400 * Double($0))) }
        #expect(try await harness.count("SELECT count(*)::int FROM unnest(\(days)) AS day WHERE to_regclass(day) IS NOT NULL") == 7, "added")
        #expect(try await harness.count("SELECT count(*)::int WHERE to_regclass(\(partition(oldDay))) IS NOT NULL") == 0, "dropped")
        #expect(try await harness.count("SELECT count(*)::int FROM worker_alert_pages_default WHERE tick_id = 'older'") == 0, "deleted")

        // An older deployment's role, without SELECT on schema_migrations: the stages warn
        // and start without the migration check instead of waiting for ever.
        try await harness.execute(PostgresQuery(unsafeSQL: "REVOKE SELECT ON schema_migrations FROM \(role)"))
        try await withPostgresClient(try DatabaseSettings(url: url), logger: harness.logger) { client async throws in
            await #expect(throws: (any Error).self, "the role reads schema_migrations") { try await MigrationState.of(client, logger: harness.logger) }
            let health = HealthState(stage: "worker")
            #expect(await MigrationWait(database: client, condition: .workerMigrations, health: health, logger: harness.logger).run())
            #expect(health.readiness.checks["worker.migrations"] == "ok")
        }
    }

    private func partition(_ date: Date) -> String {
        "worker_alert_pages_" + date.formatted(Date.ISO8601FormatStyle().year().month().day().dateSeparator(.omitted))
    }

    /// The statements of the SQL block under "A least-privilege database role" in
    /// `docs/security.md`, for this schema, role and password.
    static func documentedGrants(schema: String, role: String, password: String) throws -> [String] {
        let document = try String(
            contentsOf: PipelineHarness.repositoryRoot.appendingPathComponent("docs/security.md"), encoding: .utf8)
        guard let section = document.range(of: "## A least-privilege database role"),
            let start = document.range(of: "```sql\n", range: section.upperBound..<document.endIndex),
            let end = document.range(of: "```", range: start.upperBound..<document.endIndex)
        else { throw DocumentError(description: "docs/security.md has no SQL block under 'A least-privilege database role'") }
        let sql = document[start.upperBound..<end.lowerBound]
            .split(separator: "\n").filter { !$0.hasPrefix("--") }.joined(separator: "\n")
            .replacingOccurrences(of: "SCHEMA app", with: "SCHEMA \(schema)")
            .replacingOccurrences(of: "proactivity_engine", with: role)
            .replacingOccurrences(of: "'…'", with: "'\(password)'")
        return sql.components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    struct DocumentError: Error, CustomStringConvertible {
        let description: String
    }

    /// `url` with another user and password.
    static func url(_ url: String, user: String, password: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw DocumentError(description: "unreadable POSTGRES_URL") }
        components.user = user
        components.password = password
        return components.string ?? url
    }

    static func drop(_ role: String, _ harness: PipelineHarness) async throws {
        try await harness.execute(PostgresQuery(unsafeSQL: "DROP OWNED BY \(role)"))
        try await harness.execute(PostgresQuery(unsafeSQL: "DROP ROLE \(role)"))
    }
}
