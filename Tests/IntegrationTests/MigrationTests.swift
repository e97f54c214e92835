import Foundation
import PostgresNIO
import ProactivityLauncher
import ProactivityStore
import Testing

@Suite(.timeLimit(.minutes(4)))
struct MigrationTests {
    /// Runs `body` with a pool on a new, empty schema and a copy of the migrations folder.
    func withEmptySchema(_ body: (PostgresClient, URL) async throws -> Void) async throws {
        let schema = TestEnvironment.unique("migrate").replacingOccurrences(of: "-", with: "_")
        let baseURL = try TestEnvironment.variable("POSTGRES_URL")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(schema)
        try FileManager.default.copyItem(at: PipelineHarness.repositoryRoot.appendingPathComponent("Migrations"), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withPostgresClient(try DatabaseSettings(url: baseURL + "?schema=\(schema)"), logger: TestEnvironment.logger) { client in
            try await client.query("CREATE SCHEMA \(unescaped: schema)")
            try await body(client, folder)
            try await client.query("DROP SCHEMA \(unescaped: schema) CASCADE")
        }
    }

    @Test func migrateIsIdempotentAndSafeToRunTwiceAtOnce() async throws {
        try await withEmptySchema { client, folder in
            let migrator = try Migrator(directory: folder, client: client, logger: TestEnvironment.logger)
            #expect(try await migrator.status().allSatisfy { $0.appliedAt == nil })
            #expect(try await count(client, "SELECT count(*)::int FROM pg_tables WHERE schemaname = current_schema()") == 0,
                    "status reads only: it created nothing")
            // Both start on a schema without schema_migrations: the table itself is raced for.
            async let first = migrator.migrate()
            async let second = migrator.migrate()
            let applied = try await first + second
            #expect(applied.sorted() == migrator.migrations.map(\.version), "each migration applied exactly once")
            #expect(try await migrator.migrate().isEmpty)
            #expect(try await migrator.status().allSatisfy { $0.appliedAt != nil && !$0.changed })
            var tables = 0
            for try await count in try await client.query(
                "SELECT count(*)::int FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('worker_job_events', 'worker_dlq', 'events', 'tasks')"
            ).decode(Int.self) { tables = count }
            #expect(tables == 4)
        }
    }

