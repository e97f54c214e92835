import Foundation
@testable import Kafka
import Logging
import ProactivityLauncher
import Synchronization
import Testing

/// The wrapper on librdkafka's own mock cluster (`test.mock.num.brokers`): no broker
/// needed, so these run anywhere in seconds.
@Suite(.timeLimit(.minutes(2)))
struct MockClusterTests {
    static var logger: Logger {
        var logger = Logger(label: "tests")
        logger.logLevel = .critical
        return logger
    }

    static func kafka(_ name: String) -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: "127.0.0.1:1", clientID: name, properties: ["test.mock.num.brokers": "1"])
    }

    /// A name librdkafka refuses fails that message with an error, never a trap; the
    /// other messages of the batch are sent.
    @Test func aTopicNameLibrdkafkaRefusesFailsItsMessageAndNotTheBatch() async throws {
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: Self.kafka("bad-topic-test"), messageTimeout: .seconds(10)), logger: Self.logger)
        let tooLong = String(repeating: "t", count: 100_000)
        let results = await producer.send([
            KafkaProducerMessage(topic: tooLong, value: Array("lost".utf8)),
            KafkaProducerMessage(topic: "fine", value: Array("kept".utf8)),
        ])
        #expect(throws: KafkaError.self) { try results[0].get() }
        #expect((try? results[1].get())?.topic == "fine")
        try await producer.close()
    }

    /// Delayed work runs after its delay and in deadline order; submitted work runs at
    /// once even while delayed work waits.
    @Test func thePoolRunsDelayedWorkInOrderAndSubmittedWorkAtOnce() async throws {
        let pool = BlockingPool(limit: 2)
        let order = Recorder()
        let started = ContinuousClock.now
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            pool.schedule(after: .milliseconds(300)) {
                order.lines.withLock { $0.append("late") }
                done.resume()
            }
            pool.schedule(after: .milliseconds(100)) { order.lines.withLock { $0.append("early") } }
            pool.submit { order.lines.withLock { $0.append("now") } }
        }
        #expect(order.lines.withLock { $0 } == ["now", "early", "late"])
        #expect(ContinuousClock.now - started >= .milliseconds(300), "the delay is a lower bound")
    }

    /// More calls than threads: every one runs, none is lost while the pool is full.
    @Test func thePoolRunsEveryCallWhenMoreArriveThanItHasThreads() async throws {
        let pool = BlockingPool(limit: 2)
        let count = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        pool.submit {
                            usleep(1_000)
                            count.value.withLock { $0 += 1 }
                            done.resume()
                        }
                    }
                }
            }
        }
        #expect(count.value.withLock { $0 } == 50)
    }

    /// A consumer's poll thread runs its work in order; once told to stop it refuses new
    /// work instead of queueing what would never run (its caller, waiting for it, would
    /// wait for good: a consumer closed between its check and its poll).
    @Test func aStoppedSerialThreadRefusesWorkInsteadOfDroppingIt() async throws {
        let thread = SerialThread(name: "serial-test")
        let order = Mutex([Int]())
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for number in 1...3 { #expect(thread.submit { order.withLock { $0.append(number) } }) }
            #expect(thread.submit { done.resume() })
        }
        #expect(order.withLock { $0 } == [1, 2, 3])
        thread.stop()
        #expect(!thread.submit { Issue.record("work ran after the stop") })
    }

    /// Teardowns run in the background and can be waited for, up to a limit: a destroy
    /// that hangs does not hang the waiter, and the clients still being torn down are named.
    @Test func detachedTeardownsCanBeWaitedForUpToALimit() async throws {
        let teardowns = Teardowns()
        #expect(await teardowns.waitUntilDone(within: .zero), "none started: nothing to wait for")
        let release = DispatchSemaphore(value: 0)
        let finished = Counter()
        teardowns.start("test#consumer-1") {
            release.wait()
            finished.value.withLock { $0 += 1 }
        }
        #expect(!(await teardowns.waitUntilDone(within: .milliseconds(200))), "a teardown still running is reported")
        #expect(teardowns.names == ["test#consumer-1"])
        #expect(finished.value.withLock { $0 } == 0)
        release.signal()
        #expect(await teardowns.waitUntilDone(within: .seconds(30)), "the teardown ended")
        #expect(teardowns.names.isEmpty)
        #expect(finished.value.withLock { $0 } == 1, "…after its work")
    }

    /// A caller waiting for a teardown waits at most its limit: one that hangs goes on in
    /// the background (still counted), one that ends in time says so.
    @Test func aWaitForATeardownEndsAtItsLimitAndTheTeardownGoesOn() async throws {
        let teardowns = Teardowns()
        #expect(await teardowns.startAndWait("test#admin-1", atMost: .seconds(30)) {}, "a quick teardown ends in time")
        let release = DispatchSemaphore(value: 0)
        let started = ContinuousClock.now
        let ended = await teardowns.startAndWait("test#admin-2", atMost: .milliseconds(200)) { release.wait() }
        #expect(!ended, "a stuck teardown is not waited for past the limit")
        #expect(ContinuousClock.now - started < .seconds(20), "a liveness bound: the caller went on")
        #expect(teardowns.names == ["test#admin-2"], "it still runs, counted")
        release.signal()
        #expect(await teardowns.waitUntilDone(within: .seconds(30)))
    }

    /// A teardown stuck in librdkafka's destroy (which librdkafka 2.16 sometimes never
    /// finishes for a closed consumer) counts as stopped once it has been there for the
    /// settling time; one not yet in the destroy, or only just, does not.
    @Test func aTeardownLongInLibrdkafkasDestroyCountsAsStopped() async throws {
        let teardowns = Teardowns()
        let release = DispatchSemaphore(value: 0)
        let destroyingSince = Mutex<ContinuousClock.Instant?>(nil)
        teardowns.start("test#consumer-2", destroyingSince: { destroyingSince.withLock { $0 } }) { release.wait() }
        defer { release.signal() }
        #expect(!(await teardowns.waitUntilDone(within: .milliseconds(100), orDestroyingFor: .seconds(5))), "not in the destroy yet")
        destroyingSince.withLock { $0 = .now }
        #expect(!(await teardowns.waitUntilDone(within: .milliseconds(100), orDestroyingFor: .seconds(5))), "in the destroy for less than 5 s")
        destroyingSince.withLock { $0 = .now - .seconds(6) }
        #expect(await teardowns.waitUntilDone(within: .milliseconds(100), orDestroyingFor: .seconds(5)), "in the destroy for 6 s: stopped")
        #expect(teardowns.names == ["test#consumer-2"], "still named: its destroy has not returned")
        #expect(!(await teardowns.waitUntilDone(within: .milliseconds(100))), "not released")
    }

    final class Recorder: Sendable {
        let lines = Mutex<[String]>([])
    }

    final class Counter: Sendable {
        let value = Mutex(0)
    }
}

extension MockClusterTests {
    /// A broker that answers every produce with PRODUCER_FENCED (it lost the producer's
    /// id, as Tansu does after restarting empty) gets a new client: the refused message
    /// fails retriable, the producer renews its client, and a send after it is delivered.
    @Test func aProducerTheBrokerFencesReplacesItsClientAndDeliversAgain() async throws {
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(kafka: Self.kafka("fenced-test"), messageTimeout: .seconds(10)), logger: Self.logger)
        _ = try await producer.send(KafkaProducerMessage(topic: "fenced", value: Array("first".utf8)))
        producer.failProduceRequestsForTesting(.producerFenced, count: 50)
        let refused = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaProducerMessage(topic: "fenced", value: Array("refused".utf8)))
        }
        #expect(refused?.isRetriable == true, "\(String(describing: refused))")
        #expect(try await poll(every: .milliseconds(20), within: .seconds(30)) { producer.renewals > 0 })
        #expect(producer.renewals == 1)
        _ = try await producer.send(KafkaProducerMessage(topic: "fenced", value: Array("after".utf8)))
        try await producer.close()
    }
}
