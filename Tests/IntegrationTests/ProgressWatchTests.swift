import Foundation
import Observability
@testable import ProactivityStages
import Testing

/// A stage holding work that does not move is not ready, then not alive; one waiting for
/// an unreachable dependency is neither (readiness names the dependency instead).
@Suite struct ProgressWatchTests {
    @Test func workWithoutProgressFailsReadiness() async throws {
        let health = HealthState(stage: "worker")
        let watch = ProgressWatch(condition: .workerProgress, notReadyAfter: .milliseconds(50), wedgedAfter: .seconds(3600))
        watch.started()
        watch.report(to: health)
        #expect(health.readiness.ready && health.wedged == nil, "fresh work is progress")

        try await eventually(within: .seconds(5), "readiness fails while the work does not move") {
            watch.report(to: health)
            return health.readiness.checks["worker.progress"]?.contains("1 in progress, no progress for") == true
        }
        #expect(health.wedged == nil, "not wedged before its bound")

        watch.advanced()
        watch.report(to: health)
        #expect(health.readiness.ready && health.wedged == nil, "a page acknowledged is progress")
    }

    @Test func workWithoutProgressPastTheSecondBoundFailsLiveness() async throws {
        let health = HealthState(stage: "worker")
        let watch = ProgressWatch(condition: .workerProgress, notReadyAfter: .milliseconds(10), wedgedAfter: .milliseconds(50))
        watch.started()
        try await eventually(within: .seconds(5), "liveness fails past the second bound") {
            watch.report(to: health)
            return health.wedged?.contains("worker.progress") == true
        }
        watch.finished()
        watch.report(to: health)
        #expect(health.wedged == nil && health.readiness.ready, "finished work clears it")
    }

    @Test func waitingForADependencyIsNotAWedge() async throws {
        let health = HealthState(stage: "worker")
        let watch = ProgressWatch(condition: .workerProgress, notReadyAfter: .milliseconds(20), wedgedAfter: .milliseconds(40))
        watch.started()
        watch.waitingForDependency(true)
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .milliseconds(100) {
            watch.report(to: health)
            #expect(health.readiness.checks["worker.progress"] == "ok" && health.wedged == nil)
            try await Task.sleep(for: .milliseconds(10))
        }
        watch.finished()
        watch.report(to: health)
        #expect(health.readiness.ready, "no work, nothing to wait for")
    }
}
