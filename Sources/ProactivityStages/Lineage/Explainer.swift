import Foundation
import Logging
import ProactivityCore
import ProactivityStore

/// Answers "why did this user get this alert?" and "why was this item not alerted?"
/// (`proactivity explain`, `GET /explain/...`) from what the database remembers.
public struct Explainer: Sendable {
    let catalog: JobCatalog
    let store: LineageStore

    public init(catalog: JobCatalog, store: LineageStore) {
        self.catalog = catalog
        self.store = store
    }

    /// The item as the job's SQL returns it now.
    public struct CurrentRow: Sendable, Encodable {
        public var userId: String
        public var title: String?
    }

    /// One tick, with what it says of the item.
    public struct TickView: Sendable, Encodable {
        public var tickId: String
        /// `scheduled`, `manual run` or `backfill`.
        public var kind: String
        public var slot: Date?
        public var windowStart: Date?
        public var windowEnd: Date?
        public var shard: Int?
        /// The tick's W3C trace id, from its last run's audit row (when it ran in a trace).
        public var traceId: String?
        /// `alerted`, `completed`, `dead_lettered`, `failed`, `started`, `skipped` (a missed
        /// slot, coalesced into a later tick), `not_run`, `not_due`, `job_disabled`.
        public var state: String
        /// The state in a sentence.
        public var detail: String
        public var record: Lineage.TickRecord
    }

    /// An alert that was published.
    public struct AlertView: Sendable, Encodable {
        public var alertId: String
        public var jobName: String
        public var itemId: String
        public var dueAt: Date
        /// When the alert was published and recorded in the ledger.
        public var publishedAt: Date
        /// The user and title as the job's SQL returns the item now (the ledger keeps no
        /// user); `nil` when it no longer returns it.
        public var currentRow: CurrentRow?
        public var tick: TickView
        /// Attempts of the tick (runs in the audit trail).
        public var attempts: Int
        /// The job's definition (its SQL included) as the tick ran it.
        public var definition: Lineage.DefinitionRecord?
    }

    /// What is known of an item.
    public struct ItemExplanation: Sendable, Encodable {
        public var jobName: String
        public var itemId: String
        public var dueAt: Date?
        /// `nil` when this engine's catalog has no such job.
        public var jobEnabled: Bool?
        public var alerts: [AlertView]
        /// The ticks whose window covers `dueAt` (when it is given), earliest slot first.
        public var coveringTicks: [TickView]
        public var currentRow: CurrentRow?
        /// The answer in a sentence.
        public var summary: String
    }

    /// Refused input (an unknown alert id), with the reason.
    public struct NotFound: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The alert with this id.
    /// - Throws: ``NotFound`` when the ledger has no such alert (it was never published,
    ///   or its row was pruned after `LEDGER_RETENTION`); ``AlertID/Invalid``.
    public func alert(_ text: String) async throws -> AlertView {
        let id = try AlertID(parsing: text)
        guard let entry = try await store.ledgerEntries(job: id.jobName, item: id.itemId, due: id.dueAt).first else {
            throw NotFound(
                description:
                    "no alert \(id) in the ledger: it was not published, or its row is older than LEDGER_RETENTION (see: proactivity explain --job \(id.jobName) --item \(id.itemId) --due \(Timestamp.format(id.dueAt)))"
            )
        }
        return try await view(of: entry)
    }

