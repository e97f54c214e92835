import Foundation
import Synchronization

/// What `/healthz` and `/readyz` report: the active job ids, whether the process is
/// wedged beyond repair, and readiness conditions (``ReadinessCondition``), each owned by
/// the one component that writes it and either satisfied or failing with a reason, since
/// a time. Ready means every condition holds; no writer can overwrite another's failure.
public final class HealthState: Sendable {
    private struct Condition {
        var failure: String?
        /// When the condition last turned from satisfied to failing or back.
        var since: Date
    }

    /// The stage's name, e.g. `worker`.
    public let stage: String
    private let state = Mutex<(jobs: [String], conditions: [String: Condition], wedged: String?)>(([], [:], nil))

    public init(stage: String) {
        self.stage = stage
    }

    /// Sets the job ids `/healthz` lists.
    public func setJobs(_ jobs: [String]) { state.withLock { $0.jobs = jobs } }

    /// The job ids `/healthz` lists.
    public var jobs: [String] { state.withLock { $0.jobs } }

    /// Declares a condition, failing until first reported.
    public func require(_ condition: ReadinessCondition, initially reason: String = "not checked yet") {
        let name = condition.name
        state.withLock { state in
            if state.conditions[name] == nil { state.conditions[name] = Condition(failure: reason, since: Date()) }
        }
    }

    /// Reports a condition: `nil` when satisfied, else why not. Only its owner writes it.
    public func report(_ condition: ReadinessCondition, failing reason: String?) {
        let name = condition.name
        state.withLock { state in
            let now = Date()
            guard var condition = state.conditions[name] else {
                state.conditions[name] = Condition(failure: reason, since: now)
                return
            }
            if (condition.failure == nil) != (reason == nil) { condition.since = now }
            condition.failure = reason
            state.conditions[name] = condition
        }
    }

    /// Says the process is wedged beyond repair (`/healthz` then fails, so an
    /// orchestrator restarts it), or, with `nil`, that it is not.
    public func reportWedged(_ reason: String?) { state.withLock { $0.wedged = reason } }

    /// Why the process is wedged beyond repair, or `nil` while it is alive.
    public var wedged: String? { state.withLock { $0.wedged } }

    /// Ready when every condition holds; each condition's `ok` or reason, and since when
    /// it has been so (ISO 8601).
    public var readiness: (ready: Bool, checks: [String: String], since: [String: String]) {
        state.withLock { state in
            (
                state.conditions.values.allSatisfy { $0.failure == nil }, state.conditions.mapValues { $0.failure ?? "ok" },
                state.conditions.mapValues { $0.since.formatted(Date.ISO8601FormatStyle()) }
            )
        }
    }
}
