import ArgumentParser
import Kafka

/// Prints our version and the librdkafka version loaded at run time.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of proactivity and of the librdkafka it loaded."
    )

    func run() {
        print("proactivity \(Proactivity.configuration.version)")
        print("librdkafka \(KafkaLibrary.version)")
    }
}
