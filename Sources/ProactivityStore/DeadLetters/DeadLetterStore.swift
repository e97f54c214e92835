import Foundation
import Logging
import PostgresNIO
import ProactivityCore

/// A row of `worker_dlq`: one dead-letter record as the mirror stored it.
public struct DeadLetterRow: Sendable, Codable {
    public struct Header: Sendable, Codable, Hashable {
        public var name: String
        /// The value in base64 (headers are bytes); `nil` for a header without value.
        public var value: String?

        public init(name: String, value: String?) {
            self.name = name
            self.value = value
        }
    }

    public var id: Int64
    public var jobName: String?
    public var errorClass: String?
    public var errorMessage: String?
    public var stage: String?
    public var originTopic: String?
    public var originPartition: Int32?
    public var originOffset: Int64?
    public var dlqTopic: String?
    public var dlqPartition: Int32?
    public var dlqOffset: Int64?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [Header]
    public var attempts: Int?
    public var retryCount: Int
    public var correlationId: String?
    /// The error message with its variable parts masked (``ErrorFingerprint``).
    public var fingerprint: String?
    public var createdAt: Date
    public var processedAt: Date?
    /// When the automatic reprocessing parked the row (its replays are spent).
    public var parkedAt: Date?

    /// `replayed` (processed), `parked` or `pending`.
    public var state: DeadLetterState { processedAt != nil ? .replayed : parkedAt != nil ? .parked : .pending }

    /// How often the original message had been replayed when it failed into this row
    /// (its `dlq.replay.count` header; 0 for a first failure); `nil` when the header is
    /// not a plain count (``DeadLetter/replayCount(_:)``): the budget counts as spent.
    public var earlierReplays: Int? {
        guard let header = headers.last(where: { $0.name == DeadLetter.Header.replayCount }) else { return 0 }
        return DeadLetter.replayCount(header.value.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? "")
    }

    /// Replays of the original message so far, this row's included; `nil` when unknown.
    public var totalReplays: Int? { earlierReplays.map { $0 + retryCount } }
}

/// Where a row stands: waiting (`pending`), replayed (or otherwise handled), or parked
/// (a transient failure that failed again after its last allowed automatic replay).
public enum DeadLetterState: String, Sendable, Codable, CaseIterable {
    case pending, parked, replayed
}

/// Unprocessed dead letters of one job and error class.
public struct DeadLetterBacklogGroup: Sendable, Codable {
    public var jobName: String
    public var errorClass: String
    public var rows: Int
    /// Of `rows`, those parked.
    public var parked: Int
    public var oldest: Date
}

/// Unprocessed rows, and how many of them are parked.
public struct DeadLetterBacklog: Sendable, Hashable {
    public var unprocessed: Int
    public var parked: Int
}

/// Which rows an operator means.
public struct DeadLetterFilter: Sendable {
    public var ids: [Int64]?
    public var job: String?
    /// Matched case-insensitively against the error message and class.
    public var errorText: String?
    /// An exact error class (`transient`, `job_sql`, …).
    public var errorClass: String?
    public var since: Date?
    public var until: Date?
    /// `true`: only processed rows; `false`: only unprocessed; `nil`: both.
    public var processed: Bool?
    /// `true`: only parked rows; `false`: only rows not parked; `nil`: both.
    public var parked: Bool?
    /// An exact error fingerprint (``ErrorFingerprint``), as a grouping shows it.
    public var fingerprint: String?
    /// Only rows with a larger id (for paging).
    public var afterID: Int64?
    public var limit: Int

    public init(
        ids: [Int64]? = nil, job: String? = nil, errorText: String? = nil, errorClass: String? = nil, since: Date? = nil,
        until: Date? = nil, processed: Bool? = nil, parked: Bool? = nil, fingerprint: String? = nil, afterID: Int64? = nil,
        limit: Int = 100
    ) {
        self.parked = parked
        self.fingerprint = fingerprint
        self.afterID = afterID
        self.ids = ids
        self.job = job
        self.errorText = errorText
        self.errorClass = errorClass
        self.since = since
        self.until = until
        self.processed = processed
        self.limit = limit
    }
}

