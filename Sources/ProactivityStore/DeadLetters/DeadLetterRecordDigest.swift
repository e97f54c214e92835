import Crypto
import Foundation

extension DeadLetterStore.Record {
    /// SHA-256 of the record's timestamp, key, value and headers, each length-prefixed
    /// (no two different records encode alike).
    ///
    /// With the record's coordinates it names the record: a topic deleted and created
    /// again starts its offsets at 0, so a later dead letter can stand at an earlier one's
    /// coordinates, and only its content tells them apart. Headers a DLQ record carries
    /// (the failure's times among them) differ between any two failures.
    public var digest: [UInt8] {
        var hash = SHA256()
        hash.update(data: Array("proactivity.dlq-record.v1".utf8))
        hash.update(optional: timestampMilliseconds.map { milliseconds in
            withUnsafeBytes(of: UInt64(bitPattern: milliseconds).bigEndian) { Array($0) }
        })
        hash.update(optional: key)
        hash.update(optional: value)
        hash.update(length: headers.count)
        for header in headers {
            hash.update(optional: Array(header.name.utf8))
            hash.update(optional: header.value.map { Array($0.utf8) })
        }
        return Array(hash.finalize())
    }
}

extension SHA256 {
    /// A presence byte, then (when present) the length and the bytes.
    fileprivate mutating func update(optional bytes: [UInt8]?) {
        guard let bytes else {
            update(data: [0])
            return
        }
        update(data: [1])
        update(length: bytes.count)
        update(data: bytes)
    }

    fileprivate mutating func update(length: Int) {
        withUnsafeBytes(of: UInt64(length).bigEndian) { update(bufferPointer: $0) }
    }
}
