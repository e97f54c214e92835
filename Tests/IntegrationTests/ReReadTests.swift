import Foundation
import PostgresNIO
import ProactivityCore
import ProactivityStore
import Testing

/// Overlapping windows (the event reminder reads each item in 12 ticks): the rows of a
/// window the ledger already has are counted in PostgreSQL and never read by the
/// worker, and still every item is alerted exactly once.
@Suite(.timeLimit(.minutes(4)))
struct ReReadTests {
    /// A fixed slot far from the real clock: the worker only uses the tick's window.
    let slot = MessageCoding.parseTimestamp("2020-01-06T10:00:00Z")!

    func at(_ minutes: Double) -> Date { slot.addingTimeInterval(minutes * 60) }

    func tick(at slot: Date) -> TickMessage {
        TickMessage(job: BuiltInJobs.eventReminder, slot: slot, shard: 0, producedAt: slot)
    }

    /// The audit figures of a completed tick: rows due, skipped in the query, alerted.
    func audit(of tick: TickMessage, _ harness: PipelineHarness) async throws -> (due: Int, skipped: Int, alerted: Int) {
        let due = try await harness.count(
            "SELECT (payload->>'due')::int FROM worker_job_events WHERE tick_id = \(tick.tickId) AND status = 'success'")
        let skipped = try await harness.count(
            "SELECT (payload->>'skipped_in_query')::int FROM worker_job_events WHERE tick_id = \(tick.tickId) AND status = 'success'")
        let alerted = try await harness.count(
            "SELECT (payload->>'alerted')::int FROM worker_job_events WHERE tick_id = \(tick.tickId) AND status = 'success'")
        return (due, skipped, alerted)
    }

    /// Events 1…count, one a minute after `start` (event n at start + n minutes).
    func seedEvents(count: Int, from start: Date, _ harness: PipelineHarness) async throws {
        try await harness.execute(
            """
            INSERT INTO events (id, user_id, title, starts_at)
            SELECT n, 'user-' || n, 'Event ' || n, \(start) + n * interval '1 minute' FROM generate_series(1, \(count)) AS n
            """)
    }

    /// Alert ids by item, failing on any item alerted twice.
    func alertedItems(_ harness: PipelineHarness) async throws -> [String] {
        let ids = try await harness.alerts().map(\.alert.itemId)
        #expect(Set(ids).count == ids.count, "an item was alerted twice: \(ids.sorted())")
        return ids
    }

    @Test func anOverlappingWindowSkipsItsAlertedRowsInTheQueryAndStillAlertsALateInsert() async throws {
        try await PipelineHarness.with { harness in
            try await seedEvents(count: 40, from: at(10), harness)
            try await harness.withWorker { _ in
                let first = tick(at: slot)
                try await harness.publish([first])
                try await harness.waitForCompletion(of: [first])
                let firstAudit = try await audit(of: first, harness)
                #expect(firstAudit.due == 40 && firstAudit.skipped == 0 && firstAudit.alerted == 40)

                // Inserted after the first window ran: one inside the part it covered, one
                // in the part only the next window covers.
                try await harness.execute(
                    "INSERT INTO events (id, user_id, title, starts_at) VALUES (100, 'late', 'Late', \(at(20))), (101, 'new', 'New', \(at(62)))")
                let next = tick(at: at(5))
                try await harness.publish([next])
                try await harness.waitForCompletion(of: [next])
                let nextAudit = try await audit(of: next, harness)
                #expect(nextAudit.skipped == 40, "the alerted rows were read by the worker: \(nextAudit)")
                #expect(nextAudit.due == 42 && nextAudit.alerted == 2)

                let items = try await alertedItems(harness)
                #expect(items.count == 42)
                #expect(items.contains("100") && items.contains("101"))
            }
        }
    }

    @Test func aReplayedTickAlertsWhatItsFirstRunDidNotRecord() async throws {
        try await PipelineHarness.with { harness in
            try await seedEvents(count: 30, from: at(0), harness)
            try await harness.withWorker { _ in
                let run = tick(at: slot)
                try await harness.publish([run])
                try await harness.waitForCompletion(of: [run])
                #expect(try await alertedItems(harness).count == 30)

                // As after a run that recorded only some pages, out of order, and never
                // completed: the ledger keeps items 21–30, the tick is not completed. Its
                // replay (the same tick again) must alert items 1–20 once more.
                try await harness.execute("DELETE FROM worker_alert_pages")
                try await harness.recordInLedger(tickId: run.tickId, "SELECT e.id::text, e.starts_at FROM events e WHERE e.id > 20")
                try await harness.execute("DELETE FROM worker_ticks_completed WHERE tick_id = \(run.tickId)")
                try await harness.execute("DELETE FROM worker_job_events WHERE tick_id = \(run.tickId)")
                try await harness.publish([run])
                try await harness.waitForCompletion(of: [run])
                let replayAudit = try await audit(of: run, harness)
                #expect(replayAudit.skipped == 10, "\(replayAudit)")
                #expect(replayAudit.due == 30 && replayAudit.alerted == 20)

                let ids = try await harness.alerts().map(\.alert.itemId)
                #expect(ids.count == 50)
                #expect(Set(ids).count == 30)
                #expect(try await harness.count("SELECT count(*)::int FROM worker_alerts_sent") == 30)
            }
        }
    }

