import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// The alert ledger (`worker_alert_pages`): the alerts the broker acknowledged, so that
/// a tick run again, redelivered or overlapping another never alerts an item twice.
///
/// It holds one row per recorded page (migration 0016): the page's item ids and due
/// times as two arrays, its first and last due time in the key. A page is written as one
/// tuple and one key entry instead of one of each per alert, which costs PostgreSQL a
/// tenth of the time, WAL and disk (figures in `docs/pipeline.md`). The view
/// `worker_alerts_sent` shows it as one row per alert.
///
/// It is partitioned by due time, one partition per UTC day: a page row never spans two
/// days (``record(_:tick:)`` splits it). The partitions are added ahead of time
/// (``addPartitions(from:through:)``) and dropped whole once their day is past the
/// retention (``LedgerRetention``); pages of days without a partition wait in its
/// default partition.
public struct AlertLedger: Sendable {
    private let client: PostgresClient
    private let logger: Logger
    /// How long adding or dropping a partition waits for its lock before giving up until
    /// the next pass: while it waits, the ledger's readers and writers queue behind it.
    private let lockTimeout: Duration

    public init(client: PostgresClient, logger: Logger, lockTimeout: Duration = .milliseconds(500)) {
        self.client = client
        self.logger = logger
        self.lockTimeout = lockTimeout
    }

    /// The items of `page` the alert ledger does not have (same job, item and due time),
    /// in their order: those to alert. Looked up with the ledger's latest commits (also
    /// what another run of the tick recorded meanwhile), in a statement of its own per
    /// page, so that its plan is made for the ledger as it is then and never depends on
    /// how the job's SQL was planned.
    ///
    /// The lookup is `worker_alert_pages_lookup` (migration 0017): one step of the key
    /// over the page's due range first (a page nothing of the job was recorded for costs
    /// that alone), then the recorded pages that meet that range, unfolded into a hash,
    /// never a scan of a day partition that the window's own pages are being written
    /// into. Where that range holds over 50 recorded alerts per item of the page (items
    /// the job's SQL returned outside `window`, overdue ones, spread the range over days),
    /// those outside `window` are looked up one by one instead, and only the range of
    /// those inside it is unfolded. Either way a sloppy job query does not alert twice.
    /// - Parameter window: the tick's window, `end` excluded.
    public func unsent(_ page: [DueItem], job: JobDefinition, window: (start: Date, end: Date)) async throws -> [DueItem] {
        guard !page.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(job.name)
        binds.append(page.map(\.itemId))
        binds.append(page.map(\.dueAt))
        binds.append(window.start)
        binds.append(window.end)
        let lookup = PostgresQuery(unsafeSQL: "SELECT worker_alert_pages_lookup($1, $2, $3, $4, $5)", binds: binds)
        var sent = Set<Int>()
        for try await ordinal in try await client.query(lookup, logger: logger).decode(Int.self) { sent.insert(ordinal - 1) }
        guard !sent.isEmpty else { return page }
        return page.indices.filter { !sent.contains($0) }.map { page[$0] }
    }

