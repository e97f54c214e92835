import Logging
import Observability
@testable import ProactivityStages
import ProactivityStore
import Synchronization
import Testing

/// A stage waits while its database lacks this build's migrations, saying why in its
/// readiness condition, and goes on by itself once they are applied.
@Suite struct MigrationWaitTests {
    @Test func aStageWaitsForTheMigrationsAndGoesOnOnceTheyAreApplied() async {
        let health = HealthState(stage: "worker")
        let answers = Mutex<[MigrationState]>([.behind(latest: nil), .behind(latest: "0009_x"), .current])
        let seen = Mutex<[String?]>([])
        let wait = MigrationWait(condition: .workerMigrations, health: health, interval: .milliseconds(10), logger: Logger(label: "test")) {
            // Readiness as it stood before each check.
            seen.withLock { $0.append(health.readiness.checks["worker.migrations"]) }
            return answers.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
        }
        #expect(await wait.run())
        let reasons = seen.withLock { $0 }
        #expect(reasons.count == 3)
        #expect(reasons[1]?.contains("no migrations applied") == true && reasons[1]?.contains("proactivity migrate") == true)
        #expect(reasons[2]?.contains("last migration is 0009_x") == true)
        #expect(health.readiness.checks["worker.migrations"] == "ok")
    }

    @Test func aDatabaseAheadOfTheBuildIsLetThrough() async {
        let health = HealthState(stage: "dlq-mirror")
        let wait = MigrationWait(condition: .mirrorMigrations, health: health, interval: .milliseconds(10), logger: Logger(label: "test")) {
            .ahead(latest: "9999_future")
        }
        #expect(await wait.run())
        #expect(health.readiness.checks["dlq-mirror.migrations"] == "ok")
    }

    @Test func aDatabaseThatDoesNotAnswerIsAskedAgain() async {
        struct Unreachable: Error {}
        let health = HealthState(stage: "worker")
        let calls = Mutex(0)
        let wait = MigrationWait(condition: .workerMigrations, health: health, interval: .milliseconds(10), logger: Logger(label: "test")) {
            let call = calls.withLock { count in
                count += 1
                return count
            }
            if call == 1 { throw Unreachable() }
            #expect(health.readiness.checks["worker.migrations"]?.contains("cannot read the database's migrations") == true)
            return .current
        }
        #expect(await wait.run())
        #expect(calls.withLock { $0 } == 2)
    }
}
