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

    @Test func alertIdsDependOnJobItemAndDueTime() {
        let tick = TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot)
        let item = DueItem(itemId: "42", userId: "u1", title: "Standup", dueAt: slot.addingTimeInterval(600), payload: .object(["k": .number(1)]))
        let alert = AlertMessage(item: item, job: BuiltInJobs.eventReminder, tick: tick, createdAt: slot)
        #expect(alert.alertId == "event-reminder:42@2026-11-25T15:15:00.000Z")
        #expect(!alert.late)
        var moved = item
        moved.dueAt = slot.addingTimeInterval(900)
        #expect(AlertMessage(item: moved, job: BuiltInJobs.eventReminder, tick: tick, createdAt: slot).alertId != alert.alertId)
        var missed = item
        missed.dueAt = slot.addingTimeInterval(-60)
        #expect(AlertMessage(item: missed, job: BuiltInJobs.eventReminder, tick: tick, createdAt: slot).late)
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