    @Test func aChangedAppliedFileIsRefusedAndABrokenOneRolledBack() async throws {
        try await withEmptySchema { client, folder in
            try await Migrator(directory: folder, client: client, logger: TestEnvironment.logger).migrate()
            let first = folder.appendingPathComponent("0001_worker_tables.sql")
            try (try String(contentsOf: first, encoding: .utf8) + "\n-- edited\n").write(to: first, atomically: true, encoding: .utf8)
            let changed = try Migrator(directory: folder, client: client, logger: TestEnvironment.logger)
            await #expect {
                try await changed.migrate()
            } throws: { error in
                "\(error)".contains("0001_worker_tables was changed after it was applied")
            }
            #expect(try await changed.status().first?.changed == true)
            let cli = try await ProactivityProcess.run(
                ["migrate", "--status"],
                environment: [
                    "POSTGRES_URL": try TestEnvironment.variable("POSTGRES_URL") + "?schema=\(try schema(client))",
                    "PROACTIVITY_MIGRATIONS_DIR": folder.path,
                ])
            #expect(cli.status == 1 && cli.output.contains("FILE CHANGED"), "drift exits non-zero: \(cli.output)")

            try "CREATE TABLE half_done (id int);\nTHIS IS NOT SQL;".write(
                to: folder.appendingPathComponent("0999_broken.sql"), atomically: true, encoding: .utf8)
            try FileManager.default.removeItem(at: first)
            await #expect {
                try await Migrator(directory: folder, client: client, logger: TestEnvironment.logger).migrate()
            } throws: { error in
                "\(error)".contains("migration 0999_broken failed")
            }
            var leftovers = 0
            for try await count in try await client.query(
                "SELECT count(*)::int FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'half_done'"
            ).decode(Int.self) { leftovers = count }
            #expect(leftovers == 0, "a failed migration leaves nothing behind")
        }
    }

    /// A `schema=` that names no existing schema is said in those words, not as
    /// PostgreSQL's "no schema has been selected to create in", and nothing is created.
    @Test func aSchemaThatDoesNotExistIsNamed() async throws {
        let schema = TestEnvironment.unique("absent").replacingOccurrences(of: "-", with: "_")
        let baseURL = try TestEnvironment.variable("POSTGRES_URL")
        let url = baseURL + (baseURL.contains("?") ? "&" : "?") + "schema=\(schema)"
        let cli = try await ProactivityProcess.run(
            ["migrate"],
            environment: [
                "POSTGRES_URL": url,
                "PROACTIVITY_MIGRATIONS_DIR": PipelineHarness.repositoryRoot.appendingPathComponent("Migrations").path,
            ])
        #expect(cli.status == 1, "\(cli.output)")
        #expect(cli.output.contains("no schema of the search path (\(schema)) exists") && cli.output.contains("CREATE SCHEMA"), "\(cli.output)")
        try await withPostgresClient(try DatabaseSettings(url: baseURL), logger: TestEnvironment.logger) { client in
            for try await exists in try await client.query("SELECT to_regnamespace(\(schema)) IS NOT NULL").decode(Bool.self) {
                #expect(!exists)
            }
        }
    }

    /// The alert ledger's rows survive its partitioning (0007), its key in due order
    /// (0009) and its pages (0016): each migration is applied to a ledger that holds rows.
    @Test func theAlertLedgerKeepsItsRowsThroughItsPartitioningAndItsPages() async throws {
        try await withEmptySchema { client, folder in
            let later = folder.appendingPathComponent("later")
            try FileManager.default.createDirectory(at: later, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name >= "0007" && name.hasSuffix(".sql") {
                try FileManager.default.moveItem(at: folder.appendingPathComponent(name), to: later.appendingPathComponent(name))
            }
            func migrate(before limit: String) async throws {
                for name in try FileManager.default.contentsOfDirectory(atPath: later.path) where name < limit {
                    try FileManager.default.moveItem(at: later.appendingPathComponent(name), to: folder.appendingPathComponent(name))
                }
                try await Migrator(directory: folder, client: client, logger: TestEnvironment.logger).migrate()
            }
            try await migrate(before: "0007")
            // Rows of today, of ten days ago and of a year ago, before the partitioning.
            try await client.query(
                """
                INSERT INTO worker_alerts_sent (job_name, item_id, due_at, tick_id)
                SELECT 'job', 'item-' || n, now() - (n % 3) * interval '1 day' * CASE WHEN n % 3 = 2 THEN 180 ELSE 10 END, 't'
                FROM generate_series(1, 300) n
                """)
            try await migrate(before: "0016")
            #expect(try await count(client, "SELECT count(*)::int FROM worker_alerts_sent") == 300)
            #expect(try await count(client, "SELECT count(DISTINCT tableoid)::int FROM worker_alerts_sent WHERE due_at > now() - interval '30 days'") == 2,
                    "today's and ten days ago's rows are in their days' partitions")
            #expect(try await count(client, "SELECT count(*)::int FROM worker_alerts_sent_default") == 100, "the year-old rows wait in the default partition")
            await #expect(throws: (any Error).self, "the key still holds across the partitioned ledger") {
                try await client.query("INSERT INTO worker_alerts_sent (job_name, item_id, due_at, tick_id) SELECT job_name, item_id, due_at, 'again' FROM worker_alerts_sent LIMIT 1")
            }
            // The key in due order (0009) on the ledger and each partition, also one added afterwards.
            try await client.query("SELECT worker_alerts_sent_add_partition((now() AT TIME ZONE 'UTC')::date + 10)")
            let keys = """
                SELECT pg_get_indexdef(i.indexrelid) LIKE '%(job_name, due_at, item_id)' AS due_order FROM pg_index i
                WHERE i.indisprimary AND (i.indrelid = 'worker_alerts_sent'::regclass
                    OR i.indrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'worker_alerts_sent'::regclass))
                """
            var dueOrder: [Bool] = []
            for try await value in try await client.query(PostgresQuery(unsafeSQL: keys)).decode(Bool.self) { dueOrder.append(value) }
            #expect(dueOrder.count >= 6, "the ledger, its default partition and at least four days")
            #expect(dueOrder.allSatisfy { $0 }, "every primary key is (job_name, due_at, item_id)")

            // Pages (0016): one per job, tick and day here, in the days' partitions.
            try await migrate(before: "9999")
            #expect(try await count(client, "SELECT count(*)::int FROM worker_alerts_sent") == 300, "every alert, through the view")
            #expect(try await count(client, "SELECT count(*)::int FROM worker_alert_pages") == 3)
            #expect(try await count(client, "SELECT count(*)::int FROM worker_alert_pages WHERE items = 100 AND first_due = last_due") == 3)
            #expect(try await count(client, "SELECT count(DISTINCT tableoid)::int FROM worker_alert_pages WHERE first_due > now() - interval '30 days'") == 2)
            #expect(try await count(client, "SELECT sum(items)::int FROM worker_alert_pages_default") == 100)
            #expect(try await count(client, "SELECT count(*)::int FROM pg_class WHERE relname LIKE 'worker_alerts_sent_%' AND relnamespace = current_schema()::regnamespace") == 0,
                    "the row-per-alert ledger and its partitions are gone")
            #expect(try await count(client, "SELECT count(*)::int FROM pg_proc WHERE proname LIKE 'worker_alerts_sent_%' AND pronamespace = current_schema()::regnamespace") == 0)
            // The lookup finds the migrated alerts, and a partition added later has the
            // pages' key and shape.
            #expect(try await count(
                client,
                """
                SELECT count(*)::int FROM worker_alert_pages_lookup('job', ARRAY['item-3', 'item-4', 'item-5', 'missing'],
                    ARRAY(SELECT due_at FROM worker_alerts_sent WHERE item_id = 'item-3') || ARRAY(SELECT due_at FROM worker_alerts_sent WHERE item_id = 'item-4')
                    || ARRAY(SELECT due_at FROM worker_alerts_sent WHERE item_id = 'item-5') || now(), now(), now() + interval '1 hour')
                """) == 3)
            try await client.query("SELECT worker_alert_pages_add_partition((now() AT TIME ZONE 'UTC')::date + 10)")
            #expect(try await count(
                client,
                """
                SELECT count(*)::int FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                WHERE c.relname = 'worker_alert_pages_' || to_char((now() AT TIME ZONE 'UTC')::date + 10, 'YYYYMMDD')
                  AND c.relnamespace = current_schema()::regnamespace AND pg_get_indexdef(i.indexrelid) LIKE '%(job_name, last_due, first_due) INCLUDE (items)'
                """) == 1)
            await #expect(throws: (any Error).self, "a page never spans two UTC days") {
                try await client.query(
                    """
                    INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats)
                    SELECT 'job', 't', d, d + interval '1 day', 2, ARRAY['a', 'b'], ARRAY[d, d + interval '1 day']
                    FROM (SELECT ((now() AT TIME ZONE 'UTC')::date + 10)::timestamp AT TIME ZONE 'UTC' AS d) AS day
                    """)
            }
            await #expect(throws: (any Error).self, "the arrays hold as many items as the page says") {
                try await client.query(
                    "INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats) VALUES ('job', 't', now(), now(), 2, ARRAY['a'], ARRAY[now()])")
            }
        }
    }

    private func count(_ client: PostgresClient, _ query: PostgresQuery) async throws -> Int {
        for try await value in try await client.query(query).decode(Int.self) { return value }
        return 0
    }

    private func schema(_ client: PostgresClient) async throws -> String {
        for try await name in try await client.query("SELECT current_schema()").decode(String.self) { return name }
        return "public"
    }
}
