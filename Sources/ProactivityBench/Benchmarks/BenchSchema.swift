import Logging
import PostgresNIO
import ProactivityStages
import ProactivityStore

/// Creates the schema `name` and migrates it, runs `body` with a client on it and the
/// settings that name it (for the engine processes the benchmark starts), then drops
/// it, also when `body` throws or the run is stopped: the drop after a failure runs in a
/// task of its own with a client of its own, as a cancelled run's clients are closing.
func withBenchSchema<Result>(
    _ name: String, settings: EngineSettings, logger: Logger, _ body: (PostgresClient, DatabaseSettings) async throws -> Result
) async throws -> Result {
    var database = settings.database
    database.schema = name
    return try await withPostgresClient(settings.database, logger: logger) { setup in
        try await setup.query("CREATE SCHEMA \(unescaped: name)")
        do {
            let result = try await withPostgresClient(database, logger: logger) { client in
                // The migrations' info lines (one each) would bury the progress lines; warnings still show.
                var quiet = logger
                quiet.logLevel = max(logger.logLevel, .notice)
                try await Migrator(
                    directory: try ResourceLocator.directory(
                        "Migrations", configured: settings.migrationsDirectory, environmentVariable: "PROACTIVITY_MIGRATIONS_DIR"),
                    client: client, logger: quiet
                ).migrate()
                return try await body(client, database)
            }
            try await setup.query("DROP SCHEMA \(unescaped: name) CASCADE")
            return result
        } catch {
            await dropBenchSchema(name, database: settings.database, logger: logger)
            throw error
        }
    }
}

private func dropBenchSchema(_ name: String, database: DatabaseSettings, logger: Logger) async {
    await Task {
        do {
            try await withPostgresClient(database, logger: logger) { client in
                _ = try await client.query("DROP SCHEMA IF EXISTS \(unescaped: name) CASCADE")
            }
        } catch {
            logger.warning("bench_schema_not_dropped", metadata: ["schema": "\(name)", "error": "\(DatabaseError.describe(error))"])
        }
    }.value
}
