import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#else
@preconcurrency import Darwin
#endif

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

    /// Runs the command with standard output line-buffered: each line reaches a pipe or
    /// a file as it is printed (`scripts/demo | tee demo.log`, benchmark progress), not
    /// when a block fills or the process ends.
    static func main() async {
        setvbuf(stdout, nil, _IOLBF, 0)
        await main(nil)
    }
}
