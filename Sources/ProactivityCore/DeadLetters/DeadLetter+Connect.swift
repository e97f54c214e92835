import Foundation

extension DeadLetter {
    /// Kafka Connect's dead-letter context headers (those of its
    /// `DeadLetterQueueReporter` with `errors.deadletterqueue.context.headers.enable`),
    /// written next to ours so that tools made for Connect's DLQs read the engine's.
    /// Values are UTF-8 text, numbers in decimal, as Connect writes them.
    ///
    /// `__connect.errors.task.id` and `__connect.errors.exception.stacktrace` are not
    /// written: the engine has no numbered tasks, and its failures carry no stack trace.
    public enum ConnectHeader {
        public static let prefix = "__connect.errors."
        /// The failed record's topic, partition and offset.
        public static let topic = "__connect.errors.topic"
        public static let partition = "__connect.errors.partition"
        public static let offset = "__connect.errors.offset"
        /// Connect: the connector's name. Ours: the consumer group that failed the record.
        public static let connectorName = "__connect.errors.connector.name"
        /// Where it failed: one of Connect's stage names (``connectStage``).
        public static let stage = "__connect.errors.stage"
        /// Connect: the class that was executing. Ours: `proactivity.<stage>`.
        public static let executingClass = "__connect.errors.class.name"
        /// Connect: the exception's class. Ours: the failure class (`job_sql`, `transient`, …).
        public static let exceptionClass = "__connect.errors.exception.class.name"
        public static let exceptionMessage = "__connect.errors.exception.message"
    }

    /// The Connect stage a failure class corresponds to: a record that could not be read
    /// failed converting its value (`VALUE_CONVERTER`); an alert too large for the broker
    /// failed producing (`KAFKA_PRODUCE`); every other failure happened while the worker
    /// processed the record, which is a sink task's `put` (`TASK_PUT`).
    public var connectStage: String {
        switch errorClass {
        case .undecodable, .unknownSchemaVersion: "VALUE_CONVERTER"
        case .messageTooLarge: "KAFKA_PRODUCE"
        case .unknownJob, .invalidTick, .staleTick, .jobSQL, .transient: "TASK_PUT"
        }
    }

    /// The context under Connect's header names.
    var connectHeaders: [(name: String, value: String)] {
        [
            (ConnectHeader.topic, originTopic), (ConnectHeader.partition, String(originPartition)),
            (ConnectHeader.offset, String(originOffset)), (ConnectHeader.connectorName, consumerGroup),
            (ConnectHeader.stage, connectStage), (ConnectHeader.executingClass, "proactivity.\(stage)"),
            (ConnectHeader.exceptionClass, errorClass.rawValue), (ConnectHeader.exceptionMessage, String(errorMessage.prefix(2000))),
        ]
    }
}
