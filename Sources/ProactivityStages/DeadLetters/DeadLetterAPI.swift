import Foundation
import Hummingbird
import Logging
import Observability
import ProactivityCore
import ProactivityStore

/// The DLQ's HTTP API on the mirror's port:
///
/// | route | parameters |
/// | --- | --- |
/// | `GET /dlq` | the filters `job`, `error`, `error_class`, `fingerprint`, `since`, `until`, `processed`, `parked`; `limit` (1…1000, 100), `after` (cursor); or `group_by` (`class`, `job`, `fingerprint`) and `limit` groups |
/// | `GET /dlq/{id}` | none |
/// | `POST /dlq/{id}/replay` | `force`, `dry_run` |
/// | `POST /dlq/replay` | the filters of `GET /dlq`, or `all`; `force`, `dry_run`, `rate` (`N/s`, `N/m`) |
///
/// Parameters are strict: an unknown name or a bad value is a 400 naming it; booleans are
/// `true`/`false`/`1`/`0` in any case; another method gets 405 with `Allow`. Lists carry
/// the matching total and the cursor of the next page, keys and values in base64 cut to
/// 4 KB (`GET /dlq/{id}` has them whole); a replay selected by filters or `all` covers
/// every matching row, in pages. Every request needs `Authorization: Bearer <DLQ_API_TOKEN>`
/// (scheme in any case); without a configured token the API answers 503, and a missing
/// or wrong token gets 401, logged with the peer's address, with nothing done.
public struct DeadLetterAPI: Sendable {
    let store: DeadLetterStore
    let replayer: DeadLetterReplayer
    let token: String?
    let logger: Logger

    public init(store: DeadLetterStore, replayer: DeadLetterReplayer, token: String?, logger: Logger) {
        self.store = store
        self.replayer = replayer
        self.token = token
        self.logger = logger
    }

    /// Keys and values in a list are cut to this many bytes.
    static let listByteLimit = 4096
    static let filterParameters: Set<String> = ["job", "error", "error_class", "fingerprint", "since", "until", "processed", "parked"]

    /// A row as the API shows it: bytes in base64.
    struct RowView: Encodable {
        var id: Int64
        var jobName, errorClass, errorMessage, stage, originTopic: String?
        var originPartition: Int32?
        var originOffset: Int64?
        var dlqTopic: String?
        var dlqPartition: Int32?
        var dlqOffset: Int64?
        /// Base64; `keyTruncated`/`valueTruncated` say when cut.
        var key, value: String?
        var keyBytes, valueBytes: Int
        var keyTruncated, valueTruncated: Bool
        var headers: [DeadLetterRow.Header]
        var attempts: Int?
        var retryCount: Int
        var correlationId: String?
        var fingerprint: String?
        var state: DeadLetterState
        var createdAt: Date
        var processedAt: Date?
        var parkedAt: Date?

        init(_ row: DeadLetterRow, byteLimit: Int?) {
            func encoded(_ bytes: [UInt8]?) -> (String?, Bool) {
                guard let bytes else { return (nil, false) }
                let cut = byteLimit.map { bytes.count > $0 } ?? false
                return (Data(cut ? Array(bytes.prefix(byteLimit!)) : bytes).base64EncodedString(), cut)
            }
            (id, jobName, errorClass, errorMessage, stage, originTopic) = (row.id, row.jobName, row.errorClass, row.errorMessage, row.stage, row.originTopic)
            (originPartition, originOffset, dlqTopic, dlqPartition, dlqOffset) = (row.originPartition, row.originOffset, row.dlqTopic, row.dlqPartition, row.dlqOffset)
            (key, keyTruncated) = encoded(row.key)
            (value, valueTruncated) = encoded(row.value)
            (keyBytes, valueBytes) = (row.key?.count ?? 0, row.value?.count ?? 0)
            (headers, attempts, retryCount, correlationId, createdAt, processedAt) = (row.headers, row.attempts, row.retryCount, row.correlationId, row.createdAt, row.processedAt)
            (fingerprint, state, parkedAt) = (row.fingerprint, row.state, row.parkedAt)
        }
    }

    struct Page: ResponseEncodable {
        let rows: [RowView]
        /// Rows matching the filters, on every page.
        let total: Int
        /// The `after` of the next page; `nil` on the last.
        let nextAfter: Int64?
    }

    struct Groups: ResponseEncodable {
        let groupBy: DeadLetterGrouping
        /// The largest groups first, at most `limit`.
        let groups: [DeadLetterGroup]
        /// Groups in all.
        let total: Int
    }

    struct One: ResponseEncodable {
        let row: RowView
    }

    struct ReplayResult: ResponseEncodable {
        let outcome: DeadLetterReplayer.Outcome
    }

