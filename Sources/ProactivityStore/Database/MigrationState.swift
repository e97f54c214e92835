import Logging
import PostgresNIO

/// Where a database stands against this build's migrations (``Migrator/latestVersion``),
/// read from `schema_migrations` in the connection's schema.
public enum MigrationState: Sendable, Equatable, CustomStringConvertible {
    /// It holds this build's last migration.
    case current
    /// Its last migration is newer than this build's: a build older than the last
    /// `migrate` (a rollback). Migrations add to the schema, so the stages run.
    case ahead(latest: String)
    /// It lacks this build's last migration: never migrated (`latest` nil), or migrated
    /// by an older build.
    case behind(latest: String?)

    /// The state of a database whose last applied migration is `latest`. Versions are
    /// compared by their four-digit number; the same number under another name (another
    /// line of migrations) is not this build's, so it counts as behind.
    public init(latest: String?, required: String = Migrator.latestVersion) {
        guard let latest else {
            self = .behind(latest: nil)
            return
        }
        if latest == required {
            self = .current
        } else if let number = Int(latest.prefix(4)), let needed = Int(required.prefix(4)), number > needed {
            self = .ahead(latest: latest)
        } else {
            self = .behind(latest: latest)
        }
    }

    /// Reads the last migration applied to the database of `client`.
    /// - Throws: database errors: an unreachable database, or a role that may not read
    ///   `schema_migrations` (SQLSTATE 42501; the least-privilege role of
    ///   `docs/security.md` is granted SELECT on it).
    public static func of(_ client: PostgresClient, logger: Logger) async throws -> MigrationState {
        var migrated = false
        for try await exists in try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger).decode(Bool.self) {
            migrated = exists
        }
        guard migrated else { return MigrationState(latest: nil) }
        var latest: String?
        for try await version in try await client.query("SELECT max(version) FROM schema_migrations", logger: logger).decode(String?.self) {
            latest = version
        }
        return MigrationState(latest: latest)
    }

    /// What an operator reads in `/readyz` and the log.
    public var description: String {
        switch self {
        case .current:
            "the database holds this build's migrations (last \(Migrator.latestVersion))"
        case .ahead(let latest):
            "the database's last migration, \(latest), is newer than this build's last, \(Migrator.latestVersion)"
        case .behind(nil):
            "the database has no migrations applied (no schema_migrations table in its schema); this build needs them up to \(Migrator.latestVersion): run `proactivity migrate`"
        case .behind(let latest?):
            "the database's last migration is \(latest); this build needs \(Migrator.latestVersion): run `proactivity migrate`"
        }
    }
}
