import Foundation
import Hummingbird
import Logging
import Observability
import ProactivityCore
import ProactivityStore

/// The operator console: server-rendered pages under `/console` on the mirror's port
/// (jobs, alert lineage, DLQ triage and replay), for a browser on a laptop or a phone.
///
/// Off (503, with a page saying so) unless `DLQ_API_TOKEN` is set. Signing in with the
/// token sets a signed session cookie (HttpOnly, SameSite=Strict, Secure when the request
/// came over TLS: `X-Forwarded-Proto: https` or `CONSOLE_SECURE_COOKIE=true`; 8 hours);
/// every POST carries the session's CSRF token; failed sign-ins are limited per peer
/// (``SignInLimiter``) and logged with the peer, never with what was typed. Every value
/// is escaped by construction (``HTML``); the pages load no script.
public struct ConsoleRoutes: Sendable {
    let store: DeadLetterStore
    let replayer: DeadLetterReplayer
    let runner: ManualRunner
    let explainer: Explainer
    let events: JobEventStore
    let settings: EngineSettings
    let sessions: ConsoleSessions?
    let limiter = SignInLimiter()
    let lag: ConsumerLagLookup
    let logger: Logger

    /// - Parameter settings: the catalog, topics and groups shown, the token
    ///   (`dlqAPIToken`: none, no console) and `consoleSecureCookie`.
    public init(
        store: DeadLetterStore, replayer: DeadLetterReplayer, runner: ManualRunner, explainer: Explainer, events: JobEventStore,
        settings: EngineSettings, logger: Logger
    ) {
        self.store = store
        self.replayer = replayer
        self.runner = runner
        self.explainer = explainer
        self.events = events
        self.settings = settings
        self.sessions = settings.dlqAPIToken.map { ConsoleSessions(token: $0) }
        self.lag = ConsumerLagLookup { await Self.consumerLag(settings: settings, logger: logger) }
        self.logger = logger
    }

    var catalog: JobCatalog { settings.jobs }

    /// Adds the pages.
    public func register(on router: Router<EngineRequestContext>) {
        let console = router.group("console").add(middleware: ConsoleGuard(sessions: sessions, logger: logger))
        console.get { _, _ in Response(status: .seeOther, headers: [.location: "/console/dlq"]) }
        console.get("console.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: ConsoleStyle.css)))
        }
        console.get("sign-in") { request, _ in try signInPage(request) }
        console.post("sign-in") { request, context in try await signIn(request, context) }
        console.post("sign-out") { request, _ in signOut(request) }
        console.get("dlq") { request, context in try await deadLetterGroups(request, context) }
        console.get("dlq/rows") { request, context in try await deadLetterRows(request, context) }
        console.get("dlq/row") { request, context in try await deadLetterRow(request, context) }
        console.post("replay/preview") { request, context in try await replay(request, context, dryRun: true) }
        console.post("replay") { request, context in try await replay(request, context, dryRun: false) }
        console.get("jobs") { request, context in try await jobs(request, context) }
        console.post("jobs/run") { request, context in try await runJob(request, context) }
        console.get("lineage") { request, context in try await lineage(request, context) }
    }

    /// The CSRF token of the request's (verified) session.
    func csrf(_ request: Request) throws -> String {
        guard let sessions, let cookie = request.cookies[ConsoleSessions.cookieName]?.value, let session = sessions.verify(cookie) else {
            throw HTTPError(.forbidden, message: "Your session has ended: sign in again.")
        }
        return sessions.csrfToken(for: session)
    }

    /// The peer's address, for logs and the sign-in limit.
    static func peer(_ context: EngineRequestContext) -> String { context.remoteAddress?.ipAddress ?? "unknown" }
}
