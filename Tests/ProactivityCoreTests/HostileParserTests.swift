import Foundation
import ProactivityCore
import Testing

/// Every parser of outside input answers random and malicious input with a value or an
/// error, never a trap. Bounded: they run in CI on every push.
@Suite struct HostileParserTests {
    static func randomText(_ alphabet: [Character], maxLength: Int) -> String {
        String((0..<Int.random(in: 0...maxLength)).map { _ in alphabet.randomElement()! })
    }

    @Test func cronExpressions() {
        let alphabet = Array("0123456789*/,-LW#? abcxyzJANMONsun") + ["9999999999999999999", "\u{0}", "٣", "🎉"].flatMap { Array($0) }
        for _ in 0..<5_000 {
            let text = Self.randomText(alphabet, maxLength: 40)
            if let expression = try? CronExpression(text) {
                // A parsed expression computes slots without trapping too.
                _ = Schedule.cron(expression, timeZone: .gmt).slot(after: Date())
            }
        }
        for text in ["*/0 * * * *", "0-99999999999999999999 * * * *", "5-1 * * * *", "* * * * * * *", "60 * * * *", "*/-1 * * * *"] {
            _ = try? CronExpression(text)
        }
    }

    @Test func ticks() {
        let valid = Array(MessageCoding.encode(TickMessage(job: BuiltInJobs.eventReminder, slot: Date(timeIntervalSince1970: 1_800_000_000), producedAt: Date())))
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8) {
                switch Int.random(in: 0...2) {
                case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count)] = UInt8.random(in: 0...255)
                case 1 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count))
                default: bytes.insert(UInt8.random(in: 0...255), at: Int.random(in: 0...bytes.count))
                }
            }
            if let tick = try? MessageCoding.decode(TickMessage.self, from: bytes) {
                _ = try? tick.validated(for: BuiltInJobs.eventReminder, now: Date())
            }
        }
        for hostile in [
            #"{"schema_version":1,"tick_id":"x","job_name":"event-reminder","slot":"99999-01-01T00:00:00Z","window_start":"x","window_end":"y","shard":0,"shard_count":0,"coalesced_slots":0,"produced_at":"2026-01-01T00:00:00Z"}"#,
            #"{"schema_version":1e999}"#, #"{"schema_version":-1}"#, "[]", "null", String(repeating: "[", count: 100_000),
        ] {
            _ = try? MessageCoding.decode(TickMessage.self, from: Array(hostile.utf8))
        }
    }

    @Test func deadLetterHeaders() {
        let names = [
            DeadLetter.Header.originTopic, DeadLetter.Header.originPartition, DeadLetter.Header.originOffset, DeadLetter.Header.errorClass,
            DeadLetter.Header.attempts, DeadLetter.Header.firstFailure, DeadLetter.Header.replayCount, "other",
        ]
        let values = ["", "0", "-1", "99999999999999999999", "transient", "job_sql", "2026-11-25T10:00:00Z", "\u{0}", "x", "1e9"]
        for _ in 0..<5_000 {
            var headers: [String: String] = [:]
            for name in names where Bool.random() { headers[name] = values.randomElement()! }
            if let letter = DeadLetter(headers: headers) { _ = letter.sanitized().headers }
            _ = DeadLetter.replayCount(headers[DeadLetter.Header.replayCount])
        }
    }

    @Test func jobsFiles() {
        let fragments = [
            #"{"jobs":["#, "]}", #"{"name":"x","every":"5m","window":"1h","sql":"SELECT :window_start, :window_end"}"#, ",",
            #"{"name":"event-reminder","shards":99999999999999999999}"#, #"{"name":"","cron":"* * * * *"}"#, "null", "{", "}",
            #""every":"99999999999999d""#, #"{"name":"y","cron":"*/0 * * * *","window":"1h","sql":":window_start:window_end"}"#,
        ]
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 1...6)).map { _ in fragments.randomElement()! }.joined()
            _ = try? JobCatalog(overlay: Data(text.utf8))
        }
    }
}
