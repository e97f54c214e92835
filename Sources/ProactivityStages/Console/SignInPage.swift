import Foundation
import Hummingbird
import Observability

/// `GET/POST /console/sign-in` and `POST /console/sign-out`.
extension ConsoleRoutes {
    func signInPage(_ request: Request, message: String? = nil, status: HTTPResponse.Status = .ok) throws -> Response {
        _ = try FormFields.query(of: request, known: [])
        return ConsoleLayout.page("Sign in", section: nil, csrf: nil, status: status) {
            el("div", .class("signin panel")) {
                if let message { el("p", .class("error"), HTMLAttribute("role", "alert")) { message } }
                el("form", HTMLAttribute("method", "post"), .action("/console/sign-in")) {
                    el("label") {
                        "Operator token (DLQ_API_TOKEN)"
                        el("input", .type("password"), .name("token"), .id("token"), HTMLAttribute("autocomplete", "current-password"), .flag("required"))
                    }
                    el("button", .type("submit")) { "Sign in" }
                }
            }
        }
    }

    func signIn(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        guard let sessions else { throw HTTPError(.serviceUnavailable) }
        let peer = Self.peer(context)
        let check = limiter.check(peer)
        guard check.allowed else {
            logger.warning("console_sign_in_limited", metadata: ["peer": "\(peer)", "retry_after_seconds": "\(check.retryAfter)"])
            var response = try signInPage(
                request, message: "Too many failed sign-ins from your address: try again in \(check.retryAfter) s.", status: .tooManyRequests)
            response.headers[.retryAfter] = String(check.retryAfter)
            return response
        }
        let fields = try await FormFields.body(of: request, known: ["token"])
        guard let given = try fields.value("token"), sessions.isToken(given) else {
            limiter.recordFailure(peer)
            logger.warning("console_sign_in_refused", metadata: ["peer": "\(peer)"])
            return try signInPage(request, message: "That is not the operator token.", status: .unauthorized)
        }
        let cookie = sessions.issue().cookie
        logger.notice("console_signed_in", metadata: ["peer": "\(peer)"])
        var response = Response(status: .seeOther, headers: [.location: "/console/dlq"])
        response.headers[.setCookie] = cookieHeader(cookie, maxAge: Int(sessions.lifetime), request: request)
        return response
    }

    func signOut(_ request: Request) -> Response {
        var response = Response(status: .seeOther, headers: [.location: "/console/sign-in"])
        response.headers[.setCookie] = cookieHeader("", maxAge: 0, request: request)
        return response
    }

    /// The session cookie: HttpOnly, SameSite=Strict, scoped to the console, Secure over TLS.
    func cookieHeader(_ value: String, maxAge: Int, request: Request) -> String {
        let overTLS = settings.consoleSecureCookie || request.headers[HeaderName("X-Forwarded-Proto")!]?.lowercased() == "https"
        return "\(ConsoleSessions.cookieName)=\(value); Path=/console; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (overTLS ? "; Secure" : "")
    }
}