    /// What is known of an item of a job: its alerts, and when `due` is given, every tick
    /// whose window covered that due time and what each did.
    public func item(job name: String, item: String, due: Date?, now: Date = Date()) async throws -> ItemExplanation {
        let job = catalog.job(named: name)
        let entries = try await store.ledgerEntries(job: name, item: item, due: due)
        var alerts: [AlertView] = []
        for entry in entries { alerts.append(try await view(of: entry)) }
        var explanation = ItemExplanation(
            jobName: name, itemId: item, dueAt: due, jobEnabled: job?.enabled, alerts: alerts, coveringTicks: [], currentRow: nil, summary: "")
        guard let job else {
            explanation.summary =
                alerts.isEmpty
                ? "this engine has no job named '\(name)' and the ledger has no alert of it for item '\(item)'"
                : "alerted \(alerts.count) time(s); this engine's catalog no longer has job '\(name)'"
            return explanation
        }
        guard let due else {
            explanation.summary =
                alerts.isEmpty
                ? "the ledger has no alert of item '\(item)' (within LEDGER_RETENTION); give --due to see which ticks covered its due time"
                : "alerted for \(alerts.count) due time(s)"
            return explanation
        }
        explanation.currentRow = try await currentRow(item, due: due, job: job)
        explanation.coveringTicks = try await coveringTicks(of: due, job: job, alertedBy: entries.first?.tickId, now: now)
        explanation.summary = Self.summary(alerted: alerts.first, job: job, ticks: explanation.coveringTicks, currentRow: explanation.currentRow)
        return explanation
    }

    private func view(of entry: Lineage.LedgerEntry) async throws -> AlertView {
        let record = try await store.ticks(ids: [entry.tickId]).first ?? Lineage.TickRecord(tickId: entry.tickId)
        let job = catalog.job(named: entry.jobName)
        let definition = try await record.successfulRun?.definitionDigest.asyncMap { try await store.definition(digest: $0) } ?? nil
        return AlertView(
            alertId: entry.alertId, jobName: entry.jobName, itemId: entry.itemId, dueAt: entry.dueAt, publishedAt: entry.publishedAt,
            currentRow: try await job.asyncMap { try await currentRow(entry.itemId, due: entry.dueAt, job: $0) } ?? nil,
            tick: Self.tickView(record, job: job, alerted: true, slot: nil, now: Date()), attempts: record.runs.count, definition: definition)
    }

    private func currentRow(_ item: String, due: Date, job: JobDefinition) async throws -> CurrentRow? {
        // A one-second window at the due time: the job's own window filter keeps the item.
        try await store.currentRow(of: item, dueAt: due, job: job, window: (due, due.addingTimeInterval(1))).map {
            CurrentRow(userId: $0.userId, title: $0.title)
        }
    }

    private func coveringTicks(of due: Date, job: JobDefinition, alertedBy: String?, now: Date) async throws -> [TickView] {
        let slots = Lineage.coveringSlots(of: due, job: job)
        let scheduled = slots.flatMap { slot in
            (0..<job.shards).map { (TickMessage.id(job: job.name, slot: slot, shard: $0, shardCount: job.shards), slot) }
        }
        let manual = try await store.manualTickIds(job: job.name, slots: slots)
        let records = Dictionary(try await store.ticks(ids: scheduled.map(\.0) + manual).map { ($0.tickId, $0) }, uniquingKeysWith: { a, _ in a })
        var views = scheduled.map { id, slot in
            Self.tickView(records[id] ?? Lineage.TickRecord(tickId: id), job: job, alerted: id == alertedBy, slot: slot, now: now)
        }
        views += manual.compactMap { records[$0] }.map { Self.tickView($0, job: job, alerted: $0.tickId == alertedBy, slot: nil, now: now) }
        // A slot the engine missed is coalesced into the next tick, whose catch-up grace covers it.
        if let lastRun = views.filter({ $0.record.completion != nil }).compactMap(\.slot).max() {
            for index in views.indices where views[index].state == "not_run" && (views[index].slot ?? .distantFuture) < lastRun {
                views[index].state = "skipped"
                views[index].detail = "never ran: the engine missed this slot (down or behind), and a later tick covering the same due time ran"
            }
        }
        return views.sorted { ($0.slot ?? .distantPast, $0.tickId) < ($1.slot ?? .distantPast, $1.tickId) }
    }

