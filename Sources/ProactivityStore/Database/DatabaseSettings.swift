import Foundation
import NIOSSL
import Logging
import PostgresNIO

/// Where the PostgreSQL database is, read from a `postgres://` URL.
///
/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE&schema=NAME` with `sslmode`
/// one of `disable` (default), `prefer`, `require` (encrypted, certificate not checked)
/// or `verify-full` (encrypted, certificate and host name checked), and `schema` the
/// schema our tables live in (the connection's `search_path`; default: the server's).
/// The password never appears in ``description`` or in errors.
public struct DatabaseSettings: Sendable, CustomStringConvertible {
    /// TLS to the server.
    public enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode
    /// The schema for our tables (`search_path`), if not the server's default.
    public var schema: String?
    /// Connections of the process's pool at most (`POSTGRES_MAX_CONNECTIONS`), within
    /// ``maximumConnectionsRange``. Every replica opens up to this many: their sum must
    /// fit in the server's `max_connections`.
    public var maximumConnections = Self.defaultMaximumConnections

    /// PostgresNIO's own default.
    public static let defaultMaximumConnections = 20
    /// Connections kept beside the worker's window cursors for what each tick does while
    /// its cursor is open (the ledger lookup of a page and its writes) and for the health
    /// probe: with every connection held by a cursor, those would wait for good, and the
    /// cursors with them.
    public static let connectionsBesideCursors = 4
    /// At least one window cursor beside ``connectionsBesideCursors``.
    public static let maximumConnectionsRange = (connectionsBesideCursors + 1)...1000

    /// How many ticks of a worker read their windows at once: each holds a connection for
    /// as long as its cursor runs; the others wait for one of them to end.
    public var windowCursorLimit: Int { maximumConnections - Self.connectionsBesideCursors }

    /// A URL that cannot be used.
    public struct InvalidURL: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses a `postgres://` (or `postgresql://`) URL.
    /// - Throws: ``InvalidURL`` saying what is wrong (without the password).
    public init(url: String) throws(InvalidURL) {
        guard let components = URLComponents(string: url),
            ["postgres", "postgresql"].contains(components.scheme ?? "")
        else {
            throw InvalidURL(description: "the database URL must look like postgres://user:password@host:5432/database")
        }
        guard let host = components.host, !host.isEmpty else {
            throw InvalidURL(description: "the database URL names no host")
        }
        guard let username = components.user, !username.isEmpty else {
            throw InvalidURL(description: "the database URL names no user")
        }
        let database = String(components.path.drop { $0 == "/" })
        let modeText = components.queryItems?.first { $0.name == "sslmode" }?.value ?? TLSMode.disable.rawValue
        guard let tlsMode = TLSMode(rawValue: modeText) else {
            throw InvalidURL(
                description: "unknown sslmode '\(modeText)' (use one of: \(TLSMode.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw InvalidURL(description: "the database URL's port \(port) is not 1…65535") }
        self.host = host
        self.port = port
        self.username = username
        // URLComponents decodes percent-encoding already: decoding again would turn a
        // password containing "%41" into one containing "A".
        self.password = components.password
        self.database = database.isEmpty ? username : database
        self.tlsMode = tlsMode
        self.schema = components.queryItems?.first { $0.name == "schema" }?.value
    }

    /// The URL of these settings, password included: what a child process is given as
    /// its `POSTGRES_URL` (another schema set first, for instance). Never log it; reading
    /// it back gives these settings.
    public var url: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = username
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: tlsMode.rawValue)] + (schema.map { [URLQueryItem(name: "schema", value: $0)] } ?? [])
        return components.string ?? ""
    }

    /// The URL with the password replaced by `***`.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
            + (schema.map { "&schema=\($0)" } ?? "")
    }

    /// The TLS settings of `sslmode`, and whether a plain connection is acceptable;
    /// `nil` for `disable`.
    private var tls: (configuration: TLSConfiguration, optional: Bool)? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable: return nil
        case .verifyFull: return (configuration, false)
        case .prefer, .require:
            configuration.certificateVerification = .none
            return (configuration, tlsMode == .prefer)
        }
    }

    /// The PostgresNIO client configuration.
    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch self.tls {
            case nil: .disable
            case let (configuration, optional)?: optional ? .prefer(configuration) : .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        // JIT compiled a big window's query for 100–200 ms of CPU before its first row,
        // every tick: not worth it for our queries.
        // Operators find the engine's backends in pg_stat_activity by its name.
        configuration.options.additionalStartupParameters = [("jit", "off"), ("application_name", "proactivity")]
        if let schema { configuration.options.additionalStartupParameters.append(("search_path", schema)) }
        return configuration
    }
}

extension DatabaseSettings {
    /// Why one direct connection fails (PostgreSQL's own reason: a wrong password
    /// `28P01`, a refused TLS handshake, an unknown database), or `nil` when it succeeds.
    /// The pool retries such failures silently; this says what they are.
    public func connectionFailure(logger: Logger) async -> String? {
        do {
            let tls: PostgresConnection.Configuration.TLS =
                switch self.tls {
                case nil: .disable
                case let (configuration, optional)?:
                    optional ? .prefer(try NIOSSLContext(configuration: configuration)) : .require(try NIOSSLContext(configuration: configuration))
                }
            var configuration = PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls)
            configuration.options.connectTimeout = .seconds(5)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
            return nil
        } catch {
            return DatabaseError.describe(error)
        }
    }
}
