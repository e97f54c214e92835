import Foundation
import Hummingbird
import Observability
import ProactivityCore
import ProactivityStore

/// `POST /console/replay/preview` and `POST /console/replay`: a replay of the selected
/// rows (`scope=selected`, `id` fields) or of every row the filters select
/// (`scope=filter`). The preview is the replayer's dry run: what would be republished,
/// to which topics, how many, and what would be skipped and why; its form confirms. The
/// replay itself is the replayer's, with the CLI's rules (rows claimed atomically, each
/// replayed once unless forced, only to `DLQ_REPLAY_TOPICS`), paced at the rate given
/// when it covers more than ``pacedAbove`` rows. One confirmation covers at most
/// ``replayLimit`` rows, at a rate that ends within ``longestReplaySeconds``: larger or
/// slower replays belong to `proactivity dlq replay --rate`.
extension ConsoleRoutes {
    static let replayLimit = 5000
    static let pacedAbove = 100
    static let defaultRate = "100/s"
    /// A paced replay answers within this long (the browser waits for it).
    static let longestReplaySeconds = 300.0

    func replay(_ request: Request, _ context: EngineRequestContext, dryRun: Bool) async throws -> Response {
        let fields = try await FormFields.body(
            of: request, known: DeadLetterSelection.fields.union(["csrf", "scope", "id", "force", "rate"]))
        let selection = try DeadLetterSelection(fields)
        let force = try fields.value("force") == "true"
        let scope = try fields.value("scope")
        let ids: [Int64]
        let rows: [DeadLetterRow]
        switch scope {
        case "selected":
            ids = try fields.all("id").map { text in
                guard let id = Int64(text), id > 0 else { throw HTTPError(.badRequest, message: "a selected row id is not a positive whole number") }
                return id
            }
            guard !ids.isEmpty else { throw HTTPError(.badRequest, message: "Select at least one row to replay.") }
            guard ids.count <= Self.replayLimit else { throw HTTPError(.badRequest, message: "Select at most \(Self.replayLimit) rows.") }
            rows = try await store.list(DeadLetterFilter(ids: ids, limit: ids.count))
        case "filter":
            guard !selection.isEmpty else { throw HTTPError(.badRequest, message: "A replay by filter needs at least one filter.") }
            var filter = selection.filter(limit: Self.replayLimit)
            if !force { filter.processed = false }
            let count = try await store.count(filter)
            guard count <= Self.replayLimit else {
                throw HTTPError(
                    .badRequest,
                    message: "\(count) rows match: the console replays at most \(Self.replayLimit) at once. Narrow the filters, or use `proactivity dlq replay` with --rate.")
            }
            rows = try await store.list(filter)
            ids = []
        default:
            throw HTTPError(.badRequest, message: "scope must be selected or filter")
        }
        let rate = try rows.count > Self.pacedAbove ? Self.rate(try fields.value("rate") ?? Self.defaultRate) : nil
        if let rate, Double(rows.count) / rate.perSecond > Self.longestReplaySeconds {
            throw HTTPError(
                .badRequest,
                message: "At \(rate.description) \(rows.count) rows take longer than the console waits (\(Int(Self.longestReplaySeconds)) s): give a higher rate, or use `proactivity dlq replay --rate`.")
        }
        let outcome = try await replayer.replay(rows, force: force, dryRun: dryRun, rate: rate)
        let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
        let destinations = Dictionary(grouping: outcome.replayed.compactMap { byID[$0]?.originTopic }, by: { $0 }).mapValues(\.count)
        if !dryRun {
            logger.notice(
                "console_replay",
                metadata: [
                    "peer": "\(Self.peer(context))", "replayed": .stringConvertible(outcome.replayed.count), "skipped": .stringConvertible(outcome.skipped.count),
                    "failed": .stringConvertible(outcome.failed.count), "force": .stringConvertible(force), "rate": "\(rate?.description ?? "none")",
                ])
        }
        let csrf = try csrf(request)
        let title = dryRun ? "Replay preview" : "Replay result"
        return ConsoleLayout.page(title, section: .dlq, csrf: csrf) {
            el("div", .class("panel"), .id("outcome")) {
                el("p", .id("summary")) {
                    dryRun
                        ? "Dry run: \(outcome.replayed.count) of \(rows.count) row(s) would be republished; \(outcome.skipped.count) would be skipped."
                        : "Replayed \(outcome.replayed.count) of \(rows.count) row(s); \(outcome.skipped.count) skipped, \(outcome.failed.count) failed."
                }
                if !destinations.isEmpty {
                    el("p") { dryRun ? "Where they would go:" : "Where they went:" }
                    el("ul", .id("destinations")) {
                        for (topic, count) in destinations.sorted(by: { $0.key < $1.key }) { el("li") { "\(count) to topic \(topic)" } }
                    }
                }
                if let rate { el("p") { "Paced at \(rate.description) (more than \(Self.pacedAbove) rows)." } }
            }
            Self.idList("Rows", outcome.replayed)
            Self.reasons("Skipped", outcome.skipped)
            Self.reasons("Failed", outcome.failed)
            if dryRun && !outcome.replayed.isEmpty {
                ConsoleLayout.form("/console/replay", csrf: csrf, .class("panel"), .id("confirm")) {
                    el("input", .type("hidden"), .name("scope"), .value(scope ?? ""))
                    for id in ids { el("input", .type("hidden"), .name("id"), .value(String(id))) }
                    if scope == "filter" { selection.hiddenFields }
                    if force { el("input", .type("hidden"), .name("force"), .value("true")) }
                    if rows.count > Self.pacedAbove { ConsoleLayout.input("rate", label: "Rate (rows per second: N/s or N/m)", value: rate?.description) }
                    el("div", .class("actions")) {
                        el("button", .type("submit"), .class("danger")) { "Replay \(outcome.replayed.count) row(s) now" }
                        el("a", .href("/console/dlq")) { "Cancel" }
                    }
                }
            }
            el("p") { el("a", .href("/console/dlq/rows", selection.items)) { "Back to the rows" } }
        }
    }

    static func rate(_ text: String) throws -> ReplayRate {
        guard let rate = ReplayRate(text) else {
            throw HTTPError(.badRequest, message: "rate must be like 50/s or 30/m (at most 100000/s, at least 1/m), not '\(text.prefix(100))'")
        }
        return rate
    }

    static func idList(_ title: String, _ ids: [Int64]) -> HTML {
        guard !ids.isEmpty else { return .empty }
        return el("p", .id("replayed-rows")) {
            "\(title): "
            for id in ids.prefix(200) {
                el("a", .href("/console/dlq/row", [("id", String(id))])) { "#\(id)" }
                " "
            }
            ids.count > 200 ? "… and \(ids.count - 200) more" : ""
        }
    }

    static func reasons(_ title: String, _ rows: [DeadLetterReplayer.Outcome.Skipped]) -> HTML {
        guard !rows.isEmpty else { return .empty }
        return HTML.join([
            el("h2") { "\(title) (\(rows.count))" },
            el("div", .class("scroll")) {
                el("table", .id(title.lowercased())) {
                    el("tbody") {
                        for row in rows.prefix(200) {
                            el("tr") {
                                el("td", .class("n")) { el("a", .href("/console/dlq/row", [("id", String(row.id))])) { "#\(row.id)" } }
                                el("td") { row.reason }
                            }
                        }
                    }
                }
            },
        ])
    }
}