    @Test func aWorkerRestartedOnAWindowItRecordedInPartsAlertsTheRest() async throws {
        try await PipelineHarness.with { harness in
            try await seedEvents(count: 30, from: at(0), harness)
            // What a worker stopped mid-window can leave: pages recorded out of order (the
            // later page's rows, not the earlier's), the tick not completed.
            try await harness.recordInLedger(
                tickId: tick(at: slot).tickId, "SELECT e.id::text, e.starts_at FROM events e WHERE e.id BETWEEN 16 AND 30")
            try await harness.withWorker { _ in
                let run = tick(at: slot)
                try await harness.publish([run])
                try await harness.waitForCompletion(of: [run])
                let runAudit = try await audit(of: run, harness)
                #expect(runAudit.skipped == 15, "\(runAudit)")
                #expect(runAudit.due == 30 && runAudit.alerted == 15)
                let items = try await alertedItems(harness)
                #expect(Set(items) == Set((1...15).map(String.init)))
            }
        }
    }

    /// PostgreSQL holds at most `coveredKeysLimit` of a window's ledger keys; the rows of
    /// the others come to the worker, in due order, and its page lookup finds them alerted.
    @Test func atMostTheKeysLimitIsHeldInPostgreSQLAndTheRestIsLookedUpByPage() async throws {
        try await PipelineHarness.with { harness in
            try await seedEvents(count: 40, from: at(10), harness)
            let run = tick(at: slot)
            try await harness.recordInLedger(tickId: run.tickId, "SELECT e.id::text, e.starts_at FROM events e")
            let job = BuiltInJobs.eventReminder

            let limited = ReminderStore(client: harness.client, logger: harness.logger, coveredKeysLimit: 10)
            var handedOver: [DueItem] = []
            let read = try await limited.forEachDuePage(job: job, tick: run, pageSize: 7) { handedOver += $0 }
            #expect(read.alreadyInLedger == 10, "\(read)")
            #expect(read.handedOver == 30 && read.total == 40, "\(read)")
            #expect(Set(handedOver.map(\.itemId)).count == 30 && handedOver.allSatisfy { (1...40).contains(Int($0.itemId) ?? 0) })
            #expect(handedOver.map(\.dueAt) == handedOver.map(\.dueAt).sorted())
            #expect(try await limited.alertLedger.unsent(handedOver, job: job, window: (run.windowStart, run.windowEnd)).isEmpty)

            let unlimited = ReminderStore(client: harness.client, logger: harness.logger)
            let all = try await unlimited.forEachDuePage(job: job, tick: run, pageSize: 7) { _ in }
            #expect(all == ReminderStore.WindowRows(handedOver: 0, alreadyInLedger: 40))
        }
    }

    /// The page lookup asks the ledger as it is now: rows another run recorded after this
    /// run's query began (a rebalanced partition's old owner still at work) are found,
    /// whether the page's due range held nothing before or not; another job's rows are not.
    @Test func thePageLookupFindsWhatAnotherRunRecordedMeanwhile() async throws {
        try await PipelineHarness.with { harness in
            let store = ReminderStore(client: harness.client, logger: harness.logger)
            let job = BuiltInJobs.eventReminder
            let window = (start: at(0), end: at(60))
            let page = (1...5).map { DueItem(itemId: "\($0)", userId: "u", title: "t", dueAt: at(Double($0))) }
            #expect(try await store.alertLedger.unsent(page, job: job, window: window).map(\.itemId) == ["1", "2", "3", "4", "5"])

            try await harness.recordInLedger(job: "task-reminder", tickId: "other", items: [("3", at(3))])
            #expect(try await store.alertLedger.unsent(page, job: job, window: window).count == 5, "another job's row counted")

            try await harness.recordInLedger(job: "event-reminder", tickId: "concurrent", items: [("3", at(3))])
            #expect(try await store.alertLedger.unsent(page, job: job, window: window).map(\.itemId) == ["1", "2", "4", "5"])

            // An item the job's SQL returned outside the window is looked up in the whole ledger.
            let outside = [DueItem(itemId: "9", userId: "u", title: "t", dueAt: at(600))]
            #expect(try await store.alertLedger.unsent(outside, job: job, window: window).count == 1)
            try await harness.recordInLedger(job: "event-reminder", tickId: "concurrent", items: [("9", at(600))])
            #expect(try await store.alertLedger.unsent(outside, job: job, window: window).isEmpty)
        }
    }

