import Foundation
import ProactivityCore
import Testing

@Suite struct JobCatalogTests {
    @Test func builtInsAreTheSeedJobs() {
        let catalog = JobCatalog()
        #expect(catalog.enabled.map(\.name) == ["event-reminder", "task-reminder"])
        #expect(catalog.job(named: "event-reminder")?.windowSeconds == 3600)
        #expect(catalog.job(named: "task-reminder")?.windowSeconds == 5400)
        #expect(catalog.job(named: "daily-brief")?.enabled == false)
    }

    @Test func aFileEnablesTheBriefAndAddsAJob() throws {
        let json = """
            {"jobs": [
              {"name": "daily-brief", "enabled": true, "cron": "30 7 * * *", "timezone": "Europe/Lisbon"},
              {"name": "invoice-due", "every": "15m", "window": "2h", "shards": 2, "severity": "warning",
               "sql": "SELECT id::text AS item_id, user_id, title, due_at FROM invoices WHERE due_at >= :window_start AND due_at < :window_end"}
            ]}
            """
        let catalog = try JobCatalog(overlay: Data(json.utf8))
        #expect(catalog.enabled.map(\.name) == ["daily-brief", "event-reminder", "invoice-due", "task-reminder"])
        let invoice = try #require(catalog.job(named: "invoice-due"))
        #expect(invoice.schedule == .interval(seconds: 900))
        #expect(invoice.shards == 2)
        #expect(invoice.severity == "warning")
        let brief = try #require(catalog.job(named: "daily-brief"))
        #expect(brief.schedule.description == "cron '30 7 * * *' (Europe/Lisbon)")
        #expect(brief.sql == BuiltInJobs.dailyBrief.sql)
    }

    @Test func everyProblemIsListed() {
        let json = """
            {"jobs": [
              {"name": "bad name!", "every": "5x", "window": "1h", "sql": "SELECT 1"},
              {"name": "no-schedule", "window": "1h", "sql": "x :window_start :window_end"},
              {"name": "zone", "cron": "0 7 * * *", "timezone": "Mars/Olympus", "window": "1h", "sql": "x :window_start :window_end"},
              {"name": "shards", "every": "5m", "window": "1h", "shards": 0, "sql": "x :window_start :window_end"}
            ]}
            """
        #expect {
            try JobCatalog(overlay: Data(json.utf8))
        } throws: { error in
            let problems = (error as! JobCatalog.InvalidCatalog).problems.joined(separator: "\n")
            return problems.contains("every '5x' is not a duration") && problems.contains("no-schedule': needs a schedule")
                && problems.contains("unknown time zone 'Mars/Olympus'") && problems.contains("shards must be 1…256")
        }
    }

    @Test func unknownFieldsAndNamesGivenTwiceAreRefusedAndTimeoutsRead() throws {
        let json = """
            {"jobs": [
              {"name": "event-reminder", "shard": 4},
              {"name": "event-reminder", "window": "2h"},
              {"name": "task-reminder", "statement_timeout": "forever"}
            ], "job": []}
            """
        #expect {
            _ = try JobCatalog(overlay: Data(json.utf8))
        } throws: { error in
            let text = "\(error)"
            return text.contains("job 'event-reminder': unknown field 'shard'") && text.contains("unknown field 'job' at the top")
                && text.contains("job 'event-reminder' appears more than once") && text.contains("statement_timeout 'forever'")
        }
        let catalog = try JobCatalog(overlay: Data(#"{"jobs": [{"name": "task-reminder", "statement_timeout": "30s"}]}"#.utf8))
        #expect(catalog.job(named: "task-reminder")?.statementTimeoutSeconds == 30)
        #expect(catalog.job(named: "event-reminder")?.statementTimeoutSeconds == 300)
    }

    @Test func sqlWithoutTheWindowIsRejected() {
        let json = #"{"jobs": [{"name": "x", "every": "5m", "window": "1h", "sql": "SELECT 1"}]}"#
        #expect(throws: JobCatalog.InvalidCatalog.self) { try JobCatalog(overlay: Data(json.utf8)) }
    }

    @Test func malformedJSONSaysWhere() {
        #expect {
            try JobCatalog(overlay: Data(#"{"jobs": [{"name": 5}]}"#.utf8))
        } throws: { error in
            "\(error)".contains("jobs[0].name")
        }
    }
}
