import Foundation
import Hummingbird
import Observability
import ProactivityCore
import ProactivityStore

/// `GET /console/dlq/rows`: the rows the filters select, 100 a page (`after` pages on),
/// each with a box to select it for replay; the form previews a replay of the selected
/// rows or of every row the filters select.
extension ConsoleRoutes {
    static let rowsShown = 100

    func deadLetterRows(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        let fields = try FormFields.query(of: request, known: DeadLetterSelection.fields.union(["after"]))
        let selection = try DeadLetterSelection(fields)
        var filter = selection.filter(limit: Self.rowsShown)
        if let after = try fields.value("after") {
            guard let id = Int64(after), id >= 0 else { throw HTTPError(.badRequest, message: "after must be a row id") }
            filter.afterID = id
        }
        let rows = try await store.list(filter)
        let total = try await store.count(filter)
        let csrf = try csrf(request)
        return ConsoleLayout.page("Dead letters: rows", section: .dlq, csrf: csrf) {
            filters(selection, grouping: nil)
            el("p", .class("muted")) {
                "\(total) row(s) match; "
                rows.isEmpty ? "none on this page." : "#\(rows.first!.id) to #\(rows.last!.id) shown. "
                el("a", .href("/console/dlq", selection.items)) { "Groups of these rows" }
            }
            ConsoleLayout.form("/console/replay/preview", csrf: csrf, .id("replay-form")) {
                selection.hiddenFields
                el("div", .class("scroll")) {
                    el("table", .id("rows")) {
                        el("thead") {
                            el("tr") {
                                el("th") { "select" }
                                el("th", .class("n")) { "id" }
                                el("th") { "job" }
                                el("th") { "class" }
                                el("th") { "error" }
                                el("th") { "state" }
                                el("th") { "written" }
                            }
                        }
                        el("tbody") {
                            for row in rows {
                                el("tr") {
                                    el("td") {
                                        el("input", .type("checkbox"), .name("id"), .value(String(row.id)), HTMLAttribute("aria-label", "select row \(row.id)"))
                                    }
                                    el("td", .class("n")) { el("a", .href("/console/dlq/row", [("id", String(row.id))])) { "#\(row.id)" } }
                                    el("td") { row.jobName ?? "—" }
                                    el("td") { row.errorClass ?? "—" }
                                    el("td") { String((row.errorMessage ?? "").prefix(240)) }
                                    el("td") { ConsoleLayout.badge(row.state.rawValue) }
                                    el("td") { ConsoleLayout.time(row.createdAt) }
                                }
                            }
                        }
                    }
                }
                el("div", .class("actions")) {
                    el("button", .type("submit"), .name("scope"), .value("selected")) { "Preview replay of the selected rows" }
                    if !selection.isEmpty {
                        el("button", .type("submit"), .class("secondary"), .name("scope"), .value("filter")) { "Preview replay of all \(total) matching rows" }
                    }
                    el("label", .class("inline")) {
                        el("span") { "replay rows replayed before too (force)" }
                        el("input", .type("checkbox"), .name("force"), .value("true"))
                    }
                }
            }
            if rows.count == Self.rowsShown, let last = rows.last {
                el("p") { el("a", .href("/console/dlq/rows", selection.items + [("after", String(last.id))])) { "Next page →" } }
            }
        }
    }
}
