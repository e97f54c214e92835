/// Settings of a ``KafkaConsumer``.
///
/// Offsets are committed only for messages the application marks processed
/// (``KafkaConsumer/markProcessed(_:)``): the consumer always runs with
/// `enable.auto.offset.store=false`, so setting that property is an error.
public struct KafkaConsumerConfiguration: Sendable {
    /// Where to start when the group has no committed offset.
    public enum OffsetReset: String, Sendable {
        /// The oldest message still kept.
        case earliest
        /// Only messages produced from now on.
        case latest
    }

    /// Which messages of transactional producers a consumer sees.
    public enum IsolationLevel: String, Sendable {
        /// Only messages of committed transactions.
        case readCommitted = "read_committed"
        /// Every message, also of aborted transactions.
        case readUncommitted = "read_uncommitted"
    }

    /// The shared settings (brokers, client id, statistics, pass-through properties).
    public var kafka: KafkaConfiguration
    /// The consumer group (`group.id`).
    public var groupID: String
    /// Where a new group starts (`auto.offset.reset`, default earliest).
    public var offsetReset: OffsetReset
    /// How long the group waits for a silent member before rebalancing
    /// (`session.timeout.ms`, default 30 s). A broker or network pause shorter than it
    /// costs no rebalance (the members keep their partitions and go on when it ends); a
    /// member that died without leaving keeps its partitions from the others for that
    /// long. A dynamic member that stops cleanly leaves at once, whatever the setting.
    /// Heartbeats go every sixth of it, at most every 2 s (`heartbeat.interval.ms`,
    /// from the `session.timeout.ms` pass-through property when one is set).
    public var sessionTimeout: Duration
    /// How long the broker may hold a fetch waiting for data (`fetch.wait.max.ms`,
    /// default 100 ms). Some brokers answer only when it runs out, so it bounds latency;
    /// lower costs CPU on idle consumers.
    public var fetchWaitMax: Duration
    /// Transaction isolation (`isolation.level`, default read committed).
    public var isolationLevel: IsolationLevel
    /// Partition assignment (`partition.assignment.strategy`, default
    /// `cooperative-sticky`: a rebalance moves only the partitions that must move).
    public var assignmentStrategy: String
    /// How often processed offsets are committed in the background
    /// (`auto.commit.interval.ms`, default 1 s); `nil` commits only on
    /// ``KafkaConsumer/commit()``, on revocation and on close.
    public var autoCommitInterval: Duration?
    /// How often the consumer refreshes the cluster's metadata
    /// (`topic.metadata.refresh.interval.ms`, default 10 s, librdkafka's own is 5 min):
    /// it bounds how long a subscription takes to notice that a missing topic was
    /// created again (after a broker lost its state, or `topics apply`).
    public var metadataRefreshInterval: Duration
    /// Static group membership (`group.instance.id`, default none): a member that comes
    /// back within the session timeout gets its partitions back without a rebalance.
    /// Unique per member and stable across its restarts; two members with one id fence
    /// each other (`FENCED_INSTANCE_ID`).
    public var groupInstanceID: String?

    /// Creates consumer settings.
    public init(
        kafka: KafkaConfiguration,
        groupID: String,
        offsetReset: OffsetReset = .earliest,
        sessionTimeout: Duration = .seconds(30),
        fetchWaitMax: Duration = .milliseconds(100),
        isolationLevel: IsolationLevel = .readCommitted,
        assignmentStrategy: String = "cooperative-sticky",
        autoCommitInterval: Duration? = .seconds(1),
        metadataRefreshInterval: Duration = .seconds(10),
        groupInstanceID: String? = nil
    ) {
        self.groupInstanceID = groupInstanceID
        self.metadataRefreshInterval = metadataRefreshInterval
        self.kafka = kafka
        self.groupID = groupID
        self.offsetReset = offsetReset
        self.sessionTimeout = sessionTimeout
        self.fetchWaitMax = fetchWaitMax
        self.isolationLevel = isolationLevel
        self.assignmentStrategy = assignmentStrategy
        self.autoCommitInterval = autoCommitInterval
    }

    func librdkafkaProperties() throws(KafkaError) -> [String: String] {
        if kafka.properties["enable.auto.offset.store"] != nil {
            throw .invalidConfiguration(
                "enable.auto.offset.store",
                "enable.auto.offset.store is managed by the consumer (offsets are stored when a message is marked processed); remove it"
            )
        }
        let session = kafka.properties["session.timeout.ms"].flatMap(Int64.init) ?? sessionTimeout.milliseconds
        var defaults = [
            "group.id": groupID,
            "auto.offset.reset": offsetReset.rawValue,
            "session.timeout.ms": String(sessionTimeout.milliseconds),
            // A sixth of the session, at most 2 s (librdkafka's default is a fixed 3 s):
            // a member learns sooner that its group is rebalancing or that the broker
            // forgot it.
            "heartbeat.interval.ms": String(min(max(session / 6, 100), 2_000)),
            "fetch.wait.max.ms": String(fetchWaitMax.milliseconds),
            "isolation.level": isolationLevel.rawValue,
            "partition.assignment.strategy": assignmentStrategy,
            "enable.auto.commit": String(autoCommitInterval != nil),
            "topic.metadata.refresh.interval.ms": String(metadataRefreshInterval.milliseconds),
        ]
        if let groupInstanceID { defaults["group.instance.id"] = groupInstanceID }
        if let autoCommitInterval {
            defaults["auto.commit.interval.ms"] = String(autoCommitInterval.milliseconds)
        }
        var properties = kafka.librdkafkaProperties(roleDefaults: defaults)
        properties["enable.auto.offset.store"] = "false"
        return properties
    }
}
