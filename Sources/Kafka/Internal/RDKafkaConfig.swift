import CRdKafka

/// Builds an `rd_kafka_conf_t` from a property map.
enum RDKafkaConfig {
    /// Creates a configuration object with every property set, and events enabled.
    ///
    /// - Parameters:
    ///   - properties: librdkafka property names and values.
    ///   - events: the `RD_KAFKA_EVENT_*` mask the client serves from its queues.
    /// - Returns: the configuration; `rd_kafka_new` takes ownership on success.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming the first bad
    ///   property (secret values never appear in the message).
    static func make(properties: [String: String], events: Int32) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .invalidConfiguration, message: "librdkafka could not allocate a configuration")
        }
        var all = properties
        // Log lines go to the main queue and from there to swift-log, not to stderr.
        all["log.queue"] = "true"
        for (name, value) in all.sorted(by: { $0.key < $1.key }) {
            var errorText = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, name, value, &errorText, errorText.count)
            guard result != RD_KAFKA_CONF_OK else { continue }
            rd_kafka_conf_destroy(conf)
            if result == RD_KAFKA_CONF_UNKNOWN {
                throw .invalidConfiguration(
                    name, "unknown Kafka property '\(name)' (librdkafka's CONFIGURATION.md lists the valid ones)")
            }
            let reason = redacted(
                String(errorBuffer: errorText), property: name, value: value)
            throw .invalidConfiguration(name, "invalid value for Kafka property '\(name)': \(reason)")
        }
        rd_kafka_conf_set_events(conf, events)
        return conf
    }

    /// Every property librdkafka refuses, each with the reason, checked on a scratch
    /// configuration.
    static func problems(properties: [String: String]) -> [String] {
        guard let conf = rd_kafka_conf_new() else { return ["librdkafka could not allocate a configuration"] }
        defer { rd_kafka_conf_destroy(conf) }
        var problems: [String] = []
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            var errorText = [CChar](repeating: 0, count: 512)
            switch rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) {
            case RD_KAFKA_CONF_OK: continue
            case RD_KAFKA_CONF_UNKNOWN: problems.append("unknown Kafka property '\(name)' (librdkafka's CONFIGURATION.md lists the valid ones)")
            default:
                problems.append("invalid value for Kafka property '\(name)': \(redacted(String(errorBuffer: errorText), property: name, value: value))")
            }
        }
        return problems
    }

    /// `text` with the value of a secret property replaced by `[redacted]`.
    static func redacted(_ text: String, property: String, value: String) -> String {
        guard KafkaConfiguration.isSecret(property: property), !value.isEmpty else { return text }
        return text.replacingOccurrences(of: value, with: "[redacted]")
    }
}

import Foundation
