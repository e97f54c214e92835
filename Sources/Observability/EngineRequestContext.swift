import Hummingbird
import NIOCore

/// The request context of every HTTP endpoint: Hummingbird's basics plus the peer's
/// address, so refused requests can be logged with where they came from.
public struct EngineRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connected peer, when the transport has one.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
