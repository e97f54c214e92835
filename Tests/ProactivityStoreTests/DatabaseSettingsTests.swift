import ProactivityStore
import TestSupport
import Testing

@Suite struct DatabaseSettingsTests {
    @Test func parsesAFullURL() throws {
        let settings = try DatabaseSettings(url: "postgres://app:s3cr%40t@db.example:6543/engine?sslmode=require")
        #expect(settings.host == "db.example")
        #expect(settings.port == 6543)
        #expect(settings.username == "app")
        #expect(settings.password == "s3cr@t")
        #expect(settings.database == "engine")
        #expect(settings.tlsMode == .require)
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let settings = try DatabaseSettings(url: "postgresql://app:hunter2@localhost/engine")
        #expect(!settings.description.contains("hunter2"))
        #expect(settings.description == "postgres://app:***@localhost:5432/engine?sslmode=disable")
    }

    @Test(arguments: [
        "mysql://a@b/c", "postgres://:pw@host/db", "postgres://user@/db", "postgres://u:pw@h/db?sslmode=sometimes", "",
    ])
    func rejectsBadURLsWithoutLeakingPasswords(url: String) {
        do {
            _ = try DatabaseSettings(url: url)
            Issue.record("accepted \(url)")
        } catch {
            #expect(!error.description.contains("pw"))
        }
    }
}

extension DatabaseSettingsTests {
    @Test func itsURLReadsBackAsTheSameSettingsWithAnotherSchema() throws {
        var settings = try DatabaseSettings(url: "postgres://app:p%40ss%2Fw%3Ard%25@db.example:6543/engine?sslmode=verify-full")
        settings.schema = "bench_1"
        let again = try DatabaseSettings(url: settings.url)
        #expect(again.password == "p@ss/w:rd%" && again.username == "app" && again.host == "db.example" && again.port == 6543)
        #expect(again.database == "engine" && again.tlsMode == .verifyFull && again.schema == "bench_1")
    }
}

@Suite struct HostileDatabaseURLTests {
    @Test func randomURLsAnswerWithAnErrorOrSettingsNeverATrap() throws {
        var random = try SeededRandom()
        let alphabet = Array("postgres:/@?&=%.:abc123_-[]#\u{0} 99999") + ["٣", "🎉"].flatMap { Array($0) }
        for _ in 0..<5_000 {
            let text = "postgres://" + String((0..<Int.random(in: 0...60, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            if let settings = try? DatabaseSettings(url: text) {
                #expect((1...65535).contains(settings.port))
            }
        }
    }
}
