import ProactivityStages
import ServiceLifecycle

extension StageAssembly {
    /// Runs the stages in a service group of the test's own while `body` runs, then shuts
    /// the group down gracefully, as SIGTERM does (cancelling would be ServiceLifecycle's
    /// hard stop), also when `body` throws.
    /// - Parameter shutdownLimit: a liveness bound, the stages' own default
    ///   (`shutdown.timeout`, 30 s): a consumer stopped while its group rebalances waits
    ///   up to 5 s for the local broker to answer its LeaveGroup, so two workers stopped
    ///   one after the other on a loaded machine took over 10 s (a CI run, 2026-12-06).
    /// - Parameter onServerRunning: told the HTTP port once it listens.
    func running<T>(
        shutdownLimit: Duration = .seconds(30), onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in },
        _ body: () async throws -> T
    ) async throws -> T {
        let group = ServiceGroup(configuration: serviceGroupConfiguration(shutdownLimit: shutdownLimit, onServerRunning: onServerRunning))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                try checkShutdown(limit: shutdownLimit)
            }
            let result: T
            do {
                result = try await body()
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}
