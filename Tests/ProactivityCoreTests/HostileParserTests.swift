import Foundation
import ProactivityCore
import TestSupport
import Testing

/// Every parser of outside input answers random and malicious input with a value or an
/// error of its own kind that says what is wrong, never a trap; each test counts both
/// answers and prints them. Bounded: they run in CI on every push. The random inputs
/// come from ``SeededRandom`` (the seed is printed; `PROACTIVITY_TEST_SEED` repeats it).
@Suite struct HostileParserTests {
    static func randomText(_ alphabet: [Character], maxLength: Int, using random: inout SeededRandom) -> String {
        String((0..<Int.random(in: 0...maxLength, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
    }

    /// What a parser answered, counted.
    struct Answers: CustomStringConvertible {
        var values = 0
        var errors = 0
        var description: String { "\(values) values, \(errors) errors" }
    }

    @Test func cronExpressions() throws {
        var random = try SeededRandom()
        let alphabet = Array("0123456789*/,-LW#? abcxyzJANMONsun") + ["9999999999999999999", "\u{0}", "٣", "🎉"].flatMap { Array($0) }
        let fieldAlphabet = Array("0123456789*/,-")
        let validFields = ["*", "*/5", "1-5", "1", "2,3", "*/2"]
        let after = Date(timeIntervalSince1970: 1_800_000_000)
        var answers = Answers()
        for index in 0..<5_000 {
            // Half free text, half five fields, each valid for every field or random cron
            // characters: about one in 32 of these parses.
            let text = index % 2 == 0
                ? Self.randomText(alphabet, maxLength: 40, using: &random)
                : (0..<5).map { _ in
                    Bool.random(using: &random)
                        ? validFields.randomElement(using: &random)! : Self.randomText(fieldAlphabet, maxLength: 3, using: &random)
                }.joined(separator: " ")
            do {
                let expression = try CronExpression(text)
                answers.values += 1
                // A parsed expression computes a later slot without trapping too.
                #expect(Schedule.cron(expression, timeZone: .gmt).slot(after: after) > after, "'\(text)'")
            } catch {
                answers.errors += 1
                #expect(error.description.hasPrefix("cron "), "'\(text)': \(error)")
            }
        }
        print("cron expressions: \(answers)")
        #expect(answers.values > 0 && answers.errors > 0, "both answers exercised: \(answers)")
        for text in ["*/0 * * * *", "0-99999999999999999999 * * * *", "5-1 * * * *", "* * * * * * *", "60 * * * *", "*/-1 * * * *", "99/5 * * * *", "0 25/2 * * *"] {
            #expect(throws: CronExpression.ParseError.self, "'\(text)'") { try CronExpression(text) }
        }
    }

    @Test func ticks() throws {
        var random = try SeededRandom()
        let job = BuiltInJobs.eventReminder
        let slot = Date(timeIntervalSince1970: 1_800_000_000)
        let valid = Array(MessageCoding.encode(TickMessage(job: job, slot: slot, producedAt: slot)))
        var decoding = Answers()
        var validation = Answers()
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                switch Int.random(in: 0...2, using: &random) {
                case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 1 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &random))
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...bytes.count, using: &random))
                }
            }
            let tick: TickMessage
            do {
                tick = try MessageCoding.decode(TickMessage.self, from: bytes)
                decoding.values += 1
            } catch {
                decoding.errors += 1
                #expect(!error.description.isEmpty)
                continue
            }
            do {
                // What the worker runs is the job's own tick, whatever the bytes said.
                let validated = try tick.validated(for: job, now: slot)
                validation.values += 1
                #expect(validated.jobName == job.name && validated.slot == tick.slot)
                #expect(validated.tickId == TickMessage(job: job, slot: tick.slot, shard: tick.shard, producedAt: tick.producedAt).tickId)
            } catch {
                validation.errors += 1
                #expect(!error.description.isEmpty)
            }
        }
        print("mutated ticks: decoding \(decoding); validation \(validation)")
        #expect(decoding.errors > 0, "mutations that break the JSON are refused: \(decoding)")

        let hostile = [
            #"{"schema_version":1,"tick_id":"x","job_name":"event-reminder","slot":"99999-01-01T00:00:00Z","window_start":"x","window_end":"y","shard":0,"shard_count":0,"coalesced_slots":0,"produced_at":"2026-01-01T00:00:00Z"}"#,
            #"{"schema_version":1e999}"#, "[]", "null", String(repeating: "[", count: 100_000),
        ]
        for text in hostile {
            let error = #expect(throws: MessageCoding.DecodingFailure.self, "\(text.prefix(60))") {
                try MessageCoding.decode(TickMessage.self, from: Array(text.utf8))
            }
            #expect(error?.isUnknownVersion == false)
        }
        let negative = #expect(throws: MessageCoding.DecodingFailure.self) {
            try MessageCoding.decode(TickMessage.self, from: Array(#"{"schema_version":-1}"#.utf8))
        }
        #expect(negative?.isUnknownVersion == true, "a version this build does not read is named as such")
    }

    @Test func deadLetterHeaders() throws {
        var random = try SeededRandom()
        // Each header with a value it could validly have, next to the hostile ones; in a
        // fixed order (a dictionary's order changes from run to run, and so would the
        // draws a seed gives).
        let valid = [
            (DeadLetter.Header.originTopic, "ticks"), (DeadLetter.Header.originPartition, "2"), (DeadLetter.Header.originOffset, "42"),
            (DeadLetter.Header.errorClass, "job_sql"), (DeadLetter.Header.attempts, "3"), (DeadLetter.Header.firstFailure, "2026-11-25T10:00:00Z"),
            (DeadLetter.Header.replayCount, "1"), ("other", "x"),
        ]
        let hostile = ["", "0", "-1", "99999999999999999999", "transient", "job_sql", "2026-11-25T10:00:00Z", "\u{0}", "x", "1e9"]
        var answers = Answers()
        for _ in 0..<5_000 {
            // Each header present three times in four, half of them with its valid value:
            // about one set in 25 is complete.
            var headers: [String: String] = [:]
            for (name, value) in valid where Int.random(in: 0..<4, using: &random) > 0 {
                headers[name] = Bool.random(using: &random) ? value : hostile.randomElement(using: &random)!
            }
            // The context is read when the four headers that locate and classify the
            // failure are present and well-formed, and only then.
            let complete =
                headers[DeadLetter.Header.originTopic] != nil && headers[DeadLetter.Header.originPartition].flatMap(Int32.init) != nil
                && headers[DeadLetter.Header.originOffset].flatMap(Int64.init) != nil
                && headers[DeadLetter.Header.errorClass].flatMap(FailureClass.init(rawValue:)) != nil
            if let letter = DeadLetter(headers: headers) {
                answers.values += 1
                #expect(complete, "\(headers)")
                let stored = letter.sanitized()
                #expect(stored.headers.allSatisfy { !$0.value.contains("\u{0}") }, "storable text: \(headers)")
                #expect((0...Int(Int32.max)).contains(stored.attempts))
            } else {
                answers.errors += 1
                #expect(!complete, "\(headers)")
            }
            let replays = DeadLetter.replayCount(headers[DeadLetter.Header.replayCount])
            #expect(replays.map { (0...1_000_000).contains($0) } ?? true)
            #expect(headers[DeadLetter.Header.replayCount] != nil || replays == 0, "no header is no replay")
        }
        print("dead-letter headers: \(answers)")
        #expect(answers.values > 0 && answers.errors > 0, "both answers exercised: \(answers)")
    }

    @Test func jobsFiles() throws {
        var random = try SeededRandom()
        let fragments = [
            #"{"jobs":["#, "]}", #"{"name":"x","every":"5m","window":"1h","sql":"SELECT :window_start, :window_end"}"#, ",",
            #"{"name":"event-reminder","shards":99999999999999999999}"#, #"{"name":"","cron":"* * * * *"}"#, "null", "{", "}",
            #""every":"99999999999999d""#, #"{"name":"y","cron":"*/0 * * * *","window":"1h","sql":":window_start:window_end"}"#,
        ]
        var answers = Answers()
        for _ in 0..<2_000 {
            let text = (0..<Int.random(in: 1...6, using: &random)).map { _ in fragments.randomElement(using: &random)! }.joined()
            do {
                let catalog = try JobCatalog(overlay: Data(text.utf8))
                answers.values += 1
                // A jobs file changes or adds jobs; the built-ins are always there.
                #expect(Set(BuiltInJobs.all.map(\.name)).isSubset(of: catalog.jobs.map(\.name)), "\(text)")
            } catch {
                answers.errors += 1
                #expect(!error.problems.isEmpty && error.problems.allSatisfy { !$0.isEmpty }, "\(text)")
            }
        }
        print("jobs files: \(answers)")
        #expect(answers.errors > 0, "\(answers)")
    }
}
