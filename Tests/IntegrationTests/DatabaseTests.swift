import Logging
import PostgresNIO
import ProactivityStore
import Testing

@Suite(.timeLimit(.minutes(1)))
struct DatabaseTests {
    /// A query answers, on a connection with the engine's startup settings.
    @Test func postgresAnswersThroughPostgresNIO() async throws {
        let settings = try DatabaseSettings(url: try TestEnvironment.variable("POSTGRES_URL"))
        try await withPostgresClient(settings, logger: TestEnvironment.logger) { client in
            let operand = 41
            let rows = try await client.query(
                "SELECT \(operand) + 1, current_setting('server_version_num')::int, current_setting('application_name'), current_setting('jit')")
            var answered = false
            for try await (sum, version, applicationName, jit) in rows.decode((Int, Int, String, String).self) {
                #expect(sum == 42)
                #expect(version >= 150000)
                #expect(applicationName == "proactivity", "operators find the engine's backends by name")
                #expect(jit == "off")
                answered = true
            }
            #expect(answered)
        }
    }
}
