/// Settings of a ``KafkaProducer``.
public struct KafkaProducerConfiguration: Sendable {
    /// The shared settings (brokers, client id, statistics, pass-through properties).
    public var kafka: KafkaConfiguration
    /// Exactly-once, in-order delivery per partition (`enable.idempotence`, default on).
    public var idempotence: Bool
    /// Makes the producer transactional (`transactional.id`, default none).
    public var transactionalID: String?
    /// How long to wait to fill a batch (`linger.ms`, default 5 ms).
    public var linger: Duration
    /// How long a message may take to be delivered before it fails with
    /// ``KafkaError/Code/messageTimedOut`` (`message.timeout.ms`, default 300 s; a
    /// transactional producer uses at most its ``transactionTimeout``).
    public var messageTimeout: Duration
    /// How long a transaction may stay open before the broker aborts it
    /// (`transaction.timeout.ms`, default 60 s; transactional producers only).
    public var transactionTimeout: Duration
    /// When messages have waited this long without any delivery while the broker
    /// answers, the producer replaces its librdkafka client (see ``KafkaProducer``);
    /// `nil` never does. Default 3 s. Transactional producers never replace theirs.
    public var renewalAfterStall: Duration?
    /// Told the reason each time the producer replaces its client (for a metric).
    public var onRenewal: (@Sendable (String) -> Void)?
    /// How long the producer's graceful end (a service group's graceful shutdown, or the
    /// end of ``withKafkaClient(_:_:)``) waits for queued messages to be delivered before
    /// it purges them (their sends fail). Default 10 s; keep it well inside the shutdown
    /// limit.
    public var shutdownFlushTimeout: Duration = .seconds(10)

    /// Creates producer settings.
    public init(
        kafka: KafkaConfiguration,
        idempotence: Bool = true,
        transactionalID: String? = nil,
        linger: Duration = .milliseconds(5),
        messageTimeout: Duration = .seconds(300),
        transactionTimeout: Duration = .seconds(60),
        renewalAfterStall: Duration? = .seconds(3),
        onRenewal: (@Sendable (String) -> Void)? = nil
    ) {
        self.renewalAfterStall = renewalAfterStall
        self.onRenewal = onRenewal
        self.kafka = kafka
        self.idempotence = idempotence
        self.transactionalID = transactionalID
        self.linger = linger
        self.messageTimeout = messageTimeout
        self.transactionTimeout = transactionTimeout
    }

    var librdkafkaProperties: [String: String] {
        var defaults = [
            "enable.idempotence": String(idempotence),
            "linger.ms": String(linger.milliseconds),
            "message.timeout.ms": String(messageTimeout.milliseconds),
        ]
        if let transactionalID {
            defaults["transactional.id"] = transactionalID
            defaults["transaction.timeout.ms"] = String(transactionTimeout.milliseconds)
            // librdkafka requires message.timeout.ms <= transaction.timeout.ms.
            defaults["message.timeout.ms"] = String(min(messageTimeout, transactionTimeout).milliseconds)
        }
        return kafka.librdkafkaProperties(roleDefaults: defaults)
    }
}
