import CRdKafka

/// The loaded librdkafka's version (`rd_kafka_version_str`, `rd_kafka_version`).
enum RDKafkaLibrary {
    static var versionString: String { String(cString: rd_kafka_version_str()) }
    static var versionNumber: Int32 { rd_kafka_version() }
}
