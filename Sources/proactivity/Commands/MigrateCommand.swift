import ArgumentParser
import CommandLineSupport
import Foundation
import Logging
import PostgresNIO
import ProactivityStages
import ProactivityStore

/// `proactivity migrate`: applies `Migrations/*.sql`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations (Migrations/*.sql), each once, in order.",
        discussion: """
            The folder is found next to the binary or in the current directory; PROACTIVITY_MIGRATIONS_DIR overrides. \
            Then fills in the error fingerprint of worker_dlq rows written without one.
            """)

    @OptionGroup var engine: EngineOptions

    @Flag(help: "List applied and pending migrations instead of applying them (changes nothing; exits 1 when an applied file changed or is missing).")
    var status = false

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.migrate")
        let directory = try ResourceLocator.directory("Migrations", configured: settings.migrationsDirectory, environmentVariable: "PROACTIVITY_MIGRATIONS_DIR")
        try await withDatabase(settings, logger: logger) { client in
            let migrator = try Migrator(directory: directory, client: client, logger: logger)
            if status {
                let lines = try await migrator.status()
                for line in lines {
                    let state =
                        line.missingFile ? "applied, file missing" : line.changed ? "applied, FILE CHANGED" : line.appliedAt == nil ? "pending" : "applied"
                    print("\(line.version.padding(toLength: 32, withPad: " ", startingAt: 0)) \(state)")
                }
                if lines.contains(where: { $0.changed || $0.missingFile }) {
                    FileHandle.standardError.write(Data("error: applied migrations differ from the files (see above)\n".utf8))
                    throw ExitCode(1)
                }
                return
            }
            let applied = try await migrator.migrate()
            print(applied.isEmpty ? "database is up to date (\(migrator.migrations.count) migrations)" : "applied: \(applied.joined(separator: ", "))")
            // Rows an older mirror wrote get the fingerprint the mirror now stores (0013).
            let filled = try await DeadLetterStore(client: client, logger: logger).backfillFingerprints()
            if filled > 0 { print("error fingerprints filled in for \(filled) worker_dlq row(s)") }
        }
    }
}

/// Runs `body` with a running PostgreSQL pool; database failures exit non-zero with
/// PostgreSQL's own message (never the password).
/// - Returns: what `body` returns.
@discardableResult
func withDatabase<Result>(
    _ settings: EngineSettings, logger: Logger, _ body: (PostgresClient) async throws -> Result
) async throws -> Result {
    do {
        return try await withPostgresClient(settings.database, logger: logger) { client in
            do {
                try await client.ping(within: .seconds(10))
            } catch {
                // The pool retries a refused login or TLS handshake silently: one direct
                // connection says what the server answers.
                let reason = await settings.database.connectionFailure(logger: logger) ?? DatabaseError.describe(error)
                FileHandle.standardError.write(Data("error: database \(settings.database) cannot be used: \(reason)\n".utf8))
                throw ExitCode(1)
            }
            return try await body(client)
        }
    } catch let error as Migrator.MigrationError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    } catch let error as PSQLError {
        FileHandle.standardError.write(Data("error: database \(settings.database.description): \(DatabaseError.describe(error))\n".utf8))
        throw ExitCode(1)
    }
}
