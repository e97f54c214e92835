import Hummingbird
import Observability

/// Routes an operator uses (the DLQ, running jobs, explaining alerts), served on the
/// mirror's port behind `DLQ_API_TOKEN` (a bearer token, or the console's sign-in).
public protocol OperatorRoutes: Sendable {
    /// Adds the routes, each behind the bearer token.
    func register(on router: Router<EngineRequestContext>)
}

extension DeadLetterAPI: OperatorRoutes {}
extension JobsAPI: OperatorRoutes {}
extension ExplainAPI: OperatorRoutes {}
extension ConsoleRoutes: OperatorRoutes {}
