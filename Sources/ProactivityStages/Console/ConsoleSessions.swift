import Crypto
import Foundation

/// Signed console sessions: the cookie a sign-in sets, and the CSRF token of each form.
///
/// A cookie is `v1.<expiry>.<session id>.<mac>`: the expiry in seconds since 1970, 16
/// random bytes, and an HMAC-SHA256 over the rest, all base64url. The key is derived from
/// `DLQ_API_TOKEN` (HKDF), so every mirror replica accepts the sessions of the others and
/// changing the token ends every session; nothing is stored server-side. A cookie with a
/// wrong MAC (forged or altered) or past its expiry is refused. The CSRF token is an HMAC
/// of the session id under the same key: bound to the session, it cannot be made without
/// the key.
struct ConsoleSessions: Sendable {
    private let key: SymmetricKey
    /// The token's MAC, to check a sign-in against in constant time.
    private let tokenMAC: HashedAuthenticationCode<SHA256>
    /// How long a session lasts.
    let lifetime: TimeInterval

    static let cookieName = "proactivity_console"

    init(token: String, lifetime: TimeInterval = 8 * 3600) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(token.utf8)), salt: Data("proactivity-console".utf8),
            info: Data("session-v1".utf8), outputByteCount: 32)
        tokenMAC = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: key)
        self.lifetime = lifetime
    }

    /// Whether `given` is the token (compared as MACs, in constant time, whatever its length).
    func isToken(_ given: String) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(tokenMAC, authenticating: Data(given.utf8), using: key)
    }

    /// A verified session.
    struct Session: Sendable, Hashable {
        /// base64url of 16 random bytes.
        let id: String
        let expires: Date
    }

    /// A new session's cookie value.
    func issue(now: Date = Date()) -> (session: Session, cookie: String) {
        var random = SystemRandomNumberGenerator()
        let id = Self.base64url(Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }))
        let expires = Int(now.timeIntervalSince1970 + lifetime)
        let body = "v1.\(expires).\(id)"
        return (Session(id: id, expires: Date(timeIntervalSince1970: Double(expires))), body + "." + mac(body))
    }

    /// The session of a cookie value; `nil` when it is malformed, forged, or expired.
    func verify(_ cookie: String, now: Date = Date()) -> Session? {
        guard cookie.utf8.count <= 200 else { return nil }
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expires = Int(parts[1]), let given = Self.data(base64url: parts[3]) else { return nil }
        let body = parts[0...2].joined(separator: ".")
        guard HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data(body.utf8), using: key) else { return nil }
        let expiry = Date(timeIntervalSince1970: Double(expires))
        guard expiry > now else { return nil }
        return Session(id: String(parts[2]), expires: expiry)
    }

    /// The CSRF token of a session's forms.
    func csrfToken(for session: Session) -> String { mac("csrf." + session.id) }

    /// Whether `token` is the session's CSRF token (compared in constant time).
    func isValidCSRF(_ token: String, for session: Session) -> Bool {
        guard let given = Self.data(base64url: Substring(token)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data(("csrf." + session.id).utf8), using: key)
    }

    private func mac(_ text: String) -> String {
        Self.base64url(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64url text: Substring) -> Data? {
        guard text.utf8.count <= 100, text.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            return nil
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
