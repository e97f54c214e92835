import Foundation
import Hummingbird
import Logging
import Observability

/// A header's name (`HTTPField.Name`, reached through Hummingbird's `HTTPFields`).
typealias HeaderName = HTTPFields.Element.Name

/// In front of every `/console` route: answers 503 with a page saying how to turn the
/// console on while `DLQ_API_TOKEN` is unset; sends a signed-out browser to the sign-in
/// page (a POST without a session gets 403); refuses a POST whose `csrf` field is not
/// its session's token (403); shows a database failure as a 503 page with the database's
/// reason (``OperatorErrorMiddleware/databaseFailure(_:path:logger:)``); adds the security headers (a strict Content-Security-Policy
/// without inline script or style, no framing, no sniffing, no caching) to every answer,
/// errors included, which are shown as pages.
struct ConsoleGuard: RouterMiddleware {
    let sessions: ConsoleSessions?
    let logger: Logger

    /// Paths reachable without a session.
    static let open: Set<String> = ["/console/sign-in", "/console/console.css"]

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        HeaderName("X-Content-Type-Options")!: "nosniff",
        HeaderName("X-Frame-Options")!: "DENY",
        HeaderName("Referrer-Policy")!: "no-referrer",
        .cacheControl: "no-store",
    ]

    func handle(
        _ request: Request, context: EngineRequestContext, next: (Request, EngineRequestContext) async throws -> Response
    ) async throws -> Response {
        var response: Response
        do {
            response = try await guarded(request, context: context, next: next)
        } catch let error as HTTPError {
            response = ConsoleLayout.errorPage(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch {
            if let message = OperatorErrorMiddleware.databaseFailure(error, path: request.uri.path, logger: logger) {
                response = ConsoleLayout.errorPage(status: .serviceUnavailable, message: message)
            } else {
                logger.error("console_error", metadata: ["path": "\(request.uri.path.prefix(200))", "error": "\(String(reflecting: error).prefix(500))"])
                response = ConsoleLayout.errorPage(status: .internalServerError, message: "the console could not answer; see the engine's log (console_error)")
            }
        }
        for field in Self.securityHeaders where response.headers[field.name] == nil { response.headers.append(field) }
        return response
    }

    private func guarded(
        _ request: Request, context: EngineRequestContext, next: (Request, EngineRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let sessions else {
            throw HTTPError(.serviceUnavailable, message: "The console is off: set DLQ_API_TOKEN on the dlq-mirror stage to turn it on.")
        }
        if Self.open.contains(request.uri.path) { return try await next(request, context) }
        guard let cookie = request.cookies[ConsoleSessions.cookieName]?.value, let session = sessions.verify(cookie) else {
            guard request.method == .get || request.method == .head else {
                throw HTTPError(.forbidden, message: "Your session has ended: sign in again.")
            }
            return Response(status: .seeOther, headers: [.location: "/console/sign-in"])
        }
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let given = String(decoding: body.readableBytesView, as: UTF8.self).split(separator: "&")
            .first { $0.hasPrefix("csrf=") }.map { String($0.dropFirst(5)).removingPercentEncoding ?? "" } ?? ""
        guard sessions.isValidCSRF(given, for: session) else {
            logger.warning(
                "console_csrf_refused",
                metadata: ["peer": "\(context.remoteAddress?.ipAddress ?? "unknown")", "path": "\(request.uri.path.prefix(200))"])
            throw HTTPError(.forbidden, message: "This form has no valid CSRF token: reload the page and try again.")
        }
        return try await next(request, context)
    }
}
