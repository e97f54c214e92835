import Foundation
import Hummingbird
import Logging
import Observability
import ProactivityCore

/// Runs a job now over HTTP, on the mirror's port next to the DLQ API and behind the same
/// bearer token:
///
/// | route | parameters |
/// | --- | --- |
/// | `POST /jobs/{job}/run` | `shard` (default: every shard) |
///
/// Answers 202 with the run id and its ticks (`published` false where the broker did not
/// take one: ask again), 404 for an unknown job, 409 for a disabled one, 400 for a bad
/// shard. The request is audited with the peer's address (``ManualRunner``).
public struct JobsAPI: Sendable {
    let runner: ManualRunner
    let token: String?
    let logger: Logger

    public init(runner: ManualRunner, token: String?, logger: Logger) {
        self.runner = runner
        self.token = token
        self.logger = logger
    }

    struct TickView: Encodable {
        var tickId: String
        var windowStart: Date
        var windowEnd: Date
        var published: Bool
        var error: String?
    }

    struct RunView: ResponseEncodable {
        var runId: String
        var ticks: [TickView]
    }

    /// Adds the route.
    public func register(on router: Router<EngineRequestContext>) {
        let group = router.group("jobs").add(middleware: BearerTokenMiddleware(token: token, logger: logger))
        group.post(":job/run") { request, context -> Response in
            let query = try APIQuery(request.uri.queryParameters, known: ["shard"])
            let shard = try query.int("shard", in: 0...Int.max)
            let job = context.parameters.get("job") ?? ""
            let peer = context.remoteAddress?.description ?? "unknown"
            let run: ManualRunner.Run
            do {
                run = try await runner.run(job: job, shard: shard, requestedBy: "http-api", requestedHost: peer, channel: .http)
            } catch let refusal as ManualRunner.Refusal {
                let status: HTTPResponse.Status =
                    switch refusal.kind {
                    case .unknownJob: .notFound
                    case .disabledJob: .conflict
                    case .unknownShard, .invalidTick: .badRequest
                    }
                throw HTTPError(status, message: refusal.description)
            }
            let view = RunView(
                runId: run.runId.uuidString.lowercased(),
                ticks: run.ticks.map { tick, failure in
                    TickView(
                        tickId: tick.tickId, windowStart: tick.windowStart, windowEnd: tick.windowEnd, published: failure == nil,
                        error: failure.map { "\($0)" })
                })
            var response = try view.response(from: request, context: context)
            response.status = run.failed ? .serviceUnavailable : .accepted
            return response
        }
        for method in [HTTPRequest.Method.get, .put, .patch, .delete] {
            group.on(RouterPath(":job/run"), method: method) { _, _ -> Response in
                throw HTTPError(.methodNotAllowed, headers: [.allow: "POST"], message: "\(method) is not allowed here; use POST")
            }
        }
    }
}
