import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ProactivityCore
@testable import ProactivityStages
import ProactivityStore
import Testing

/// The console's defences through its router: off without a token, sign-in and its
/// cookie, CSRF, forged and expired cookies, escaping of hostile record bytes, the
/// security headers, and the sign-in limit.
@Suite(.timeLimit(.minutes(3)))
struct ConsoleSecurityTests {
    static let hostile = #"<script>alert("x")</script>"#

    /// The session cookie's value from a response's `Set-Cookie`.
    static func cookie(_ response: TestResponse) throws -> String {
        let header = try #require(response.headers[.setCookie])
        let pair = try #require(header.split(separator: ";").first)
        return String(pair.split(separator: "=", maxSplits: 1)[1])
    }

    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\(ConsoleURL.encode($0.0))=\(ConsoleURL.encode($0.1))" }.joined(separator: "&"))
    }

    static let formType: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    static func withCookie(_ cookie: String) -> HTTPFields { [.cookie: "\(ConsoleSessions.cookieName)=\(cookie)"] }

    /// The CSRF token in a page's forms.
    static func csrf(in page: String) throws -> String {
        let marker = #"name="csrf" value=""#
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }

    @Test func theConsoleIsOffWithoutAToken() async throws {
        try await PipelineHarness.with { harness in
            var environment = try harness.environment()
            environment["DLQ_API_TOKEN"] = nil
            let assembly = try StageAssembly(stages: [.mirror], settings: try await EngineSettings.load(environment: environment), logger: harness.logger)
            try await ObservabilityApp.make(assembly).test(.router) { client in
                for (uri, method) in [("/console/dlq", HTTPRequest.Method.get), ("/console/sign-in", .get), ("/console/sign-in", .post)] {
                    try await client.execute(uri: uri, method: method) { response in
                        #expect(response.status == .serviceUnavailable, "\(method) \(uri)")
                        #expect(String(buffer: response.body).contains("set DLQ_API_TOKEN"))
                        #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                    }
                }
            }
        }
    }

    @Test func theFilterFormKeepsEveryChoiceOfThePageIncludingALinksTimeRange() async throws {
        try await PipelineHarness.with { harness in
            try await harness.withWorker(stages: [.mirror]) { assembly in
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    let cookie = ConsoleSessions(token: PipelineHarness.apiToken).issue().cookie
                    let query = "since=2026-11-25T10%3A00%3A00Z&until=2026-11-25T11%3A00%3A00Z&fingerprint=f1&within=24h"
                    for page in ["/console/dlq?group_by=job&\(query)", "/console/dlq/rows?\(query)"] {
                        let html = try await client.execute(uri: page, method: .get, headers: Self.withCookie(cookie)) { response in
                            #expect(response.status == .ok, "\(page)")
                            return String(buffer: response.body)
                        }
                        let form = html[try #require(html.range(of: #"<form class="filters panel""#)).lowerBound...]
                        let fields = form[..<(try #require(form.range(of: "</form>"))).lowerBound]
                        for field in [
                            #"name="since" value="2026-11-25T10:00:00.000Z""#, #"name="until" value="2026-11-25T11:00:00.000Z""#,
                            #"name="fingerprint" value="f1""#, #"<option value="24h" selected>"#,
                        ] {
                            #expect(fields.contains(field), "\(page): the filter form lacks \(field)")
                        }
                    }
                }
            }
        }
    }

    @Test func signInCookieCSRFForgeryExpiryEscapingAndTheSignInLimit() async throws {
        try await PipelineHarness.with { harness in
            let store = DeadLetterStore(client: harness.client, logger: harness.logger)
            try await ReplayTrustTests().mirror(store, harness, offset: 1, origin: harness.ticksTopic, headers: [Self.hostile: Self.hostile])
            let id = try #require(try await store.list(DeadLetterFilter()).first?.id)
            try await harness.withWorker(stages: [.mirror]) { assembly in
                try await ObservabilityApp.make(assembly).test(.router) { client in
                    // Signed out: pages send the browser to the sign-in page; a POST is refused.
                    try await client.execute(uri: "/console/dlq", method: .get) { response in
                        #expect(response.status == .seeOther && response.headers[.location] == "/console/sign-in")
                    }
                    try await client.execute(uri: "/console/replay", method: .post, headers: Self.formType, body: Self.form([("scope", "filter")])) {
                        #expect($0.status == .forbidden)
                    }
                    // A wrong token: 401, and the page does not echo what was typed.
                    try await client.execute(
                        uri: "/console/sign-in", method: .post, headers: Self.formType, body: Self.form([("token", "wrong-\(Self.hostile)")])
                    ) { response in
                        #expect(response.status == .unauthorized)
                        #expect(response.headers[.setCookie] == nil)
                        #expect(!String(buffer: response.body).contains("wrong-"))
                    }
                    // The token: a session cookie, HttpOnly and SameSite=Strict, Secure behind TLS only.
                    let cookie = try await client.execute(
                        uri: "/console/sign-in", method: .post, headers: Self.formType, body: Self.form([("token", PipelineHarness.apiToken)])
                    ) { response in
                        #expect(response.status == .seeOther && response.headers[.location] == "/console/dlq")
                        let header = try #require(response.headers[.setCookie])
                        #expect(header.contains("HttpOnly") && header.contains("SameSite=Strict") && header.contains("Max-Age=28800"))
                        #expect(!header.contains("Secure"))
                        return try Self.cookie(response)
                    }
                    var overTLS = Self.formType
                    overTLS[HTTPField.Name("X-Forwarded-Proto")!] = "https"
                    try await client.execute(
                        uri: "/console/sign-in", method: .post, headers: overTLS, body: Self.form([("token", PipelineHarness.apiToken)])
                    ) { response in
                        #expect(response.headers[.setCookie]?.hasSuffix("; Secure") == true)
                    }

                    // Hostile header bytes render as text; the page carries the security headers.
                    let page = try await client.execute(uri: "/console/dlq/row?id=\(id)", method: .get, headers: Self.withCookie(cookie)) { response in
                        #expect(response.status == .ok)
                        let csp = try #require(response.headers[.contentSecurityPolicy])
                        #expect(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
                        #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                        return String(buffer: response.body)
                    }
                    #expect(!page.contains("<script"), "no script element reaches the page")
                    #expect(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"), "the header's name and value are shown as text")

                    // CSRF: a POST without the token, or with another session's, is refused; with it, it passes.
                    let csrf = try Self.csrf(in: page)
                    let replay = [("scope", "selected"), ("id", String(id))]
                    var headers = Self.withCookie(cookie)
                    headers[.contentType] = "application/x-www-form-urlencoded"
                    let otherSession = ConsoleSessions(token: PipelineHarness.apiToken).issue().session
                    let otherCSRF = ConsoleSessions(token: PipelineHarness.apiToken).csrfToken(for: otherSession)
                    for fields in [replay, replay + [("csrf", "")], replay + [("csrf", otherCSRF)], replay + [("csrf", csrf + "x")]] {
                        try await client.execute(uri: "/console/replay/preview", method: .post, headers: headers, body: Self.form(fields)) { response in
                            #expect(response.status == .forbidden, "\(fields)")
                            #expect(String(buffer: response.body).contains("CSRF"))
                        }
                    }
                    try await client.execute(uri: "/console/replay/preview", method: .post, headers: headers, body: Self.form(replay + [("csrf", csrf)])) {
                        #expect($0.status == .ok)
                        #expect(String(buffer: $0.body).contains("Dry run: 1 of 1 row(s) would be republished"))
                    }
                    #expect(try await store.list(DeadLetterFilter()).first?.processedAt == nil, "a preview replays nothing")

                    // Forged, altered, foreign and expired cookies are refused.
                    let parts = cookie.split(separator: ".").map(String.init)
                    let later = String(Int(Date().timeIntervalSince1970) + 999_999)
                    let expired = ConsoleSessions(token: PipelineHarness.apiToken).issue(now: Date().addingTimeInterval(-9 * 3600)).cookie
                    let foreign = ConsoleSessions(token: "another-token").issue().cookie
                    for bad in [[parts[0], later, parts[2], parts[3]].joined(separator: "."), cookie + "A", expired, foreign, "v1.1.2.3", Self.hostile] {
                        try await client.execute(uri: "/console/dlq", method: .get, headers: Self.withCookie(bad)) { response in
                            #expect(response.status == .seeOther && response.headers[.location] == "/console/sign-in", "\(bad)")
                        }
                    }
                    try await client.execute(uri: "/console/dlq", method: .get, headers: Self.withCookie(cookie)) { #expect($0.status == .ok) }

                    // Five failed sign-ins from one peer (the wrong token above was the first):
                    // the next attempt waits, even with the token.
                    for attempt in 1...4 {
                        try await client.execute(uri: "/console/sign-in", method: .post, headers: Self.formType, body: Self.form([("token", "guess\(attempt)")])) {
                            #expect($0.status == .unauthorized)
                        }
                    }
                    try await client.execute(
                        uri: "/console/sign-in", method: .post, headers: Self.formType, body: Self.form([("token", PipelineHarness.apiToken)])
                    ) { response in
                        #expect(response.status == .tooManyRequests)
                        #expect(response.headers[.setCookie] == nil)
                        #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
                    }
                }
            }
        }
    }
}
