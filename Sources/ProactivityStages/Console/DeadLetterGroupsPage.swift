import Foundation
import Hummingbird
import Observability
import ProactivityCore
import ProactivityStore

/// `GET /console/dlq`: dead letters grouped by class, job or fingerprint, with counts by
/// state and first/last seen, under the filters (job, class, state, time); each group
/// links to its rows.
extension ConsoleRoutes {
    static let groupsShown = 50

    func deadLetterGroups(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        let fields = try FormFields.query(of: request, known: DeadLetterSelection.fields.union(["group_by"]))
        let selection = try DeadLetterSelection(fields)
        let groupingText = try fields.value("group_by") ?? DeadLetterGrouping.errorClass.rawValue
        guard let grouping = DeadLetterGrouping(rawValue: groupingText) else {
            throw HTTPError(.badRequest, message: "group_by must be one of \(DeadLetterGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let filter = selection.filter(limit: Self.groupsShown)
        let (groups, total) = try await store.groups(filter, by: grouping)
        let rows = groups.reduce(0) { $0 + $1.rows }
        return ConsoleLayout.page("Dead letters", section: .dlq, csrf: try csrf(request)) {
            filters(selection, grouping: grouping)
            el("p", .class("muted")) {
                "\(total) group(s) by \(Self.groupingTitle(grouping)); "
                total > groups.count ? "the \(groups.count) largest shown, " : ""
                "\(rows) row(s) in them. "
                el("a", HTMLAttribute.href("/console/dlq/rows", selection.items)) { "List these rows" }
            }
            el("div", .class("scroll")) {
                el("table", .id("groups")) {
                    el("thead") {
                        el("tr") {
                            el("th") { Self.groupingTitle(grouping) }
                            el("th", .class("n")) { "rows" }
                            el("th", .class("n")) { "pending" }
                            el("th", .class("n")) { "parked" }
                            el("th", .class("n")) { "replayed" }
                            el("th") { "first seen" }
                            el("th") { "last seen" }
                            el("th") { "example" }
                        }
                    }
                    el("tbody") {
                        for group in groups {
                            el("tr") {
                                el("td", .class(grouping == .fingerprint ? "mono" : "")) {
                                    if let key = group.key {
                                        el("a", .href("/console/dlq/rows", selection.narrowed(to: grouping, key: key).items)) { key }
                                    } else {
                                        el("span", .class("muted")) { "(none)" }
                                    }
                                }
                                el("td", .class("n")) { "\(group.rows)" }
                                el("td", .class("n")) { "\(group.pending)" }
                                el("td", .class("n")) { "\(group.parked)" }
                                el("td", .class("n")) { "\(group.replayed)" }
                                el("td") { ConsoleLayout.time(group.firstSeen) }
                                el("td") { ConsoleLayout.time(group.lastSeen) }
                                el("td") { el("a", .href("/console/dlq/row", [("id", String(group.exampleId))])) { "#\(group.exampleId)" } }
                            }
                        }
                    }
                }
            }
            if groups.isEmpty { el("p") { "No dead letters match." } }
        }
    }

    static func groupingTitle(_ grouping: DeadLetterGrouping) -> String {
        switch grouping {
        case .errorClass: "error class"
        case .job: "job"
        case .fingerprint: "error fingerprint"
        }
    }

    /// The filter form of the DLQ pages: every choice of `selection` is a field of it, so
    /// showing again keeps what the page was filtered by (a link's time range included).
    func filters(_ selection: DeadLetterSelection, grouping: DeadLetterGrouping?) -> HTML {
        el("form", .class("filters panel"), HTMLAttribute("method", "get"), .action(grouping == nil ? "/console/dlq/rows" : "/console/dlq")) {
            if let grouping {
                ConsoleLayout.select(
                    "group_by", label: "Group by", options: DeadLetterGrouping.allCases.map { ($0.rawValue, Self.groupingTitle($0)) },
                    selected: grouping.rawValue)
            }
            ConsoleLayout.select("job", label: "Job", options: [("", "any")] + catalog.jobs.map { ($0.name, $0.name) }, selected: selection.job)
            ConsoleLayout.select(
                "class", label: "Error class", options: [("", "any")] + FailureClass.allCases.map { ($0.rawValue, $0.rawValue) },
                selected: selection.errorClass)
            ConsoleLayout.select(
                "state", label: "State", options: [("", "any")] + DeadLetterState.allCases.map { ($0.rawValue, $0.rawValue) },
                selected: selection.state?.rawValue)
            ConsoleLayout.select(
                "within", label: "Written within", options: [("", "any time")] + DeadLetterSelection.withinChoices.map { ($0.0, "last \($0.0)") },
                selected: selection.within)
            ConsoleLayout.input("since", label: "Written since", value: selection.since.map(Timestamp.format), placeholder: "2026-11-25T10:00:00Z")
            ConsoleLayout.input("until", label: "Written before", value: selection.until.map(Timestamp.format), placeholder: "2026-11-25T11:00:00Z")
            if let fingerprint = selection.fingerprint { el("input", .type("hidden"), .name("fingerprint"), .value(fingerprint)) }
            el("button", .type("submit")) { "Show" }
        }
    }
}
