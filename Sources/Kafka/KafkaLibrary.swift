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
}
