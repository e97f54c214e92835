import ArgumentParser
import CommandLineSupport
import Foundation
import PostgresNIO
import ProactivityStages

/// `proactivity demo seed`: demo events and tasks due soon.
struct DemoSeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Insert demo calendar events and open tasks due within the next hour, for a few users.")

    @OptionGroup var engine: EngineOptions

    @Option(help: "How many users get events and tasks.")
    var users = 3

    func validate() throws {
        guard (1...10_000).contains(users) else { throw ValidationError("--users must be 1…10000") }
    }

    func run() async throws {
        let (settings, logger) = try await engine.load(label: "proactivity.demo")
        let users = self.users
        try await withDatabase(settings, logger: logger) { client in
            let now = Date()
            for user in 1...users {
                let userID = "demo-user-\(user)"
                let eventAt = now.addingTimeInterval(Double(10 + user * 7) * 60)
                let taskAt = now.addingTimeInterval(Double(20 + user * 5) * 60)
                try await client.query(
                    "INSERT INTO events (user_id, title, starts_at) VALUES (\(userID), \("Meeting #\(user)"), \(eventAt))")
                try await client.query(
                    "INSERT INTO tasks (user_id, title, due_at) VALUES (\(userID), \("Submit report #\(user)"), \(taskAt))")
            }
            print("seeded \(users) events and \(users) open tasks due within the next \(20 + users * 7) minutes")
        }
    }
}
