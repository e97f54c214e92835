import ArgumentParser
import CommandLineSupport

/// `proactivity-bench`: benchmarks that print numbers, built as a binary of their own so
/// the benchmark code and the C baseline do not ship in `proactivity`.
@main
struct ProactivityBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proactivity-bench",
        abstract: "Benchmarks against a running broker (numbers, never pass/fail).",
        discussion: """
            Settings come from flags or environment variables (KAFKA_BOOTSTRAP_SERVERS, \
            POSTGRES_URL); `scripts/stack env` prints the ones of the local stack. `pipeline` and `soak` \
            starts `proactivity worker` processes from the `proactivity` binary next to this one \
            (or PROACTIVITY_BIN).
            """,
        subcommands: [KafkaBenchCommand.self, PipelineBenchCommand.self, SoakBenchCommand.self]
    )

    /// Standard output line-buffered (progress and piped output arrive as printed).
    static func main() async { await mainLineBuffered() }
}
