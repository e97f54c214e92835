import Synchronization

/// What `/healthz` and `/readyz` report: the active job ids, and named readiness
/// conditions (broker reachable, database reachable, consumer assigned …), each either
/// satisfied or failing with a reason.
public final class HealthState: Sendable {
    /// The stage's name, e.g. `worker`.
    public let stage: String
    private let state = Mutex<(jobs: [String], conditions: [String: String?])>(([], [:]))

    public init(stage: String) {
        self.stage = stage
    }

    /// Sets the job ids `/healthz` lists.
    public func setJobs(_ jobs: [String]) { state.withLock { $0.jobs = jobs } }

    /// The job ids `/healthz` lists.
    public var jobs: [String] { state.withLock { $0.jobs } }

    /// Declares a condition, failing until first reported.
    public func require(_ name: String, initially reason: String = "not checked yet") {
        state.withLock { state in
            if state.conditions[name] == nil { state.conditions[name] = .some(reason) }
        }
    }

    /// Reports a condition: `nil` when satisfied, else why not.
    public func report(_ name: String, failing reason: String?) {
        state.withLock { $0.conditions[name] = .some(reason) }
    }

    /// Ready when every condition holds; otherwise the reasons, sorted by condition.
    public var readiness: (ready: Bool, checks: [String: String]) {
        state.withLock { state in
            let checks = state.conditions.mapValues { $0 ?? "ok" }
            return (state.conditions.values.allSatisfy { $0 == nil }, checks)
        }
    }
}
