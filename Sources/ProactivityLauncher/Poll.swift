/// Calls `value` every `interval` until it returns a value or `limit` has passed: the one
/// way the tests and the benchmarks wait for something outside them (a process, a
/// broker, a database row) that cannot tell them when it is done.
/// - Returns: the first value, or `nil` when `limit` passed first; the caller says what
///   did not happen (a thrown error, a test issue), in its own terms.
public func poll<Value>(every interval: Duration, within limit: Duration, _ value: () async throws -> Value?) async throws -> Value? {
    let deadline = ContinuousClock.now + limit
    while true {
        if let value = try await value() { return value }
        guard ContinuousClock.now < deadline else { return nil }
        try await Task.sleep(for: interval)
    }
}

/// Checks `condition` every `interval` until it holds or `limit` has passed.
/// - Returns: whether it held in time.
public func poll(every interval: Duration, within limit: Duration, until condition: () async throws -> Bool) async throws -> Bool {
    try await poll(every: interval, within: limit) { try await condition() ? true : nil } ?? false
}
