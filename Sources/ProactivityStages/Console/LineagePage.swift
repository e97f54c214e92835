import Foundation
import Hummingbird
import Observability
import ProactivityCore
import ProactivityStore

/// `GET /console/lineage`: what `proactivity explain` says, by alert id (`alert_id`) or
/// by job and item (`job`, `item`, optional `due`): the alert, the tick that published
/// it, the tick's runs and dead letters, the ticks whose window covered the due time.
extension ConsoleRoutes {
    func lineage(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        let fields = try FormFields.query(of: request, known: ["alert_id", "job", "item", "due"])
        let alertID = try fields.value("alert_id")
        let job = try fields.value("job")
        let item = try fields.value("item")
        let dueText = try fields.value("due")
        var answer: HTML = .empty
        if let alertID {
            do {
                answer = Self.alert(try await explainer.alert(alertID))
            } catch let error as AlertID.Invalid {
                answer = el("p", .class("error")) { error.description }
            } catch let error as Explainer.NotFound {
                answer = el("p", .class("error"), .id("not-found")) { error.description }
            }
        } else if let job, let item {
            var due: Date?
            if let dueText {
                guard let date = MessageCoding.parseTimestamp(dueText) else {
                    throw HTTPError(.badRequest, message: "due must be an ISO 8601 time like 2026-11-25T10:00:00Z")
                }
                due = date
            }
            answer = Self.item(try await explainer.item(job: job, item: item, due: due))
        } else if job != nil || item != nil || dueText != nil {
            throw HTTPError(.badRequest, message: "Give an alert id, or a job and an item (and a due time).")
        }
        return ConsoleLayout.page("Alert lineage", section: .lineage, csrf: try csrf(request)) {
            el("form", .class("filters panel"), HTMLAttribute("method", "get"), .action("/console/lineage")) {
                ConsoleLayout.input("alert_id", label: "Alert id", value: alertID, placeholder: "job/item/due")
                el("button", .type("submit")) { "Explain" }
            }
            el("form", .class("filters panel"), HTMLAttribute("method", "get"), .action("/console/lineage")) {
                ConsoleLayout.select("job", label: "Job", options: catalog.jobs.map { ($0.name, $0.name) }, selected: job)
                ConsoleLayout.input("item", label: "Item id", value: item)
                ConsoleLayout.input("due", label: "Due (optional)", value: dueText, placeholder: "2026-11-25T10:00:00Z")
                el("button", .type("submit")) { "Explain" }
            }
            answer
        }
    }

    static func alert(_ alert: Explainer.AlertView) -> HTML {
        el("section", .class("panel"), .id("alert")) {
            el("h2") { "Alert \(alert.alertId)" }
            el("dl") {
                pair("job / item") { "\(alert.jobName) / \(alert.itemId)" }
                pair("due") { ConsoleLayout.time(alert.dueAt) }
                pair("published") { ConsoleLayout.time(alert.publishedAt) }
                pair("the item now") { alert.currentRow.map { "user \($0.userId)\($0.title.map { ", \"\($0)\"" } ?? "")" } ?? "the job's SQL no longer returns it" }
                pair("tick attempts") { "\(alert.attempts)" }
                pair("definition") { alert.definition.map { "version \($0.digest.prefix(12)), first seen \(ConsoleLayout.time($0.firstSeenAt))" } ?? "—" }
            }
            tick(alert.tick)
        }
    }

    static func item(_ explanation: Explainer.ItemExplanation) -> HTML {
        el("section", .id("item")) {
            el("p", .class("panel"), .id("explanation")) { explanation.summary }
            for alert in explanation.alerts { Self.alert(alert) }
            if !explanation.coveringTicks.isEmpty {
                el("h2") { "Ticks whose window covered the due time" }
                for view in explanation.coveringTicks { el("div", .class("panel")) { tick(view) } }
            }
        }
    }

    static func tick(_ tick: Explainer.TickView) -> HTML {
        HTML.join([
            el("h2") { "Tick" },
            el("dl", .class("tick")) {
                pair("tick id") { el("span", .class("mono"), .id("tick-id")) { tick.tickId } }
                pair("trace id") {
                    // The tick's W3C trace id, from its audit row; a tick run before trace ids
                    // were recorded has none, and the console does not make one up.
                    if let trace = tick.traceId {
                        el("span", .class("mono"), .id("trace-id")) { trace }
                    } else {
                        el("span", .class("muted"), .id("trace-id")) { "not recorded for this tick" }
                    }
                }
                pair("kind") { tick.kind }
                pair("state") { ConsoleLayout.badge(tick.state) }
                pair("what happened") { tick.detail }
                pair("slot") { ConsoleLayout.time(tick.slot ?? tick.record.completion?.slot) }
                pair("window") { "\(ConsoleLayout.time(tick.windowStart)) to \(ConsoleLayout.time(tick.windowEnd))" }
                pair("shard") { tick.shard.map(String.init) ?? "—" }
                if let request = tick.record.request {
                    pair("requested") { "\(request.kind) by \(request.by) from \(request.host) via \(request.via) at \(ConsoleLayout.time(request.at))" }
                }
            },
            tick.record.runs.isEmpty ? .empty : el("div", .class("scroll")) {
                el("table") {
                    el("thead") { el("tr") { el("th") { "run" }; el("th") { "started" }; el("th", .class("n")) { "runtime" }; el("th") { "error" } } }
                    el("tbody") {
                        for run in tick.record.runs {
                            el("tr") {
                                el("td") { ConsoleLayout.badge(run.status) }
                                el("td") { ConsoleLayout.time(run.startedAt) }
                                el("td", .class("n")) { run.runtimeSeconds.map { String(format: "%.3f s", $0) } ?? "—" }
                                el("td") { run.errorMessage ?? "" }
                            }
                        }
                    }
                }
            },
            tick.record.deadLetters.isEmpty ? .empty : el("p") {
                "Dead letters of this tick: "
                for letter in tick.record.deadLetters {
                    el("a", .href("/console/dlq/row", [("id", String(letter.id))])) { "#\(letter.id)" }
                    " (\(letter.errorClass ?? "unknown"), \(letter.replays) replay(s)) "
                }
            },
        ])
    }
}
