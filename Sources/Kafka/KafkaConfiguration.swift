/// Settings every Kafka client shares: where the cluster is, who we are, and any
/// librdkafka property.
///
/// Typed settings cover what the application needs; ``properties`` passes any other
/// librdkafka property through unchanged (TLS, SASL, tuning: see librdkafka's
/// CONFIGURATION.md) and wins over a typed setting of the same name. Unknown properties
/// and invalid values are rejected when a client is created, with an error naming the
/// property.
public struct KafkaConfiguration: Sendable {
    /// Comma-separated `host:port` list (`bootstrap.servers`).
    public var bootstrapServers: String
    /// The client id the brokers log and quota by (`client.id`, default `proactivity`).
    public var clientID: String
    /// How often librdkafka reports statistics to ``statisticsHandler``
    /// (`statistics.interval.ms`, default off).
    public var statisticsInterval: Duration?
    /// Receives each statistics report; called on the client's event thread.
    public var statisticsHandler: (@Sendable (KafkaStatistics) -> Void)?
    /// Any librdkafka property, e.g. `security.protocol`, `sasl.username`, `linger.ms`.
    public var properties: [String: String]

    /// Creates a configuration.
    public init(
        bootstrapServers: String,
        clientID: String = "proactivity",
        statisticsInterval: Duration? = nil,
        statisticsHandler: (@Sendable (KafkaStatistics) -> Void)? = nil,
        properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.statisticsInterval = statisticsInterval
        self.statisticsHandler = statisticsHandler
        self.properties = properties
    }

    /// The full property map: `roleDefaults`, then the shared typed settings, then
    /// the pass-through ``properties``.
    func librdkafkaProperties(roleDefaults: [String: String]) -> [String: String] {
        var result = roleDefaults
        result["bootstrap.servers"] = bootstrapServers
        result["client.id"] = clientID
        if let statisticsInterval {
            result["statistics.interval.ms"] = String(statisticsInterval.milliseconds)
        }
        result.merge(properties) { _, passedThrough in passedThrough }
        return result
    }

    /// Property names whose values are secrets: never logged nor put in errors.
    public static func isSecret(property name: String) -> Bool {
        let lowered = name.lowercased()
        return ["password", "passphrase", "secret", "key", "token", "jaas", "oauthbearer.config", "credential"].contains {
            lowered.contains($0)
        }
    }

    /// Every problem librdkafka finds with these settings (unknown properties, bad
    /// values), all of them rather than the first; secret values never appear.
    public var problems: [String] {
        var all = properties
        all["bootstrap.servers"] = bootstrapServers
        all["client.id"] = clientID
        return RDKafkaConfig.problems(properties: all)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (as librdkafka's `*.ms` properties take them).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a floating-point interval.
    var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
