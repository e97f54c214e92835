import ArgumentParser
import CommandLineSupport

/// The `proactivity` command: every stage and tool of the engine is a subcommand.
@main
struct Proactivity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proactivity",
        abstract: "A Kafka-native proactivity engine: reminder jobs that publish alerts to Kafka.",
        discussion: """
            Settings come from flags or environment variables (KAFKA_BOOTSTRAP_SERVERS, \
            POSTGRES_URL, LOG_LEVEL). `scripts/stack env` prints the ones of the local stack.
            """,
        version: "0.1.0",
        subcommands: [
            AllCommand.self, TickCommand.self, WorkerCommand.self, MirrorCommand.self, DLQCommand.self, MigrateCommand.self,
            TopicsCommand.self, JobsCommand.self, ExplainCommand.self,
            AlertsCommand.self, StatusCommand.self, ConfigCommand.self, DemoCommand.self, VersionCommand.self,
        ]
    )

    /// Standard output line-buffered (progress and piped output arrive as printed).
    static func main() async { await mainLineBuffered() }
}
