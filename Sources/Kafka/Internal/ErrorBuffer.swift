extension String {
    /// The text librdkafka wrote into a NUL-terminated error buffer.
    init(errorBuffer buffer: [CChar]) {
        self = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
