import Hummingbird
import Logging

/// The HTTP endpoints every stage serves: `GET /healthz` (liveness, with the active
/// job ids; 503 with the reason once a stage is wedged beyond repair), `GET /readyz` (200 when every readiness condition holds, else 503 with the
/// reasons) and `GET /metrics` (Prometheus text format).
public enum ObservabilityRouter {
    struct Health: ResponseEncodable {
        let status: String
        let stage: String
        let jobs: [String]
        /// Why the process is wedged (only then).
        let reason: String?
    }

    struct Readiness: ResponseEncodable {
        let status: String
        let stage: String
        /// Each condition's `ok` or reason.
        let checks: [String: String]
        /// Since when each condition has been as it is.
        let since: [String: String]
    }

    /// A router with the three endpoints; stages may add routes to it.
    public static func make(health: HealthState, metrics: EngineMetrics) -> Router<EngineRequestContext> {
        let router = Router(context: EngineRequestContext.self)
        router.get("/healthz") { _, _ in
            let wedged = health.wedged
            return EditedResponse(
                status: wedged == nil ? .ok : .serviceUnavailable,
                response: Health(status: wedged == nil ? "ok" : "wedged", stage: health.stage, jobs: health.jobs, reason: wedged))
        }
        router.get("/readyz") { _, _ in
            let readiness = health.readiness
            return EditedResponse(
                status: readiness.ready ? .ok : .serviceUnavailable,
                response: Readiness(
                    status: readiness.ready ? "ready" : "not ready", stage: health.stage, checks: readiness.checks, since: readiness.since))
        }
        router.get("/metrics") { _, _ in
            EditedResponse(
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], response: metrics.render())
        }
        return router
    }

    /// The application serving `router` on `host:port` (a swift-service-lifecycle Service).
    public static func application(
        router: Router<EngineRequestContext>, host: String, port: Int, logger: Logger,
        onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "proactivity"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
            logger: logger)
    }
}
