import Logging
import PostgresNIO
import ProactivityStore
import Testing

@Suite(.timeLimit(.minutes(1)))
struct DatabaseTests {
    @Test func postgresAnswersThroughPostgresNIO() async throws {
        let settings = try DatabaseSettings(url: try TestEnvironment.variable("POSTGRES_URL"))
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: TestEnvironment.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let operand = 41
            let rows = try await client.query("SELECT \(operand) + 1, current_setting('server_version_num')::int")
            var answered = false
            for try await (sum, version) in rows.decode((Int, Int).self) {
                #expect(sum == 42)
                #expect(version >= 150000)
                answered = true
            }
            #expect(answered)
            group.cancelAll()
        }
    }
}