    /// Records alerts as sent (after the broker acknowledged them), one row per UTC day
    /// they are due on (a page's alerts are almost always due on one), in one
    /// transaction: a later run of the tick skips them.
    ///
    /// The commit does not wait for its WAL to reach disk (`synchronous_commit` off): the
    /// tick's completion, committed synchronously after the last page, flushes it. A
    /// server crash before that can lose pages of an uncompleted tick, whose next run then
    /// re-sends those alerts with the same ids: what at-least-once allows.
    public func record(_ alerts: [SentAlert], tick: TickMessage) async throws {
        guard !alerts.isEmpty else { return }
        let days = Self.byUTCDay(alerts)
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SET LOCAL synchronous_commit = off", logger: logger)
            for day in days {
                var binds = PostgresBindings()
                binds.append(tick.jobName)
                binds.append(tick.tickId)
                binds.append(day.first)
                binds.append(day.last)
                binds.append(day.alerts.count)
                binds.append(day.alerts.map(\.itemId))
                binds.append(day.alerts.map(\.dueAt))
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO worker_alert_pages (job_name, tick_id, first_due, last_due, items, item_ids, due_ats)
                            VALUES ($1, $2, $3, $4, $5, $6::text[], $7::timestamptz[])
                            """, binds: binds), logger: logger)
            }
        }
    }

    /// The alerts of one UTC day, with their earliest and latest due time: one ledger row.
    struct DayOfAlerts: Equatable {
        var first: Date
        var last: Date
        var alerts: [SentAlert]
    }

    /// `alerts` grouped by the UTC day they are due on, each group in the alerts' order,
    /// the days in order of their first alert.
    static func byUTCDay(_ alerts: [SentAlert]) -> [DayOfAlerts] {
        var days: [Date: Int] = [:]
        var groups: [DayOfAlerts] = []
        for alert in alerts {
            let day = utcDay(of: alert.dueAt)
            if let index = days[day] {
                groups[index].first = min(groups[index].first, alert.dueAt)
                groups[index].last = max(groups[index].last, alert.dueAt)
                groups[index].alerts.append(alert)
            } else {
                days[day] = groups.count
                groups.append(DayOfAlerts(first: alert.dueAt, last: alert.dueAt, alerts: [alert]))
            }
        }
        return groups
    }

    /// An alert the broker acknowledged: what the ledger keeps of it (its id is
    /// `job:item@due`, ``AlertMessage/id(job:itemId:dueAt:)``).
    public struct SentAlert: Sendable, Equatable {
        public var itemId: String
        public var dueAt: Date

        public init(itemId: String, dueAt: Date) {
            self.itemId = itemId
            self.dueAt = dueAt
        }
    }

    /// Adds the alert ledger's partitions of the UTC days from `start` through `end`
    /// that do not exist yet, moving those days' pages out of the default partition.
    /// - Returns: the partitions added.
    /// - Throws: database errors, including a lock not obtained in time (the partitions
    ///   added until then stay).
    @discardableResult
    public func addPartitions(from start: Date, through end: Date) async throws -> Int {
        var added = 0
        var day = Self.utcDay(of: start)
        while day <= end {
            let created = try await client.withTransaction(logger: logger) { connection in
                try await setLockTimeout(on: connection)
                for try await created in try await connection.query(
                    "SELECT worker_alert_pages_add_partition((\(day) AT TIME ZONE 'UTC')::date)", logger: logger
                ).decode(Bool.self) {
                    return created
                }
                return false
            }
            if created {
                added += 1
                logger.info("ledger_partition_added", metadata: ["day": "\(day.formatted(Date.ISO8601FormatStyle().year().month().day()))"])
            }
            day = day.addingTimeInterval(86_400)
        }
        return added
    }

    /// Drops the alert ledger's day partitions whose day ends by `cutoff`, oldest first,
    /// each in its own short transaction (`worker_alert_pages_drop_partition`, which runs
    /// with the ledger owner's rights). - Returns: the alerts they held.
    func dropPartitions(endingBy cutoff: Date) async throws -> Int {
        var partitions: [String] = []
        for try await name in try await client.query(
            """
            SELECT c.oid::regclass::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'worker_alert_pages'::regclass AND c.relname ~ '^worker_alert_pages_[0-9]{8}$'
              AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= \(cutoff)
            ORDER BY c.relname
            """, logger: logger
        ).decode(String.self) {
            partitions.append(name)
        }
        var alerts = 0
        for partition in partitions {
            alerts += try await client.withTransaction(logger: logger) { connection in
                try await setLockTimeout(on: connection)
                for try await held in try await connection.query(
                    "SELECT worker_alert_pages_drop_partition(\(partition)::regclass)::int", logger: logger
                ).decode(Int.self) {
                    return held
                }
                return 0
            }
            logger.info("ledger_partition_dropped", metadata: ["partition": .stringConvertible(partition)])
        }
        return alerts
    }

    private func setLockTimeout(on connection: PostgresConnection) async throws {
        let milliseconds = lockTimeout.components.seconds * 1000 + lockTimeout.components.attoseconds / 1_000_000_000_000_000
        try await connection.query("SELECT set_config('lock_timeout', \(String(milliseconds)), true)", logger: logger)
    }

    /// The start of `date`'s UTC day: the lower bound of its alert ledger partition.
    public static func utcDay(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }
}
