import Foundation
import Hummingbird
import ProactivityCore
import ProactivityStore

/// The DLQ's HTTP API on the mirror's port: `GET /dlq`, `GET /dlq/{id}`,
/// `POST /dlq/{id}/replay`, `POST /dlq/replay`, with the filters of the CLI as query
/// parameters (`job`, `error`, `error_class`, `since`, `until`, `processed`, `limit`, `force`,
/// `dry_run`, `all`). Every request needs `Authorization: Bearer <DLQ_API_TOKEN>`;
/// without a configured token the API answers 503 saying it is disabled, and a missing
/// or wrong token gets 401 with nothing done.
public struct DeadLetterAPI: Sendable {
    let store: DeadLetterStore
    let replayer: DeadLetterReplayer
    let token: String?

    public init(store: DeadLetterStore, replayer: DeadLetterReplayer, token: String?) {
        self.store = store
        self.replayer = replayer
        self.token = token
    }

    struct Message: ResponseEncodable {
        let error: String
    }

    struct Rows: ResponseEncodable {
        let rows: [DeadLetterRow]
    }

    struct ReplayResult: ResponseEncodable {
        let outcome: DeadLetterReplayer.Outcome
    }

    /// Adds the routes.
    public func register(on router: Router<BasicRequestContext>) {
        let group = router.group("dlq").add(middleware: BearerTokenMiddleware(token: token))
        group.get { request, _ in Rows(rows: try await store.list(try Self.filter(request.uri.queryParameters))) }
        group.get(":id") { _, context -> EditedResponse<Rows> in
            let id = try context.parameters.require("id", as: Int64.self)
            let rows = try await store.list(DeadLetterFilter(ids: [id], limit: 1))
            return EditedResponse(status: rows.isEmpty ? .notFound : .ok, response: Rows(rows: rows))
        }
        group.post(":id/replay") { request, context in
            let id = try context.parameters.require("id", as: Int64.self)
            let rows = try await store.list(DeadLetterFilter(ids: [id], limit: 1))
            guard !rows.isEmpty else { throw HTTPError(.notFound, message: "no DLQ row \(id)") }
            let query = request.uri.queryParameters
            return ReplayResult(
                outcome: try await replayer.replay(rows, force: query["force"] == "true", dryRun: query["dry_run"] == "true"))
        }
        group.post("replay") { request, _ in
            let query = request.uri.queryParameters
            let filter = try Self.filter(query)
            guard
                query["all"] == "true" || filter.job != nil || filter.errorText != nil || filter.errorClass != nil || filter.since != nil
                    || filter.until != nil
            else { throw HTTPError(.badRequest, message: "give a filter (job, error, error_class, since, until) or all=true") }
            let rows = try await store.list(filter)
            return ReplayResult(
                outcome: try await replayer.replay(rows, force: query["force"] == "true", dryRun: query["dry_run"] == "true"))
        }
    }

    static func filter(_ query: Parameters) throws -> DeadLetterFilter {
        func date(_ name: String) throws -> Date? {
            guard let text = query[Substring(name)].map(String.init) else { return nil }
            guard let date = MessageCoding.parseTimestamp(text) else {
                throw HTTPError(.badRequest, message: "\(name) must be an ISO 8601 time like 2026-11-25T10:00:00Z")
            }
            return date
        }
        let processed: Bool? = query["processed"].map { $0 == "true" }
        let limit = query["limit"].flatMap { Int(String($0)) } ?? 100
        guard (1...10_000).contains(limit) else { throw HTTPError(.badRequest, message: "limit must be 1…10000") }
        return DeadLetterFilter(
            job: query["job"].map(String.init), errorText: query["error"].map(String.init),
            errorClass: query["error_class"].map(String.init), since: try date("since"),
            until: try date("until"), processed: processed, limit: limit)
    }
}

/// Lets a request through only with the configured bearer token.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            throw HTTPError(.serviceUnavailable, message: "the DLQ API is disabled: set DLQ_API_TOKEN to enable it")
        }
        let given = request.headers[.authorization] ?? ""
        let expected = "Bearer \(token)"
        // Compare every byte, so the time taken says nothing about the token.
        guard given.utf8.count == expected.utf8.count,
            zip(given.utf8, expected.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
        else {
            throw HTTPError(.unauthorized, message: "a valid bearer token is required")
        }
        return try await next(request, context)
    }
}
