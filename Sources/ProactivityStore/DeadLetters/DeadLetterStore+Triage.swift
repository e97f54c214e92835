import Foundation
import PostgresNIO
import ProactivityCore

/// What `dlq list --group-by` groups rows by.
public enum DeadLetterGrouping: String, Sendable, CaseIterable, Codable {
    /// The error class (`transient`, `job_sql`, …).
    case errorClass = "class"
    /// The job's name.
    case job
    /// The error message with its variable parts masked (``ErrorFingerprint``).
    case fingerprint

    /// The grouped column: SQL text of ours, never a value from outside.
    var column: String {
        switch self {
        case .errorClass: "error_class"
        case .job: "job_name"
        case .fingerprint: "error_fingerprint"
        }
    }
}

/// Rows sharing a class, job or fingerprint.
public struct DeadLetterGroup: Sendable, Codable, Hashable {
    /// The class, job or fingerprint; `nil` for rows without one.
    public var key: String?
    public var rows: Int
    /// Of `rows`, by ``DeadLetterState``.
    public var pending: Int
    public var parked: Int
    public var replayed: Int
    /// When the group's first and last rows were written.
    public var firstSeen: Date
    public var lastSeen: Date
    /// The group's oldest row, to look at with `dlq show`.
    public var exampleId: Int64
}

extension DeadLetterStore {
    /// The rows `filter` selects (its cursor ignored), grouped, largest group first, at
    /// most `filter.limit` groups.
    /// - Returns: the groups, and how many groups there are in all.
    public func groups(_ filter: DeadLetterFilter, by grouping: DeadLetterGrouping) async throws -> (groups: [DeadLetterGroup], total: Int) {
        var filter = filter
        filter.afterID = nil
        let rows = try await client.query(
            selection(
                filter,
                columns: """
                    \(grouping.column), count(*)::int,
                    (count(*) FILTER (WHERE processed_at IS NULL AND parked_at IS NULL))::int,
                    (count(*) FILTER (WHERE processed_at IS NULL AND parked_at IS NOT NULL))::int,
                    (count(*) FILTER (WHERE processed_at IS NOT NULL))::int,
                    min(created_at), max(created_at), min(id), (count(*) OVER ())::int
                    """,
                tail: "GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST LIMIT \(filter.limit)"))
        var groups: [DeadLetterGroup] = []
        var total = 0
        for try await (key, count, pending, parked, replayed, first, last, example, all) in rows.decode(
            (String?, Int, Int, Int, Int, Date, Date, Int64, Int).self)
        {
            groups.append(
                DeadLetterGroup(
                    key: key, rows: count, pending: pending, parked: parked, replayed: replayed, firstSeen: first, lastSeen: last,
                    exampleId: example))
            total = all
        }
        return (groups, total)
    }

    /// Parks unprocessed rows among `ids` (see ``DeadLetterState/parked``).
    /// - Returns: the ids parked now (not those parked before or processed meanwhile).
    @discardableResult
    public func park(ids: [Int64]) async throws -> [Int64] {
        var parked: [Int64] = []
        let rows = try await client.query(
            """
            UPDATE worker_dlq SET parked_at = now()
            WHERE id = ANY(\(ids)::bigint[]) AND processed_at IS NULL AND parked_at IS NULL
            RETURNING id
            """)
        for try await id in rows.decode(Int64.self) { parked.append(id) }
        return parked.sorted()
    }

    /// Fills in the fingerprint of rows written before the column existed (or by an
    /// older mirror), `batchSize` rows per statement.
    /// - Returns: how many rows were filled in.
    @discardableResult
    public func backfillFingerprints(batchSize: Int = 2000) async throws -> Int {
        var filled = 0
        while true {
            var ids: [Int64] = []
            var fingerprints: [String] = []
            let rows = try await client.query(
                """
                SELECT id, error_message FROM worker_dlq
                WHERE error_fingerprint IS NULL AND error_message IS NOT NULL ORDER BY id LIMIT \(batchSize)
                """)
            for try await (id, message) in rows.decode((Int64, String).self) {
                ids.append(id)
                fingerprints.append(ErrorFingerprint.of(message))
            }
            guard !ids.isEmpty else { return filled }
            try await client.query(
                """
                UPDATE worker_dlq AS row SET error_fingerprint = given.fingerprint
                FROM unnest(\(ids)::bigint[], \(fingerprints)::text[]) AS given(id, fingerprint)
                WHERE row.id = given.id
                """)
            filled += ids.count
        }
    }
}
