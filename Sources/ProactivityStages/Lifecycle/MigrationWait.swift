import Logging
import Observability
import PostgresNIO
import ProactivityStore

/// Holds a stage off its topic until the database carries this build's migrations
/// (``MigrationState``): a worker upgraded before `proactivity migrate` ran would
/// otherwise fail every tick against the older schema and fill the DLQ. Meanwhile its
/// readiness condition names the last migration applied and the one needed, and one
/// error line says so; the stage goes on by itself once `migrate` has run.
///
/// A database ahead of the build (a rollback) is let through with a warning. A role
/// that may not read `schema_migrations` is let through with a warning too: the check
/// is a safeguard, and an older deployment's least-privilege role lacks that grant.
///
/// A wait without a condition only waits, silently: for a companion service (the ledger
/// pruner) of a stage whose own wait reports and logs.
public struct MigrationWait: Sendable {
    let condition: ReadinessCondition?
    let health: HealthState
    let logger: Logger
    let read: @Sendable () async throws -> MigrationState
    /// How often a database found behind, or not answering, is asked again.
    let interval: Duration

    /// - Parameter condition: the stage's own readiness condition, owned by this wait;
    ///   `nil` to wait without reporting or logging.
    public init(
        database: PostgresClient, condition: ReadinessCondition?, health: HealthState, interval: Duration = .seconds(2), logger: Logger
    ) {
        self.init(condition: condition, health: health, interval: interval, logger: logger) {
            try await MigrationState.of(database, logger: logger)
        }
    }

    init(
        condition: ReadinessCondition?, health: HealthState, interval: Duration, logger: Logger,
        read: @escaping @Sendable () async throws -> MigrationState
    ) {
        self.condition = condition
        self.health = health
        self.interval = interval
        self.logger = logger
        self.read = read
    }

    /// Returns once the stage may start.
    /// - Returns: `false` when a graceful shutdown (or cancellation) came first.
    public func run() async -> Bool {
        let logger = condition == nil ? Logger(label: logger.label, factory: { _ in SwiftLogNoOpLogHandler() }) : logger
        func report(_ failure: String?) {
            if let condition { health.report(condition, failing: failure) }
        }
        if let condition { health.require(condition, initially: "checking the database's migrations") }
        var proceed = false
        var lastFailure: String?
        await repeatingUntilShutdown(every: .milliseconds(500), wait: { interval }) {
            let state: MigrationState
            do {
                state = try await read()
            } catch where DatabaseError.sqlState(of: error) == "42501" {
                logger.warning(
                    "database_migrations_unchecked",
                    metadata: [
                        "error": "\(DatabaseError.describe(error))",
                        "hint": "grant the engine's role SELECT on schema_migrations (docs/security.md) to have stages wait for `proactivity migrate`",
                    ])
                proceed = true
                return false
            } catch {
                let failure = "cannot read the database's migrations: \(DatabaseError.describe(error))"
                report(failure)
                if failure != lastFailure { logger.warning("database_migrations_check_retrying", metadata: ["error": "\(DatabaseError.describe(error))"]) }
                lastFailure = failure
                return true
            }
            switch state {
            case .current:
                proceed = true
            case .ahead(let latest):
                logger.warning(
                    "database_migrations_ahead", metadata: ["latest_applied": "\(latest)", "build_latest": "\(Migrator.latestVersion)"])
                proceed = true
            case .behind(let latest):
                let failure = state.description
                report(failure)
                if failure != lastFailure {
                    logger.error(
                        "database_not_migrated",
                        metadata: [
                            "latest_applied": latest.map { .string($0) } ?? "none", "build_latest": "\(Migrator.latestVersion)",
                            "hint": "run `proactivity migrate` with this build; the stage starts by itself once it has run",
                        ])
                }
                lastFailure = failure
                return true
            }
            return false
        }
        if proceed { report(nil) }
        return proceed
    }
}
