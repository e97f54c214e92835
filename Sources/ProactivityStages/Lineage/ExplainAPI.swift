import Foundation
import Hummingbird
import Logging
import Observability
import ProactivityCore

/// `explain` over HTTP, on the mirror's port behind the DLQ API's bearer token:
///
/// | route | parameters |
/// | --- | --- |
/// | `GET /explain` | `alert_id`, or `job` and `item` with an optional `due` (ISO 8601) |
///
/// Answers the JSON of `proactivity explain --json` (snake_case keys); 404 for an alert
/// id the ledger does not have, 400 for a bad or missing parameter.
public struct ExplainAPI: Sendable {
    let explainer: Explainer
    let token: String?
    let logger: Logger

    public init(explainer: Explainer, token: String?, logger: Logger) {
        self.explainer = explainer
        self.token = token
        self.logger = logger
    }

    /// Adds the route.
    public func register(on router: Router<EngineRequestContext>) {
        let group = router.group("explain").add(middleware: BearerTokenMiddleware(token: token, logger: logger))
        group.get { request, _ -> Response in
            let query = try APIQuery(request.uri.queryParameters, known: ["alert_id", "job", "item", "due"])
            if let alert = query.string("alert_id") {
                guard query.string("job") == nil, query.string("item") == nil, query.string("due") == nil else {
                    throw HTTPError(.badRequest, message: "give alert_id, or job and item (and due), not both")
                }
                do {
                    return Self.json(try await explainer.alert(alert))
                } catch let error as AlertID.Invalid {
                    throw HTTPError(.badRequest, message: error.description)
                } catch let error as Explainer.NotFound {
                    throw HTTPError(.notFound, message: error.description)
                }
            }
            guard let job = query.string("job"), let item = query.string("item"), !job.isEmpty, !item.isEmpty else {
                throw HTTPError(.badRequest, message: "give alert_id, or job and item (and due)")
            }
            return Self.json(try await explainer.item(job: job, item: item, due: try query.date("due")))
        }
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            group.on("", method: method) { _, _ -> Response in
                throw HTTPError(.methodNotAllowed, headers: [.allow: "GET"], message: "\(method) is not allowed here; use GET")
            }
        }
    }

    static func json(_ value: some Encodable) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: MessageCoding.encode(value))))
    }
}
