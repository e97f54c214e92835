import Kafka
import Logging

/// Creates a benchmark's topics, runs `body`, then deletes them, also when `body` throws.
///
/// The local broker keeps every record in memory: topics left behind by earlier runs
/// filled a 24 GB machine and slowed both producers by a quarter. `body` must have ended
/// every Kafka client it made (its `withKafkaClient` scopes returned) before it returns;
/// the deletion then waits until librdkafka has stopped them (up to 30 s): librdkafka
/// 2.16 crashed a client still fetching when its topic was deleted. A deletion
/// that fails or is skipped is reported, not thrown: the figures stand. It runs in a task
/// of its own, so a benchmark stopped by the user (cancelled) still deletes its topics.
func withBenchTopics<Result>(
    _ topics: [KafkaTopicSpecification], configuration: KafkaConfiguration, logger: Logger,
    progress: @escaping @Sendable (String) -> Void, _ body: () async throws -> Result
) async throws -> Result {
    _ = try await withKafkaClient(try KafkaAdmin(configuration: configuration, logger: logger)) { admin in
        try await admin.createTopics(topics)
    }
    let result: Result
    do {
        result = try await body()
    } catch {
        await deleteBenchTopics(topics.map(\.name), configuration: configuration, logger: logger, progress: progress)
        throw error
    }
    await deleteBenchTopics(topics.map(\.name), configuration: configuration, logger: logger, progress: progress)
    return result
}

private func deleteBenchTopics(
    _ names: [String], configuration: KafkaConfiguration, logger: Logger, progress: @escaping @Sendable (String) -> Void
) async {
    await Task { await deleteTopics(names, configuration: configuration, logger: logger, progress: progress) }.value
}

private func deleteTopics(_ names: [String], configuration: KafkaConfiguration, logger: Logger, progress: @Sendable (String) -> Void) async {
    do {
        guard await KafkaLibrary.waitUntilClientsStopped(within: .seconds(30)) else {
            throw BenchmarkFailure("a Kafka client of this run was not stopped within 30 s: \(KafkaLibrary.clientsBeingReleased.joined(separator: ", "))")
        }
        let unreleased = KafkaLibrary.clientsBeingReleased
        try await withKafkaClient(try KafkaAdmin(configuration: configuration, logger: logger)) { admin in
            try await admin.deleteTopics(names)
        }
        progress("deleted the benchmark's \(names.count) topics")
        if !unreleased.isEmpty {
            // The process ends soon; only the librdkafka threads of these clients leak until then.
            logger.info(
                "bench_client_destroy_unfinished",
                metadata: [
                    "clients": .array(unreleased.map { .string($0) }),
                    "reason": "librdkafka has stopped them (no fetch, no metadata) but not finished their destroy",
                ])
        }
    } catch {
        logger.warning(
            "bench_topics_not_deleted",
            metadata: ["error": "\(error)", "topics": .array(names.map { .string($0) })])
    }
}
