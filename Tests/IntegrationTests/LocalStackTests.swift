import Foundation
import PostgresNIO
import ProactivityStore
import Testing

/// `scripts/stack` as a new user meets it: a PostgreSQL port held by another program,
/// then freed; a data folder left half-made; `status` telling what is wrong.
@Suite(.timeLimit(.minutes(4)))
struct LocalStackTests {
    @Test func aTakenPortIsNamedBeforeAnythingIsCreatedAndTheStackWorksOnceItIsFree() async throws {
        let stack = StackScript(prefix: "stack")
        defer { stack.remove() }
        var holder: PortHolder? = try PortHolder(port: stack.port)

        let refused = try stack.run("up")
        #expect(refused.status != 0)
        #expect(refused.output.contains("port \(stack.port) is taken by another program; set PROACTIVITY_PG_PORT"), "\(refused.output)")
        #expect(!FileManager.default.fileExists(atPath: stack.dataFolder.path), "nothing created while the port is taken")
        let status = try stack.run("status")
        #expect(status.output.contains("port \(stack.port) is taken by another program"), "\(status.output)")

        holder = nil
        _ = holder
        try stack.expectSuccess("up")
        #expect(try await answers(stack.url))
    }

    @Test func aDataFolderWithoutRoleOrDatabaseIsReportedAndCompleted() async throws {
        let stack = StackScript(prefix: "stack")
        defer { stack.remove() }
        try stack.expectSuccess("pg-start")
        try superuser(stack, "DROP DATABASE proactivity")
        try superuser(stack, "DROP ROLE proactivity")

        let broken = try stack.run("status")
        #expect(broken.status != 0)
        #expect(broken.output.contains("is broken: no role and database 'proactivity'"), "\(broken.output)")

        let repaired = try stack.run("up")
        #expect(repaired.status == 0, "\(repaired.output)")
        #expect(repaired.output.contains("creating the missing role and database"), "\(repaired.output)")
        #expect(try stack.run("status").status == 0)
        #expect(try await answers(stack.url))
    }

    @Test func aDataFolderWhoseInitdbDidNotFinishIsReportedAndMadeAgain() async throws {
        let stack = StackScript(prefix: "stack")
        defer { stack.remove() }
        try stack.expectSuccess("pg-start")
        try stack.expectSuccess("pg-stop")
        try FileManager.default.removeItem(at: stack.dataFolder.appendingPathComponent("global/pg_control"))

        let broken = try stack.run("status")
        #expect(broken.status != 0)
        #expect(broken.output.contains("is incomplete (initdb did not finish"), "\(broken.output)")

        let repaired = try stack.run("up")
        #expect(repaired.status == 0, "\(repaired.output)")
        #expect(try await answers(stack.url))
    }

    /// Whether the stack's role can log in and query its database.
    private func answers(_ url: String) async throws -> Bool {
        try await withPostgresClient(try DatabaseSettings(url: url), logger: TestEnvironment.logger) { client in
            var one = 0
            for try await value in try await client.query("SELECT 1").decode(Int.self) { one = value }
            return one == 1
        }
    }

    /// Runs SQL as the instance's superuser over its own socket.
    private func superuser(_ stack: StackScript, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = [
            "-u", "postgres", "--", "psql", "-h", stack.socketFolder.path, "-p", String(stack.port), "-U", "postgres", "-d", "postgres",
            "-v", "ON_ERROR_STOP=1", "-qc", sql,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql: \(sql)")
    }
}

/// A listening socket on a loopback port, as another program holding it would be.
final class PortHolder {
    private let descriptor: Int32

    init(port: Int) throws {
        struct CannotListen: Error {}
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else {
            close(descriptor)
            throw CannotListen()
        }
    }

    deinit { close(descriptor) }
}
