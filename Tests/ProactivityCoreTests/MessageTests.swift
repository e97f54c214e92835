import Foundation
import ProactivityCore
import Testing

@Suite struct MessageTests {
    let slot = MessageCoding.parseTimestamp("2026-11-25T15:05:00Z")!

    @Test func ticksRoundTripWithSchemaVersion() throws {
        let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
        let bytes = MessageCoding.encode(tick)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""schema_version":1"#))
        #expect(text.contains(#""tick_id":"event-reminder@2026-11-25T15:05:00.000Z""#))
        #expect(try MessageCoding.decode(TickMessage.self, from: bytes) == tick)
    }

    @Test(arguments: [
        ("not json", "not a JSON object"),
        (#"{"tick_id":"x"}"#, "no schema_version"),
        (#"{"schema_version":2}"#, "unknown schema_version 2"),
        (#"{"schema_version":1,"tick_id":"x"}"#, "invalid TickMessage"),
    ])
    func badTicksAreRejectedWithAReason(input: String, reason: String) {
        #expect {
            try MessageCoding.decode(TickMessage.self, from: Array(input.utf8))
        } throws: { error in
            "\(error)".contains(reason)
        }
    }
}
