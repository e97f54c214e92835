import AsyncAlgorithms
import ServiceLifecycle

/// Runs `body` (at once when `immediately`), then again each time `wait()` has passed
/// since it last started, until it returns `false`, a graceful shutdown or cancellation.
///
/// Time is kept by a timer ticking every `resolution` (a wait is rounded to whole ticks,
/// so `resolution` should divide it). A run longer than a tick does not make up the
/// ticks it missed: the timer hands those out at once when the run ends, and they are
/// skipped, so a slow body is never run back to back.
func repeatingUntilShutdown(
    every resolution: Duration, immediately: Bool = true, wait: () -> Duration, _ body: () async -> Bool
) async {
    if immediately, !(await body()) { return }
    var started = ContinuousClock.now
    var ended = started
    for await now in AsyncTimerSequence(interval: resolution, clock: .continuous).cancelOnGracefulShutdown() {
        // A missed tick comes right after the run's end; a tick's wake-up may be late by
        // a little, which half a tick of slack absorbs.
        guard now - ended >= .milliseconds(10), now - started >= wait() - resolution / 2 else { continue }
        started = now
        guard await body() else { return }
        ended = .now
    }
}