    /// A page recorded across midnight (UTC) becomes one ledger row per day, each in its
    /// day's partition, and the lookup finds its alerts on both sides.
    @Test func aPageRecordedAcrossMidnightIsFoundOnBothDays() async throws {
        try await PipelineHarness.with { harness in
            let ledger = AlertLedger(client: harness.client, logger: harness.logger)
            let midnight = AlertLedger.utcDay(of: Date().addingTimeInterval(-86_400))
            #expect(try await ledger.addPartitions(from: midnight.addingTimeInterval(-86_400), through: midnight) >= 0)
            let dues = [-2.0, -1.0, 0.0, 1.0].map { midnight.addingTimeInterval($0) }
            let alerts = dues.enumerated().map { AlertLedger.SentAlert(itemId: "\($0.offset)", dueAt: $0.element) }
            try await ledger.record(alerts, tick: tick(at: midnight))
            #expect(try await harness.count("SELECT count(*)::int FROM worker_alert_pages WHERE items = 2") == 2)
            #expect(try await harness.count("SELECT count(DISTINCT tableoid)::int FROM worker_alert_pages") == 2, "one partition per day")
            let page = alerts.map { DueItem(itemId: $0.itemId, userId: "u", title: "t", dueAt: $0.dueAt) }
                + [DueItem(itemId: "4", userId: "u", title: "t", dueAt: midnight)]
            #expect(try await ledger.unsent(page, job: BuiltInJobs.eventReminder, window: (midnight, midnight.addingTimeInterval(3600))).map(\.itemId) == ["4"])
        }
    }

    /// Items the job's SQL returned outside its window (overdue ones) are found alerted or
    /// not, item and due time together, both when the page's due range holds few recorded
    /// alerts (unfolded) and when it holds over 50 per item of the page (each item outside
    /// the window looked up on its own): a page's overdue items no longer make its lookup
    /// unfold the job's recorded pages of the days between.
    @Test func itemsOutsideTheWindowAreFoundWhetherTheirRangeHoldsFewOrManyAlerts() async throws {
        try await PipelineHarness.with { harness in
            let ledger = AlertLedger(client: harness.client, logger: harness.logger)
            let job = BuiltInJobs.eventReminder
            let window = (start: at(0), end: at(60))
            // 4,000 alerts over the days before the window, one a minute (old-n due n
            // minutes before it), and two inside it.
            func old(_ n: Int) -> Date { at(Double(-n)) }
            try await harness.recordInLedger(tickId: "earlier", items: (1...4_000).map { ("old-\($0)", old($0)) })
            try await harness.recordInLedger(tickId: "earlier", items: [("dup", old(20)), ("dup", old(21)), ("in-1", at(5)), ("in-2", at(6))])

            func item(_ id: String, _ dueAt: Date) -> DueItem { DueItem(itemId: id, userId: "u", title: "t", dueAt: dueAt) }
            let page = [
                item("old-7", old(7)),  // alerted
                item("old-8", old(9)),  // an alerted item, at another item's due time: not alerted
                item("dup", old(21)),  // the second due time of an item recorded twice in one page
                item("dup", old(22)),  // not alerted at that time
                item("never", old(1_800)),  // never alerted, 30 hours before
                item("in-1", at(5)),  // alerted, inside the window
                item("in-3", at(7)),  // not alerted, inside
            ]
            let unsent = ["old-8", "dup", "never", "in-3"]
            // From the day of "never" on, the page's range holds 2,044 recorded alerts: more
            // than 50 per item for these 7, fewer for the 47 of `many`.
            let fresh = (1...40).map { item("fresh-\($0)", at(10 + Double($0))) }
            let many = page + fresh
            #expect(try await ledger.unsent(page, job: job, window: window).map(\.itemId) == unsent, "items looked up one by one")
            #expect(try await ledger.unsent(many, job: job, window: window).map(\.itemId) == unsent + fresh.map(\.itemId), "unfolded")
            #expect(try await ledger.unsent(page, job: job, window: window).map(\.dueAt) == [old(9), old(22), old(1_800), at(7)])
        }
    }
}