/// Reads and writes `worker_dlq`.
public struct DeadLetterStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// A record read from the DLQ topic, to mirror.
    public struct Record: Sendable {
        public var topic: String
        public var partition: Int32
        public var offset: Int64
        public var key: [UInt8]?
        public var value: [UInt8]?
        public var headers: [DeadLetterRow.Header]
        /// The record's timestamp (milliseconds since 1970), when it has one.
        public var timestampMilliseconds: Int64?
        public var letter: DeadLetter?

        public init(
            topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?, headers: [DeadLetterRow.Header],
            timestampMilliseconds: Int64? = nil, letter: DeadLetter?
        ) {
            self.timestampMilliseconds = timestampMilliseconds
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.key = key
            self.value = value
            self.headers = headers
            self.letter = letter
        }
    }

    /// Mirrors one DLQ record; a record mirrored before (same coordinates and same
    /// ``Record/digest``: a redelivery) is left alone, and a record of a later incarnation
    /// of the topic at an earlier record's coordinates gets a row of its own.
    ///
    /// Every record gets a row, whatever its headers carry: text is made storable
    /// (``DeadLetter/sanitized()``), and when PostgreSQL still refuses the row for its
    /// content (SQLSTATE class 22 data, 23 integrity, 42 syntax or access, 54 limits) it is
    /// stored again without its JSON payload, then with its coordinates and raw bytes
    /// only, the refusal noted in `error_message`. Other failures (an unreachable
    /// database) are thrown for the caller to retry.
    /// - Returns: whether a row was inserted (`false`: a redelivery).
    @discardableResult
    public func mirror(_ record: Record) async throws -> Bool {
        var refusal: String?
        for shape in [RowShape.full, .withoutPayload, .bare] {
            do {
                return try await insert(record, shape: shape, refusal: refusal)
            } catch where Self.isRecordsFault(error) && shape != .bare {
                refusal = DatabaseError.describe(error)
                logger.warning("dlq_mirror_record_refused", metadata: ["dlq_offset": .stringConvertible(record.offset), "error": "\(refusal ?? "")"])
            }
        }
        return false
    }

    /// How much of a record a row keeps.
    private enum RowShape { case full, withoutPayload, bare }

    /// Whether PostgreSQL refused the row for what it contains.
    static func isRecordsFault(_ error: Error) -> Bool {
        guard let state = DatabaseError.sqlState(of: error) else { return false }
        return ["22", "23", "42", "54"].contains(String(state.prefix(2)))
    }

    private func insert(_ record: Record, shape: RowShape, refusal: String?) async throws -> Bool {
        let letter = shape == .bare ? nil : record.letter?.sanitized()
        // Names made storable, values in base64: this JSON always casts, so even the bare
        // row keeps every header (replay needs them).
        let headers = String(
            decoding: try JSONEncoder().encode(
                record.headers.map { DeadLetterRow.Header(name: DeadLetter.storable($0.name, limit: 1000), value: $0.value) }),
            as: UTF8.self)
        // The seed's `payload` column keeps the value when it is JSON (for operators' queries).
        let payload = shape != .full ? nil : record.value.flatMap { bytes in
            (try? JSONSerialization.jsonObject(with: Data(bytes))) != nil ? String(decoding: bytes, as: UTF8.self) : nil
        }
        let errorMessage = refusal.map { "the record's context could not be stored as it was (\($0)); its raw key, value and headers are kept" }
            ?? letter?.errorMessage
        let rows = try await client.query(
            """
            INSERT INTO worker_dlq (job_name, payload, error_message, scheduled_for, dlq_topic, dlq_partition, dlq_offset,
                origin_topic, origin_partition, origin_offset, origin_timestamp, message_key, message_value, headers, stage,
                consumer_group, error_class, attempts, first_failure_at, last_failure_at, correlation_id, dlq_record_digest,
                dlq_timestamp, error_fingerprint)
            VALUES (\(letter?.jobName), \(payload)::jsonb, \(errorMessage), \(letter?.originTimestamp), \(record.topic),
                \(record.partition), \(record.offset), \(letter?.originTopic), \(letter?.originPartition), \(letter?.originOffset),
                \(letter?.originTimestamp), \(record.key.map { Data($0) }), \(record.value.map { Data($0) }), \(headers)::jsonb,
                \(letter?.stage), \(letter?.consumerGroup), \(letter?.errorClass.rawValue), \(letter?.attempts),
                \(letter?.firstFailure), \(letter?.lastFailure), \(letter?.correlationId), \(Data(record.digest)),
                \(record.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }),
                \(errorMessage.map(ErrorFingerprint.of)))
            ON CONFLICT ON CONSTRAINT worker_dlq_record_key DO NOTHING
            RETURNING id
            """)
        for try await _ in rows { return true }
        return false
    }

    /// Unprocessed rows, and how many of them are parked.
    public func backlog() async throws -> DeadLetterBacklog {
        let rows = try await client.query(
            "SELECT count(*)::int, (count(*) FILTER (WHERE parked_at IS NOT NULL))::int FROM worker_dlq WHERE processed_at IS NULL")
        for try await (unprocessed, parked) in rows.decode((Int, Int).self) {
            return DeadLetterBacklog(unprocessed: unprocessed, parked: parked)
        }
        return DeadLetterBacklog(unprocessed: 0, parked: 0)
    }

    /// Unprocessed rows grouped by job and error class, largest group first.
    public func backlogGroups() async throws -> [DeadLetterBacklogGroup] {
        let rows = try await client.query(
            """
            SELECT coalesce(job_name, '(unknown)'), coalesce(error_class, '(unknown)'), count(*)::int,
                (count(*) FILTER (WHERE parked_at IS NOT NULL))::int, min(created_at)
            FROM worker_dlq WHERE processed_at IS NULL
            GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
            """)
        var groups: [DeadLetterBacklogGroup] = []
        for try await (job, errorClass, count, parked, oldest) in rows.decode((String, String, Int, Int, Date).self) {
            groups.append(DeadLetterBacklogGroup(jobName: job, errorClass: errorClass, rows: count, parked: parked, oldest: oldest))
        }
        return groups
    }

    /// Rows matching a filter, oldest first, at most `filter.limit`, after `filter.afterID`.
    public func list(_ filter: DeadLetterFilter) async throws -> [DeadLetterRow] {
        let rows = try await client.query(
            selection(
                filter,
                columns: """
                    id, job_name, error_class, error_message, stage, origin_topic, origin_partition, origin_offset,
                    dlq_topic, dlq_partition, dlq_offset, message_key, message_value, headers::text, attempts, retry_count,
                    correlation_id, error_fingerprint, created_at, processed_at, parked_at
                    """,
                tail: "ORDER BY id LIMIT \(filter.limit)"))
        var result: [DeadLetterRow] = []
        for try await row in rows {
            let cells = try row.decode(
                (Int64, String?, String?, String?, String?, String?, Int32?, Int64?, String?, Int32?, Int64?, Data?, Data?, String?,
                 Int?, Int, String?, String?, Date, Date?, Date?).self)
            let headers = cells.13.flatMap { try? JSONDecoder().decode([DeadLetterRow.Header].self, from: Data($0.utf8)) } ?? []
            result.append(
                DeadLetterRow(
                    id: cells.0, jobName: cells.1, errorClass: cells.2, errorMessage: cells.3, stage: cells.4,
                    originTopic: cells.5, originPartition: cells.6, originOffset: cells.7,
                    dlqTopic: cells.8, dlqPartition: cells.9, dlqOffset: cells.10, key: cells.11.map { Array($0) },
                    value: cells.12.map { Array($0) }, headers: headers, attempts: cells.14, retryCount: cells.15,
                    correlationId: cells.16, fingerprint: cells.17, createdAt: cells.18, processedAt: cells.19, parkedAt: cells.20))
        }
        return result
    }

    /// Calls `body` with every row `filter` selects, oldest first, a page of `pageSize`
    /// rows at a time (the filter's cursor and limit are replaced). Each page is read
    /// after `body` returned for the one before, from the id after its last, so rows
    /// `body` changes (replays, parks) are not read twice and the work stays bounded
    /// whatever the backlog; a page shorter than `pageSize` is the last.
    public func forEachPage(_ filter: DeadLetterFilter, pageSize: Int = 500, _ body: ([DeadLetterRow]) async throws -> Void) async throws {
        var filter = filter
        filter.limit = pageSize
        filter.afterID = nil
        while true {
            let page = try await list(filter)
            guard let last = page.last else { return }
            try await body(page)
            guard page.count == pageSize else { return }
            filter.afterID = last.id
        }
    }

    /// How many rows match a filter, whatever its cursor and limit.
    public func count(_ filter: DeadLetterFilter) async throws -> Int {
        var filter = filter
        filter.afterID = nil
        for try await count in try await client.query(selection(filter, columns: "count(*)::int", tail: "")).decode(Int.self) {
            return count
        }
        return 0
    }

    /// `SELECT columns FROM worker_dlq WHERE <the filter> tail`; only `columns` and
    /// `tail` are SQL text (ours), every value is bound.
    func selection(_ filter: DeadLetterFilter, columns: String, tail: String) -> PostgresQuery {
        let pattern = filter.errorText.map { "%\($0)%" }
        return """
            SELECT \(unescaped: columns)
            FROM worker_dlq
            WHERE (\(filter.ids)::bigint[] IS NULL OR id = ANY(\(filter.ids)::bigint[]))
              AND (\(filter.job)::text IS NULL OR job_name = \(filter.job))
              AND (\(filter.afterID)::bigint IS NULL OR id > \(filter.afterID))
              AND (\(filter.errorClass)::text IS NULL OR error_class = \(filter.errorClass))
              AND (\(pattern)::text IS NULL OR error_message ILIKE \(pattern) OR error_class ILIKE \(pattern))
              AND (\(filter.since)::timestamptz IS NULL OR created_at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR created_at < \(filter.until))
              AND (\(filter.processed)::boolean IS NULL OR (processed_at IS NOT NULL) = \(filter.processed))
              AND (\(filter.parked)::boolean IS NULL OR (parked_at IS NOT NULL) = \(filter.parked))
              AND (\(filter.fingerprint)::text IS NULL OR error_fingerprint = \(filter.fingerprint))
            \(unescaped: tail)
            """
    }

    /// Replays rows under a claim: in one transaction, locks the rows among `ids` that no
    /// other replay holds (`FOR UPDATE SKIP LOCKED`) and, unless `force`, that are not
    /// processed; hands their ids to `publish`; marks the ids it returns replayed
    /// (`retry_count + 1`, `processed_at = now()`, no longer parked); commits. Two replays of one row at
    /// the same moment publish it once; a crash before the commit leaves the row
    /// unprocessed (its record may have been published: replay is at-least-once).
    /// - Returns: the ids claimed, and the new retry count of each row marked replayed.
    public func replayClaimed(
        ids: [Int64], force: Bool, _ publish: @escaping @Sendable ([Int64]) async throws -> [Int64]
    ) async throws -> (claimed: [Int64], retryCounts: [Int64: Int]) {
        try await client.withTransaction(logger: logger) { connection in
            var claimed: [Int64] = []
            for try await id in try await connection.query(
                """
                SELECT id FROM worker_dlq
                WHERE id = ANY(\(ids)::bigint[]) AND (\(force) OR processed_at IS NULL)
                ORDER BY id FOR UPDATE SKIP LOCKED
                """, logger: logger
            ).decode(Int64.self) {
                claimed.append(id)
            }
            guard !claimed.isEmpty else { return ([], [:]) }
            let published = try await publish(claimed)
            var retryCounts: [Int64: Int] = [:]
            if !published.isEmpty {
                for try await (id, count) in try await connection.query(
                    """
                    UPDATE worker_dlq SET retry_count = retry_count + 1, processed_at = now(), parked_at = NULL
                    WHERE id = ANY(\(published)::bigint[]) RETURNING id, retry_count
                    """, logger: logger
                ).decode((Int64, Int).self) {
                    retryCounts[id] = count
                }
            }
            return (claimed, retryCounts)
        }
    }

    /// Deletes processed rows older than `cutoff`; with `dryRun`, only counts them.
    public func purge(processedBefore cutoff: Date, dryRun: Bool) async throws -> Int {
        let query: PostgresQuery =
            dryRun
            ? "SELECT count(*)::int FROM worker_dlq WHERE processed_at IS NOT NULL AND processed_at < \(cutoff)"
            : "WITH gone AS (DELETE FROM worker_dlq WHERE processed_at IS NOT NULL AND processed_at < \(cutoff) RETURNING 1) SELECT count(*)::int FROM gone"
        for try await count in try await client.query(query).decode(Int.self) { return count }
        return 0
    }
}
