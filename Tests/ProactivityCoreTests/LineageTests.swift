import Foundation
import ProactivityCore
import TestSupport
import Testing

@Suite struct LineageTests {
    let due = MessageCoding.parseTimestamp("2026-11-25T15:30:00Z")!

    @Test func anAlertIdIsReadAsTheWriterWritesIt() throws {
        let id = try AlertID(parsing: "event-reminder:42@2026-11-25T15:30:00.000Z")
        #expect(id.jobName == "event-reminder" && id.itemId == "42" && id.dueAt == due)
        #expect(id.description == "event-reminder:42@2026-11-25T15:30:00.000Z")
        // Item ids are any text: `:` and `@` included.
        let odd = try AlertID(parsing: "task-reminder:mail:bob@example.com@2026-11-25T15:30:00Z")
        #expect(odd.jobName == "task-reminder" && odd.itemId == "mail:bob@example.com" && odd.dueAt == due)
        #expect(try AlertID(parsing: odd.description) == odd)
    }

    @Test func textThatIsNotAnAlertIdIsRefusedWithTheReason() {
        for (text, reason) in [
            ("", "is not an alert id"), ("event-reminder", "is not an alert id"), ("@2026-11-25T15:30:00Z:x", "is not an alert id"),
            (":42@2026-11-25T15:30:00Z", "names no job or no item"), ("job:@2026-11-25T15:30:00Z", "names no job or no item"),
            ("job:42@yesterday", "does not end with a due time"), (String(repeating: "j:", count: 5000) + "@x", "too long"),
        ] {
            #expect(throws: AlertID.Invalid.self) { try AlertID(parsing: text) }
            do {
                _ = try AlertID(parsing: text)
            } catch {
                #expect(error.description.contains(reason), "\(text.prefix(40)): \(error)")
                #expect(error.description.count < 300)
            }
        }
    }

    /// Random text: an answer every time, never a trap.
    @Test func randomTextIsAnsweredNeverATrap() throws {
        var random = try SeededRandom()
        let alphabet = Array("ab:@-0123456789TZ.\u{0}é🙂 ")
        for _ in 0..<5_000 {
            let text = String((0..<Int.random(in: 0..<40, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            if let id = try? AlertID(parsing: text) { #expect(!id.jobName.contains(":") && !id.itemId.isEmpty) }
        }
    }

    @Test func theCoveringSlotsAreThoseWhoseWindowHoldsTheDueTime() {
        // event-reminder: every 5 min, window 1 h, grace 30 min: slots in (due - 1 h, due + 30 min].
        let slots = Lineage.coveringSlots(of: due, job: BuiltInJobs.eventReminder)
        #expect(slots.count == 18)
        #expect(slots.first == due.addingTimeInterval(-3600 + 300) && slots.last == due.addingTimeInterval(1800))
        for slot in slots {
            #expect(slot.addingTimeInterval(-1800) <= due && due < slot.addingTimeInterval(3600))
        }
        // A due time between slots: the same rule.
        let between = due.addingTimeInterval(61)
        let others = Lineage.coveringSlots(of: between, job: BuiltInJobs.eventReminder)
        #expect(others.allSatisfy { $0.addingTimeInterval(-1800) <= between && between < $0.addingTimeInterval(3600) })
        #expect(others.count == 18)
        #expect(Lineage.coveringSlots(of: due, job: BuiltInJobs.eventReminder, limit: 3).count == 3)
    }
}
