import ProactivityCore
import TestSupport
import Testing

@Suite struct DurationTextTests {
    @Test(arguments: ["99999999999999d", "999999999999999d", "9223372036854775807s", "36600d", "3155760001s", "101y", "1e9s", "٣s", "-5m", "0s", ""])
    func outOfRangeOrMalformedDurationsAreRefused(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test func oneHundredYearsIsTheLongest() {
        #expect(DurationText.seconds("36525d") == DurationText.maximumSeconds)
        #expect(DurationText.seconds("36524d23h59m59s") == DurationText.maximumSeconds - 1)
    }

    /// Random text of digits, units and noise: an answer every time, never a trap, and
    /// every answer within bounds and formatted back to the same number.
    @Test func randomTextNeverTraps() throws {
        var random = try SeededRandom()
        let alphabet = Array("0123456789smhd 9x-+.") + ["٣", "🎉"]
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...24, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            if let seconds = DurationText.seconds(text) {
                #expect((1...DurationText.maximumSeconds).contains(seconds), "\(text)")
                #expect(DurationText.seconds(DurationText.format(seconds)) == seconds)
            }
        }
    }
}
