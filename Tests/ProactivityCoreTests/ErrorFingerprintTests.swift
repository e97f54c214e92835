import Foundation
import ProactivityCore
import TestSupport
import Testing

@Suite struct ErrorFingerprintTests {
    @Test(arguments: [
        (#"relation "invoices" does not exist"#, #"relation "?" does not exist"#),
        ("column 'amount' of relation `billing` is 42", "column '?' of relation `?` is <n>"),
        ("tick event-reminder@2026-11-25T10:00:00Z#1/4 failed", "tick event-reminder@<time>#<n>/<n> failed"),
        ("at 2026-11-25 10:00:00.123+01:00, then 2026-11-25T10:00Z and 2026-11-25", "at <time>, then <time> and <time>"),
        ("row 5f0c8e3a-1b2c-4d5e-8f90-a1b2c3d4e5f6 gone", "row <uuid> gone"),
        ("digest 9f86d081884c7d65 at 0x1F2e", "digest <hex> at <hex>"),
        ("took 1.5 s over 3 attempts, offset -17", "took <n> s over <n> attempts, offset -<n>"),
        ("SQLSTATE 42P01 in job_2 v2 x86_64", "SQLSTATE 42P01 in job_2 v2 x86_64"),
        ("can't read 7 rows", "can't read <n> rows"),
        ("deadbeef cafe 12345678", "deadbeef cafe <n>"),
        ("", ""),
    ])
    func masksTheVariablePartsAndKeepsTheWords(message: String, fingerprint: String) {
        #expect(ErrorFingerprint.of(message) == fingerprint)
    }

    @Test func tenThousandFailuresOfOneKindReadAsOneFingerprint() throws {
        var generator = try SeededRandom()
        var fingerprints = Set<String>()
        for _ in 0..<10_000 {
            let offset = UInt64.random(in: 0...UInt64(Int64.max), using: &generator)
            let id = UUID(uuid: (0..<16).reduce(into: UUID().uuid) { uuid, index in
                withUnsafeMutableBytes(of: &uuid) { $0[index] = UInt8.random(in: 0...255, using: &generator) }
            })
            let seconds = Double.random(in: 0...4_000_000_000, using: &generator)
            let message = #"canceling statement "job_\#(offset % 97)" for item \#(id.uuidString.lowercased()) at \#(MessageCoding.timestamp(Date(timeIntervalSince1970: seconds))) after \#(offset) ms"#
            fingerprints.insert(ErrorFingerprint.of(message))
        }
        #expect(fingerprints == [#"canceling statement "?" for item <uuid> at <time> after <n> ms"#])
    }

    /// Any text: no crash, a bounded length, no number left standing alone, and a
    /// shorter fingerprint is its own fingerprint.
    @Test func randomAndHostileTextGivesABoundedStableFingerprint() throws {
        var generator = try SeededRandom()
        let alphabet: [Unicode.Scalar] = Array("0123456789abcdefxX-_:.+TZ '\"`<>?/@#\n\t".unicodeScalars) + [
            "\u{0}", "\u{301}", "\u{FFFD}", "\u{202E}", "é", "漢", "😀", "\u{10FFFF}",
        ]
        for round in 0..<5_000 {
            let length = Int.random(in: 0...(round % 50 == 0 ? 3_000 : 80), using: &generator)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length { scalars.append(alphabet.randomElement(using: &generator)!) }
            let message = String(scalars)
            let fingerprint = ErrorFingerprint.of(message)
            #expect(fingerprint.unicodeScalars.count <= ErrorFingerprint.maximumLength, "\(message.debugDescription)")
            // A cut fingerprint may end inside a word or a mask; only whole ones are checked further.
            guard fingerprint.unicodeScalars.count < ErrorFingerprint.maximumLength else { continue }
            #expect(ErrorFingerprint.of(fingerprint) == fingerprint, "not stable for \(message.debugDescription) -> \(fingerprint.debugDescription)")
            // A digit left in the fingerprint is glued to a word (`v2`, `42P01`).
            let kept = Array(fingerprint.unicodeScalars)
            for (index, scalar) in kept.enumerated() where ("0"..."9").contains(scalar) {
                let before = index > 0 ? kept[index - 1] : " "
                let after = index + 1 < kept.count ? kept[index + 1] : " "
                let glued = { (neighbour: Unicode.Scalar) in neighbour == "_" || neighbour.properties.isAlphabetic || ("0"..."9").contains(neighbour) }
                #expect(glued(before) || glued(after), "a lone digit in \(fingerprint.debugDescription) from \(message.debugDescription)")
            }
        }
    }

    @Test func aLongMessageIsCutToTheMaximumLength() {
        let message = String(repeating: "word ", count: 1_000) + String(repeating: "\u{301}", count: 5_000)
        #expect(ErrorFingerprint.of(message).unicodeScalars.count == ErrorFingerprint.maximumLength)
    }
}

@Suite struct ReplayRateTests {
    @Test(arguments: [("50/s", 50.0), ("30/m", 0.5), ("7", 7.0), ("2.5/s", 2.5), ("1/m", 1.0 / 60), ("100000/s", 100_000.0)])
    func readsRates(text: String, perSecond: Double) throws {
        #expect(try #require(ReplayRate(text)).perSecond == perSecond)
    }

    @Test(arguments: ["", "0/s", "0", "-5/s", "+5/s", "5/h", "5 /s", "1e3/s", "nan", "inf/s", ".5/s", "5./s", "0.5/m", "100001/s", "5/s/s", "٥/s",
        String(repeating: "9", count: 400)])
    func refusesAnythingElse(text: String) {
        #expect(ReplayRate(text) == nil, "\(text)")
    }

    @Test func theBurstIsATenthOfASecondsWorth() {
        #expect(ReplayRate(perSecond: 5)!.burst == 1)
        #expect(ReplayRate(perSecond: 10)!.burst == 1)
        #expect(ReplayRate(perSecond: 11)!.burst == 2)
        #expect(ReplayRate(perSecond: 100_000)!.burst == 500)
        #expect(ReplayRate(perSecond: 1.0 / 60)!.burst == 1)
    }

    @Test func thePacerSpacesRowsAtTheRate() {
        var pacer = ReplayPacer(rate: ReplayRate(perSecond: 5)!)
        var now = 0.0
        var sends: [Double] = []
        for _ in 0..<6 {
            now += pacer.reserve(1, now: now)
            sends.append(now)
        }
        #expect(zip(sends, [0, 0.2, 0.4, 0.6, 0.8, 1.0]).allSatisfy { abs($0 - $1) < 1e-9 }, "\(sends)")
    }

    /// Whatever the calls' timing, N rows never go out faster than the burst plus the rate.
    @Test func noScheduleOfCallsBeatsTheRate() throws {
        var generator = try SeededRandom()
        for _ in 0..<200 {
            let rate = ReplayRate(perSecond: Double.random(in: 0.5...2_000, using: &generator))!
            var pacer = ReplayPacer(rate: rate)
            var now = 0.0
            var sent = 0
            for _ in 0..<Int.random(in: 1...300, using: &generator) {
                now += Double.random(in: 0...0.01, using: &generator)
                let count = Int.random(in: 1...rate.burst, using: &generator)
                now += pacer.reserve(count, now: now)
                sent += count
                #expect(Double(sent) <= Double(rate.burst) + rate.perSecond * now + 1e-6, "\(sent) rows by \(now) s at \(rate)")
            }
        }
    }
}
