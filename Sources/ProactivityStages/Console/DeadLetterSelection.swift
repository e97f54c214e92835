import Foundation
import Hummingbird
import ProactivityCore
import ProactivityStore

/// The DLQ filters of the console's pages and forms (job, class, fingerprint, state,
/// time), read strictly from fields and written back as link and hidden-field values.
struct DeadLetterSelection: Sendable {
    var job: String?
    var errorClass: String?
    var fingerprint: String?
    var state: DeadLetterState?
    /// `1h`, `24h`, `7d` or `30d`: rows written within that long before now.
    var within: String?
    var since: Date?
    var until: Date?

    static let fields: Set<String> = ["job", "class", "fingerprint", "state", "within", "since", "until"]
    static let withinChoices: [(String, TimeInterval)] = [("1h", 3600), ("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)]

    init() {}

    /// - Throws: `HTTPError` 400 naming a bad value.
    init(_ fields: FormFields) throws {
        job = try fields.value("job")
        errorClass = try fields.value("class")
        if let errorClass, FailureClass(rawValue: errorClass) == nil {
            throw HTTPError(.badRequest, message: "class must be one of \(FailureClass.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        fingerprint = try fields.value("fingerprint")
        if let fingerprint, fingerprint.unicodeScalars.count > ErrorFingerprint.maximumLength {
            throw HTTPError(.badRequest, message: "fingerprint is longer than \(ErrorFingerprint.maximumLength) characters")
        }
        if let text = try fields.value("state") {
            guard let state = DeadLetterState(rawValue: text) else {
                throw HTTPError(.badRequest, message: "state must be one of \(DeadLetterState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.state = state
        }
        within = try fields.value("within")
        if let within, !Self.withinChoices.contains(where: { $0.0 == within }) {
            throw HTTPError(.badRequest, message: "within must be one of \(Self.withinChoices.map(\.0).joined(separator: ", "))")
        }
        since = try Self.date(fields, "since")
        until = try Self.date(fields, "until")
    }

    private static func date(_ fields: FormFields, _ name: String) throws -> Date? {
        guard let text = try fields.value(name) else { return nil }
        guard let date = MessageCoding.parseTimestamp(text) else {
            throw HTTPError(.badRequest, message: "\(name) must be an ISO 8601 time like 2026-11-25T10:00:00Z, not '\(text.prefix(100))'")
        }
        return date
    }

    /// The store's filter for these choices.
    func filter(limit: Int, now: Date = Date()) -> DeadLetterFilter {
        var filter = DeadLetterFilter(job: job, errorClass: errorClass, since: since, until: until, fingerprint: fingerprint, limit: limit)
        if let within, let seconds = Self.withinChoices.first(where: { $0.0 == within })?.1 {
            filter.since = max(since ?? .distantPast, now.addingTimeInterval(-seconds))
        }
        switch state {
        case .pending: (filter.processed, filter.parked) = (false, false)
        case .parked: (filter.processed, filter.parked) = (false, true)
        case .replayed: filter.processed = true
        case nil: break
        }
        return filter
    }

    /// Whether any filter is set (a replay by filter needs one).
    var isEmpty: Bool { job == nil && errorClass == nil && fingerprint == nil && state == nil && within == nil && since == nil && until == nil }

    /// The choices as name/value pairs, for links and hidden fields.
    var items: [(String, String)] {
        [
            ("job", job), ("class", errorClass), ("fingerprint", fingerprint), ("state", state?.rawValue), ("within", within),
            ("since", since.map(Timestamp.format)), ("until", until.map(Timestamp.format)),
        ].compactMap { name, value in value.map { (name, $0) } }
    }

    /// Hidden fields carrying the choices through a form.
    var hiddenFields: [HTML] { items.map { el("input", .type("hidden"), .name($0.0), .value($0.1)) } }

    /// These choices narrowed to one group's key.
    func narrowed(to grouping: DeadLetterGrouping, key: String) -> DeadLetterSelection {
        var selection = self
        switch grouping {
        case .errorClass: selection.errorClass = key
        case .job: selection.job = key
        case .fingerprint: selection.fingerprint = key
        }
        return selection
    }
}
