/// Facts about the librdkafka library loaded at run time.
public enum KafkaLibrary {
    /// The version string of the librdkafka actually loaded, which may differ from the
    /// headers we were built against.
    public static var version: String { RDKafkaLibrary.versionString }

    /// The loaded version as a number, e.g. `0x020a01ff` for 2.10.1.
    public static var versionNumber: Int32 { RDKafkaLibrary.versionNumber }

    /// librdkafka before 2.1 cannot parse some brokers' ApiVersions v3 answer
    /// (Tansu among them); callers warn when this is true.
    public static var isOlderThan2_1: Bool { versionNumber < 0x0201_0000 }

    /// Waits until librdkafka has stopped every client ended so far in this process:
    /// released it, or had it in its destroy for 5 s.
    ///
    /// A consumer's end leaves its group and returns; librdkafka destroys the client
    /// afterwards on a thread of its own (that destroy can wait for good on a broker that
    /// never answers, and a shutdown must not). Until its destroy begins the client still
    /// fetches and handles metadata, and librdkafka 2.16 crashed the process when a topic
    /// such a client had read was deleted: wait for this before deleting topics this
    /// process used (the benchmarks do). A client in librdkafka's destroy for 5 s counts
    /// as stopped even where the destroy has not returned: by then librdkafka has removed
    /// its topics and disconnected it (librdkafka 2.16 sometimes never finishes destroying
    /// a closed consumer, waiting on references to its partitions that it keeps).
    /// - Returns: whether every client was stopped within `limit`.
    public static func waitUntilClientsStopped(within limit: Duration) async -> Bool {
        await Teardowns.shared.waitUntilDone(within: limit, orDestroyingFor: .seconds(5))
    }

    /// The clients (librdkafka's names, `client.id#role-N`) ended but not yet released,
    /// stopped or not (see ``waitUntilClientsStopped(within:)``).
    public static var clientsBeingReleased: [String] { Teardowns.shared.names }
}
