import Logging
import ServiceLifecycle

/// A Kafka client whose end is owned by one place: a `ServiceGroup` running it as a
/// `Service`, or ``withKafkaClient(_:_:)`` for a client that lives for one call. Every
/// client of this module ends through ``finish(gracefully:)``, so no caller closes one
/// by hand.
public protocol KafkaClientLifetime: Service {
    /// Ends the client: gracefully (flush, commit, leave the group) after a graceful
    /// shutdown or the end of a scoped call, or at once after cancellation. Never throws:
    /// what could not be finished is logged (a producer's undelivered messages fail their
    /// sends, a consumer's group rebalances after its session timeout).
    func finish(gracefully: Bool) async
}

extension KafkaClientLifetime {
    /// Waits for the service group's graceful shutdown (or cancellation), then ends the
    /// client. A group lists its Kafka clients before the stages using them: services
    /// stop in reverse order, so a client ends once its users are done with it.
    public func run() async throws {
        let graceful = (try? await gracefulShutdown()) != nil
        await finish(gracefully: graceful)
    }
}

/// Runs `body` with `client`, then ends the client gracefully, also when `body` throws:
/// for a client that lives for one command or one call.
public func withKafkaClient<Client: KafkaClientLifetime, Result>(
    _ client: Client, isolation: isolated (any Actor)? = #isolation, _ body: (Client) async throws -> Result
) async throws -> Result {
    let result: Result
    do {
        result = try await body(client)
    } catch {
        await client.finish(gracefully: true)
        throw error
    }
    await client.finish(gracefully: true)
    return result
}

extension KafkaProducer: KafkaClientLifetime {
    /// Flushes for up to ``KafkaProducerConfiguration/shutdownFlushTimeout`` (not at all
    /// after cancellation), then releases the client; messages still undelivered are
    /// purged, their sends fail (retriable) and a warning names how many.
    public func finish(gracefully: Bool) async {
        do {
            try await close(timeout: gracefully ? shutdownFlushTimeout : .zero)
        } catch {
            logger.warning("kafka_producer_closed_undelivered", metadata: ["error": "\(error)"])
        }
    }
}

extension KafkaConsumer: KafkaClientLifetime {
    /// Commits what was marked processed and leaves the group, waiting for the group at
    /// most 10 s (well inside a shutdown limit): offsets are committed first thing, when
    /// the partitions are revoked, so a broker slow to acknowledge the leave costs only a
    /// rebalance after the session timeout; that is logged, not thrown.
    public func finish(gracefully: Bool) async {
        do {
            try await close(timeout: .seconds(10))
        } catch {
            client.logger.warning("kafka_consumer_close_incomplete", metadata: ["error": "\(error)"])
        }
    }
}

extension KafkaAdmin: KafkaClientLifetime {
    /// Releases the client.
    public func finish(gracefully: Bool) async {
        await close()
    }
}
