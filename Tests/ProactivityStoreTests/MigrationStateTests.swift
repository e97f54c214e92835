import Foundation
import ProactivityStore
import Testing

/// What the stages make of a database's last migration, against this build's.
struct MigrationStateTests {
    /// The `Migrations` folder of this repository.
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Migrations")

    @Test func theBuildsLatestVersionIsTheFoldersLastFile() throws {
        let last = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted().last)
        #expect(
            Migrator.latestVersion == String(last.dropLast(4)),
            "Migrator.latestVersion must name the newest migration, or stages would run on a database without it")
    }

    @Test func aDatabaseIsCurrentOnlyWithThisBuildsLastMigration() {
        let required = "0017_alert_ledger_lookup_outside_window"
        #expect(MigrationState(latest: required, required: required) == .current)
        #expect(MigrationState(latest: nil, required: required) == .behind(latest: nil))
        #expect(MigrationState(latest: "0016_alert_ledger_pages", required: required) == .behind(latest: "0016_alert_ledger_pages"))
        #expect(MigrationState(latest: "0018_later", required: required) == .ahead(latest: "0018_later"))
        // The same number under another name is another line of migrations, not this build's.
        #expect(MigrationState(latest: "0017_something_else", required: required) == .behind(latest: "0017_something_else"))
        #expect(MigrationState(latest: "garbage", required: required) == .behind(latest: "garbage"))
    }

    @Test func aDatabaseBehindIsToldWhatToRun() {
        for state in [MigrationState.behind(latest: nil), .behind(latest: "0003_x")] {
            #expect(state.description.contains("run `proactivity migrate`"))
            #expect(state.description.contains(Migrator.latestVersion))
        }
        #expect(MigrationState.behind(latest: "0003_x").description.contains("0003_x"))
    }
}