    /// A tick's state for the item, in a word and a sentence.
    static func tickView(_ record: Lineage.TickRecord, job: JobDefinition?, alerted: Bool, slot: Date?, now: Date) -> TickView {
        let success = record.successfulRun
        func date(_ key: String) -> Date? {
            if case .string(let text)? = success?.payload[key] { MessageCoding.parseTimestamp(text) } else { nil }
        }
        var shard: Int?
        if case .number(let value)? = success?.payload["shard"] { shard = Int(value) }
        var traceId: String?
        if case .string(let value)? = record.runs.last?.payload["trace_id"] { traceId = value }
        let slot = record.completion?.slot ?? slot
        let kind = record.request?.kind ?? (record.tickId.contains(TickMessage.manualMarker) ? "manual run" : "scheduled")
        let state: String
        let detail: String
        if alerted {
            state = "alerted"
            detail = "published the alert"
        } else if let completion = record.completion {
            state = "completed"
            let counts = success.map { run -> String in
                func number(_ key: String) -> Int { if case .number(let value)? = run.payload[key] { Int(value) } else { 0 } }
                return "\(number("due")) rows, \(number("alerted")) alerted, \(number("already_alerted")) alerted before"
            } ?? "\(completion.alerts) alerted"
            detail = "ran at \(Timestamp.format(completion.completedAt)) (\(counts)); the item was not among the rows it alerted"
        } else if let letter = record.deadLetters.last {
            state = "dead_lettered"
            let replay = letter.replayedAt.map { "replayed at \(Timestamp.format($0)), not completed since" } ?? "not replayed"
            detail = "failed (\(letter.errorClass ?? "unknown")): \(letter.errorMessage ?? "no message"); DLQ row \(letter.id), \(replay)"
        } else if let last = record.runs.last {
            state = last.status == "failure" ? "failed" : "started"
            detail = "\(last.status) at \(Timestamp.format(last.startedAt))\(last.errorMessage.map { ": \($0)" } ?? ""); not completed"
        } else if let slot, slot > now {
            state = "not_due"
            detail = "its slot \(Timestamp.format(slot)) is still ahead"
        } else if job?.enabled == false {
            state = "job_disabled"
            detail = "no record: the job is disabled, so no tick is published"
        } else {
            state = "not_run"
            detail = "no record: not run yet (the tick producer or the workers are behind or stopped), or run before the audit trail was pruned"
        }
        return TickView(
            tickId: record.tickId, kind: kind, slot: slot, windowStart: date("window_start"), windowEnd: date("window_end"), shard: shard,
            traceId: traceId, state: state, detail: detail, record: record)
    }

    /// The answer for an item and due time.
    static func summary(alerted: AlertView?, job: JobDefinition, ticks: [TickView], currentRow: CurrentRow?) -> String {
        if let alerted { return "alerted: tick \(alerted.tick.tickId) published it at \(Timestamp.format(alerted.publishedAt))" }
        if !job.enabled { return "not alerted: job '\(job.name)' is disabled" }
        func count(_ states: String...) -> Int { ticks.filter { states.contains($0.state) }.count }
        let ran = count("completed")
        var parts: [String] = []
        if ran > 0 {
            parts.append(
                currentRow == nil
                    ? "\(ran) tick(s) covering its due time ran and the job's SQL did not return it (nor does it now)"
                    : "\(ran) tick(s) covering its due time ran without it, but the job's SQL returns it now: it was added or changed after they ran")
        }
        if count("dead_lettered", "failed") > 0 { parts.append("\(count("dead_lettered", "failed")) tick(s) failed (see the DLQ rows)") }
        if count("not_run", "started") > 0 { parts.append("\(count("not_run", "started")) tick(s) of past slots not run yet") }
        if count("not_due") > 0 { parts.append("\(count("not_due")) slot(s) still ahead") }
        if currentRow == nil && ran == 0 { parts.append("the job's SQL does not return it now") }
        return "not alerted: " + parts.joined(separator: "; ")
    }
}

extension Optional {
    /// `map` with an asynchronous transform.
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
