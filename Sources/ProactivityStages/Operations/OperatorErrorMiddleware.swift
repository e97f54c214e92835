import Hummingbird
import Logging
import Observability
import ProactivityStore

/// How an operator route (the DLQ, jobs and explain APIs, the console) fails when
/// something other than a refusal of the request stops it: a database failure (not
/// reachable, or a statement it refused, such as a table missing before `proactivity
/// migrate`) answers 503 with the database's reason, and anything else the 500
/// Hummingbird makes of it; both are logged with the request's path, where before the
/// caller got an empty 500 and the log said nothing.
struct OperatorErrorMiddleware: RouterMiddleware {
    typealias Context = EngineRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            let path = request.uri.path
            guard DatabaseError.isDatabaseFailure(error) else {
                logger.error("http_request_failed", metadata: ["path": "\(path)", "error": "\(error)"])
                throw error
            }
            let reason = DatabaseError.describe(error)
            logger.warning("http_database_failed", metadata: ["path": "\(path)", "error": "\(reason)"])
            throw HTTPError(.serviceUnavailable, message: "the database failed this request: \(reason)")
        }
    }
}
