import ArgumentParser
import CommandLineSupport
import ProactivityStages

/// `proactivity config check`.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Inspect the engine's configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate the configuration and print the effective settings (secrets redacted); exit 2 listing every problem.")

        @OptionGroup var engine: EngineOptions

        func run() async throws {
            let (settings, _) = try await engine.load(label: "proactivity.config")
            let lines = settings.redactedLines
            let width = lines.map(\.0.count).max() ?? 0
            for (name, value) in lines {
                print("\(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(value)")
            }
            print("configuration is valid")
        }
    }
}
