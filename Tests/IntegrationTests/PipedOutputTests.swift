import Foundation
import Kafka
import ProactivityCore
import ProactivityLauncher
import Testing

/// The main command's output reaches a pipe or a file line by line, while it runs.
@Suite(.timeLimit(.minutes(4)))
struct PipedOutputTests {
    @Test func alertsTailWritesEachAlertAsItArrivesWhenStdoutIsNotATerminal() async throws {
        try await PipelineHarness.with { harness in
            // stdout is a file here: block-buffered unless the command flushes each line.
            let tail = try ProactivityProcess(["alerts", "tail", "--from-beginning"], environment: try harness.environment())
            let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!
            let writer = AlertWriter(job: BuiltInJobs.eventReminder, tick: TickMessage(job: BuiltInJobs.eventReminder, slot: slot, producedAt: slot), createdAt: slot)
            let alert = writer.write(DueItem(itemId: "42", userId: "alice", title: "Standup", dueAt: slot.addingTimeInterval(600)))
            let producer = try TestEnvironment.producer()
            _ = try await producer.send(KafkaProducerMessage(topic: harness.alertsTopic, key: Array("alice".utf8), value: alert.json))
            try await producer.close()
            try await eventually("the alert line is in the file while the command still runs") {
                tail.stdout.contains("ALERT event-reminder:42@2020-01-06T10:10:00.000Z")
            }
            #expect(tail.process.isRunning)
            tail.signal(SIGTERM)
            _ = try await tail.waitForExit(within: .seconds(30))
        }
    }
}
