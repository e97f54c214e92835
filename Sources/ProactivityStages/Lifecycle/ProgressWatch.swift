import Foundation
import Observability
import ServiceLifecycle
import Synchronization

/// Watches that a stage holding work makes progress, so readiness never says "ready"
/// while nothing moves: work in progress with no progress for `notReadyAfter` makes the
/// stage's `<stage>.progress` condition fail with the reason; for `wedgedAfter`, `/healthz`
/// fails too, so an orchestrator restarts the process. Waiting for an unreachable
/// dependency (the circuit breaker is open) is not a wedge: readiness names the
/// dependency, and the watch holds its clock.
final class ProgressWatch: Sendable {
    private struct State {
        var inProgress = 0
        var lastProgress = ContinuousClock.now
        var waitingForDependency = false
    }

    let condition: ReadinessCondition
    let notReadyAfter: Duration
    let wedgedAfter: Duration
    private let state = Mutex(State())

    init(condition: ReadinessCondition, notReadyAfter: Duration = .seconds(60), wedgedAfter: Duration = .seconds(600)) {
        self.condition = condition
        self.notReadyAfter = notReadyAfter
        self.wedgedAfter = wedgedAfter
    }

    /// A piece of work (a tick) started.
    func started() {
        state.withLock { state in
            if state.inProgress == 0 { state.lastProgress = .now }
            state.inProgress += 1
        }
    }

    /// A piece of work ended (done, dead-lettered or abandoned): that is progress too.
    func finished() {
        state.withLock { state in
            state.inProgress -= 1
            state.lastProgress = .now
        }
    }

    /// Work moved (a page of alerts acknowledged).
    func advanced() { state.withLock { $0.lastProgress = .now } }

    /// The stage waits for an unreachable dependency (`true`) or no longer does.
    func waitingForDependency(_ waiting: Bool) {
        state.withLock { state in
            state.waitingForDependency = waiting
            state.lastProgress = .now
        }
    }

    /// Reports the stage's progress to readiness and liveness.
    func report(to health: HealthState) {
        let (stalled, inProgress): (Duration?, Int) = state.withLock { state in
            guard state.inProgress > 0, !state.waitingForDependency else { return (nil, state.inProgress) }
            return (.now - state.lastProgress, state.inProgress)
        }
        guard let stalled, stalled >= notReadyAfter else {
            health.report(condition, failing: nil)
            health.reportWedged(nil)
            return
        }
        let reason = "\(inProgress) in progress, no progress for \(stalled.components.seconds) s"
        health.report(condition, failing: reason)
        health.reportWedged(stalled >= wedgedAfter ? "\(condition): \(reason)" : nil)
    }

    /// Reports every few seconds until graceful shutdown or cancellation.
    func run(reportingTo health: HealthState, every interval: Duration = .seconds(5)) async {
        health.report(condition, failing: nil)
        await repeatingUntilShutdown(every: interval, wait: { interval }) {
            report(to: health)
            return true
        }
    }
}