    /// Adds the routes.
    public func register(on router: Router<EngineRequestContext>) {
        let group = router.group("dlq").add(middleware: BearerTokenMiddleware(token: token, logger: logger))
        group.get { request, context -> Response in
            let query = try APIQuery(request.uri.queryParameters, known: Self.filterParameters.union(["limit", "after", "group_by"]))
            var filter = try Self.filter(query)
            filter.limit = try query.int("limit", in: 1...1000) ?? 100
            if let grouping = try Self.grouping(query) {
                let (groups, total) = try await store.groups(filter, by: grouping)
                return try Groups(groupBy: grouping, groups: groups, total: total).response(from: request, context: context)
            }
            filter.afterID = try query.int("after", in: 0...Int64.max)
            let rows = try await store.list(filter)
            return try Page(
                rows: rows.map { RowView($0, byteLimit: Self.listByteLimit) }, total: try await store.count(filter),
                nextAfter: rows.count == filter.limit ? rows.last?.id : nil
            ).response(from: request, context: context)
        }
        group.get(":id") { request, context -> One in
            _ = try APIQuery(request.uri.queryParameters, known: [])
            let id = try Self.id(context)
            guard let row = try await store.list(DeadLetterFilter(ids: [id], limit: 1)).first else {
                throw HTTPError(.notFound, message: "no DLQ row \(id)")
            }
            return One(row: RowView(row, byteLimit: nil))
        }
        group.post(":id/replay") { request, context in
            let query = try APIQuery(request.uri.queryParameters, known: ["force", "dry_run"])
            let id = try Self.id(context)
            let rows = try await store.list(DeadLetterFilter(ids: [id], limit: 1))
            guard !rows.isEmpty else { throw HTTPError(.notFound, message: "no DLQ row \(id)") }
            return ReplayResult(
                outcome: try await replayer.replay(rows, force: try query.bool("force") ?? false, dryRun: try query.bool("dry_run") ?? false))
        }
        group.post("replay") { request, _ in
            let query = try APIQuery(request.uri.queryParameters, known: Self.filterParameters.union(["all", "force", "dry_run", "rate"]))
            let filter = try Self.filter(query)
            let all = try query.bool("all") ?? false
            guard all || filter.job != nil || filter.errorText != nil || filter.errorClass != nil || filter.fingerprint != nil || filter.since != nil
                || filter.until != nil || filter.processed != nil || filter.parked != nil
            else {
                throw HTTPError(
                    .badRequest, message: "give a filter (\(Self.filterParameters.sorted().joined(separator: ", "))) or all=true")
            }
            let rate = try query.string("rate").map { text in
                guard let rate = ReplayRate(text) else {
                    throw HTTPError(.badRequest, message: "rate must be like 50/s or 30/m (at most 100000/s, at least 1/m), not '\(text.prefix(100))'")
                }
                return rate
            }
            return ReplayResult(
                outcome: try await replayer.replayAll(
                    matching: filter, force: try query.bool("force") ?? false, dryRun: try query.bool("dry_run") ?? false, rate: rate))
        }
        // Another method on a known path: 405 naming the one allowed.
        for (path, allowed) in [("", HTTPRequest.Method.get), (":id", .get), ("replay", .post), (":id/replay", .post)] {
            for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] where method != allowed {
                group.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw HTTPError(.methodNotAllowed, headers: [.allow: allowed.rawValue], message: "\(method) is not allowed here; use \(allowed)")
                }
            }
        }
    }

    static func id(_ context: EngineRequestContext) throws -> Int64 {
        guard let text = context.parameters.get("id"), let id = Int64(text), id > 0 else {
            throw HTTPError(.badRequest, message: "the row id must be a positive whole number")
        }
        return id
    }

    static func filter(_ query: APIQuery) throws -> DeadLetterFilter {
        let errorClass = query.string("error_class")
        if let errorClass, FailureClass(rawValue: errorClass) == nil {
            throw HTTPError(.badRequest, message: "error_class must be one of \(FailureClass.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let fingerprint = query.string("fingerprint")
        if let fingerprint, fingerprint.isEmpty || fingerprint.unicodeScalars.count > ErrorFingerprint.maximumLength {
            throw HTTPError(.badRequest, message: "fingerprint must be 1 to \(ErrorFingerprint.maximumLength) characters, as a grouping shows it")
        }
        return DeadLetterFilter(
            job: query.string("job"), errorText: query.string("error"), errorClass: errorClass, since: try query.date("since"),
            until: try query.date("until"), processed: try query.bool("processed"), parked: try query.bool("parked"), fingerprint: fingerprint)
    }

    /// `group_by`, when given; it lists groups, so it takes no row cursor.
    static func grouping(_ query: APIQuery) throws -> DeadLetterGrouping? {
        guard let text = query.string("group_by") else { return nil }
        guard let grouping = DeadLetterGrouping(rawValue: text) else {
            throw HTTPError(
                .badRequest,
                message: "group_by must be one of \(DeadLetterGrouping.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text.prefix(100))'")
        }
        guard query.string("after") == nil else { throw HTTPError(.badRequest, message: "after pages rows; it does not go with group_by") }
        return grouping
    }
}

/// Lets a request through only with the configured bearer token; logs every refusal
/// with the peer's address.
struct BearerTokenMiddleware: RouterMiddleware {
    let token: String?
    let logger: Logger

    func handle(
        _ request: Request, context: EngineRequestContext, next: (Request, EngineRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let token else {
            throw HTTPError(.serviceUnavailable, message: "the DLQ API is disabled: set DLQ_API_TOKEN to enable it")
        }
        let given = request.headers[.authorization] ?? ""
        // The scheme is case-insensitive (RFC 9110); the token is compared in full, so
        // the time taken says nothing about it.
        let parts = given.split(separator: " ", maxSplits: 1)
        let presented = parts.count == 2 && parts[0].lowercased() == "bearer" ? String(parts[1]) : ""
        guard presented.utf8.count == token.utf8.count, zip(presented.utf8, token.utf8).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
            logger.warning(
                "dlq_api_refused",
                metadata: [
                    "peer": "\(context.remoteAddress?.description ?? "unknown")", "method": "\(request.method)",
                    "path": "\(request.uri.path.prefix(200))", "reason": "\(given.isEmpty ? "no token" : "wrong token")",
                ])
            throw HTTPError(.unauthorized, message: "a valid bearer token is required")
        }
        return try await next(request, context)
    }
}
