import Hummingbird
import Logging
import Observability
import ProactivityStore

/// How an operator route (the DLQ, jobs and explain APIs) fails when something other
/// than a refusal of the request stops it: a database failure (not reachable, or a
/// statement it refused, such as a table missing before `proactivity migrate`) answers
/// 503 with the database's reason, and anything else the 500 Hummingbird makes of it;
/// both are logged with the request's path, where before the caller got an empty 500 and
/// the log said nothing. (The console shows its errors as pages of its own, the same
/// way: ``ConsoleGuard``.)
struct OperatorErrorMiddleware: RouterMiddleware {
    typealias Context = EngineRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            if let message = Self.databaseFailure(error, path: request.uri.path, logger: logger) {
                throw HTTPError(.serviceUnavailable, message: message)
            }
            logger.error("http_request_failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            throw error
        }
    }

    /// For a database failure: logs it (`http_database_failed`) and returns what to tell
    /// the caller with a 503; `nil` for any other error.
    static func databaseFailure(_ error: any Error, path: String, logger: Logger) -> String? {
        guard DatabaseError.isDatabaseFailure(error) else { return nil }
        let reason = DatabaseError.describe(error)
        logger.warning("http_database_failed", metadata: ["path": "\(path.prefix(200))", "error": "\(reason)"])
        return "the database failed this request: \(reason)"
    }
}
