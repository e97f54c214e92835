import Dispatch

/// Runs a blocking librdkafka call off Swift's cooperative threads and resumes the
/// caller when it returns.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try body() })
        }
    }
}
