import ArgumentParser
import UnixSignals

/// Runs `benchmark` until it ends or the user stops it (SIGINT, SIGTERM, or SIGHUP when
/// its terminal closes). A signal cancels the benchmark, which removes what it created on
/// its way out (its topics and schema: those clean-ups run in tasks of their own, which
/// the cancellation does not reach); the command then exits 128 + the signal's number
/// (130, 143, 129), as a stopped command does.
func untilInterrupted<Report: Sendable>(
    progress: @escaping @Sendable (String) -> Void, _ benchmark: @escaping @Sendable () async throws -> Report
) async throws -> Report {
    let outcome = try await withThrowingTaskGroup(of: BenchmarkOutcome<Report>?.self) { group in
        group.addTask { .finished(try await benchmark()) }
        group.addTask {
            for await signal in await UnixSignalsSequence(trapping: .sigint, .sigterm, .sighup) { return .stopped(signal) }
            return nil
        }
        guard let first = try await group.next() ?? nil else { throw CancellationError() }
        if case .stopped = first { progress("stopping: removing the benchmark's topics (and schema)…") }
        group.cancelAll()
        // The benchmark's end (its clean-up included), whatever it throws once cancelled.
        while let _ = try? await group.next() {}
        return first
    }
    switch outcome {
    case .finished(let report): return report
    case .stopped(let signal): throw ExitCode(128 + signal.rawValue)
    }
}

/// How a benchmark run ended: with its report, or stopped by a signal.
private enum BenchmarkOutcome<Report: Sendable>: Sendable {
    case finished(Report)
    case stopped(UnixSignal)
}

/// A benchmark made of phases, each announced by a progress line.
protocol PhasedBenchmark {
    var progress: @Sendable (String) -> Void { get }
}

extension PhasedBenchmark {
    /// Prints the progress line of a phase about to start; a run the user stopped
    /// (cancelled) ends here instead.
    func phase(_ line: String) throws {
        try Task.checkCancellation()
        progress(line)
    }
}
