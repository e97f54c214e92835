import Foundation
import Logging
import PostgresNIO

/// Applies the SQL files of a migrations folder in name order, each once, each in its
/// own transaction, recording a checksum. A file changed after it was applied is
/// refused; concurrent runs wait for each other (a PostgreSQL advisory lock).
///
/// Files are named `NNNN_description.sql`. Each runs as one PL/pgSQL block (so a file
/// may hold many statements, but no top-level `SELECT` without `INTO`: use `PERFORM`),
/// which keeps every file atomic.
public struct Migrator: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Hashable {
        /// The file name without `.sql`, e.g. `0001_worker_tables`.
        public let version: String
        public let sql: String
    }

    /// One line of `migrate --status`.
    public struct Status: Sendable, Hashable {
        public let version: String
        public let appliedAt: Date?
        /// The applied file differs from the file on disk.
        public let changed: Bool
        /// Applied in the database, but no longer on disk.
        public let missingFile: Bool
    }

    /// Something that stops migrating.
    public struct MigrationError: Error, CustomStringConvertible {
        public let description: String
    }

    /// This build's last migration, the newest file of its `Migrations` folder. The
    /// stages hold off on a database that lacks it (``MigrationState``) rather than fail
    /// its ticks one by one against tables and functions of an older schema.
    /// `MigrationStateTests` keeps it equal to the folder's last file.
    public static let latestVersion = "0017_alert_ledger_lookup_outside_window"

    public let migrations: [Migration]
    private let client: PostgresClient
    private let logger: Logger
    /// Serialises `migrate` runs on the same database (any fixed 64-bit number).
    private static let lockKey: Int64 = 0x5052_4F41_4354_0001

    /// Reads the migrations folder.
    /// - Throws: ``MigrationError`` for a missing folder or a badly named file.
    public init(directory: URL, client: PostgresClient, logger: Logger) throws(MigrationError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(description: "cannot read the migrations folder \(directory.path)")
        }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            let version = String(name.dropLast(4))
            guard version.range(of: #"^[0-9]{4}_[a-z0-9_]+$"#, options: .regularExpression) != nil else {
                throw MigrationError(description: "migration file \(name) must be named NNNN_description.sql")
            }
            guard let sql = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
                throw MigrationError(description: "cannot read migration \(name)")
            }
            migrations.append(Migration(version: version, sql: sql))
        }
        self.migrations = migrations
        self.client = client
        self.logger = logger
    }

    /// Applied and pending migrations.
    /// Reads only: a database never migrated has every migration pending.
    public func status() async throws -> [Status] {
        let applied = try await tableExists() ? try await appliedChecksums() : [:]
        var lines: [Status] = []
        for migration in migrations {
            let record = applied[migration.version]
            lines.append(
                Status(
                    version: migration.version, appliedAt: record?.appliedAt,
                    changed: record.map { $0.checksum != Self.checksum(migration.sql) } ?? false, missingFile: false))
        }
        for (version, record) in applied where !migrations.contains(where: { $0.version == version }) {
            lines.append(Status(version: version, appliedAt: record.appliedAt, changed: false, missingFile: true))
        }
        return lines.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration.
    /// - Returns: the versions applied now (empty when up to date).
    /// - Throws: ``MigrationError`` when an applied file changed, or a file's SQL fails
    ///   (that file is rolled back; earlier ones stay applied).
    @discardableResult
    public func migrate() async throws -> [String] {
        try await client.withConnection { connection in
            // The lock comes first: two runs creating the table at once collide.
            try await Self.requireSchema(on: connection, logger: logger)
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                try await connection.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: logger)
                let applied = try await apply(on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func apply(on connection: PostgresConnection) async throws -> [String] {
        var appliedNow: [String] = []
        let applied = try await appliedChecksums(on: connection)
        for migration in migrations {
            let checksum = Self.checksum(migration.sql)
            if let record = applied[migration.version] {
                guard record.checksum == checksum else {
                    throw MigrationError(
                        description: "migration \(migration.version) was changed after it was applied; add a new migration instead")
                }
                continue
            }
            let block = "DO $proactivity_migration$ BEGIN\n\(migration.sql)\nEND $proactivity_migration$"
            do {
                try await connection.query("BEGIN", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: block), logger: logger)
                try await connection.query(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (\(migration.version), \(checksum))", logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw MigrationError(description: "migration \(migration.version) failed: \(DatabaseError.describe(error))")
            }
            logger.info("migration_applied", metadata: ["version": .string(migration.version)])
            appliedNow.append(migration.version)
        }
        return appliedNow
    }

    /// Refuses a search path that names no existing schema (a `schema=` in `POSTGRES_URL`
    /// that was never created), which PostgreSQL would report as "no schema has been
    /// selected to create in".
    private static func requireSchema(on connection: PostgresConnection, logger: Logger) async throws {
        for try await (schema, searchPath) in try await connection.query(
            "SELECT current_schema(), current_setting('search_path')", logger: logger
        ).decode((String?, String).self) where schema == nil {
            throw MigrationError(
                description:
                    "no schema of the search path (\(searchPath)) exists: create it first (CREATE SCHEMA … AUTHORIZATION the migrating role), or correct schema= in POSTGRES_URL")
        }
    }

    /// Whether `schema_migrations` exists in the connection's schema (search path).
    private func tableExists() async throws -> Bool {
        for try await exists in try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL").decode(Bool.self) {
            return exists
        }
        return false
    }

    private func appliedChecksums(on connection: PostgresConnection? = nil) async throws -> [String: (checksum: String, appliedAt: Date)] {
        let query: PostgresQuery = "SELECT version, checksum, applied_at FROM schema_migrations"
        let rows: PostgresRowSequence
        if let connection {
            rows = try await connection.query(query, logger: logger)
        } else {
            rows = try await client.query(query)
        }
        var result: [String: (checksum: String, appliedAt: Date)] = [:]
        for try await (version, checksum, appliedAt) in rows.decode((String, String, Date).self) {
            result[version] = (checksum, appliedAt)
        }
        return result
    }

    /// A stable checksum of a file's text (FNV-1a, 64 bit, hex).
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
