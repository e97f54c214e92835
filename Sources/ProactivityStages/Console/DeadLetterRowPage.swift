import Foundation
import Hummingbird
import Observability
import ProactivityCore
import ProactivityStore

/// `GET /console/dlq/row?id=N`: one dead letter: its failure, origin coordinates, replay
/// history and state, every header, its key and value (``RecordBytes``), and a button
/// to preview its replay.
extension ConsoleRoutes {
    func deadLetterRow(_ request: Request, _ context: EngineRequestContext) async throws -> Response {
        let fields = try FormFields.query(of: request, known: ["id"])
        guard let text = try fields.value("id"), let id = Int64(text), id > 0 else {
            throw HTTPError(.badRequest, message: "id must be a positive whole number")
        }
        guard let row = try await store.list(DeadLetterFilter(ids: [id], limit: 1)).first else {
            throw HTTPError(.notFound, message: "There is no dead letter #\(id).")
        }
        let csrf = try csrf(request)
        let replayedFrom = row.headers.last { $0.name == DeadLetter.Header.replayID }.flatMap(Self.headerText).flatMap { Int64($0) }
        return ConsoleLayout.page("Dead letter #\(row.id)", section: .dlq, csrf: csrf) {
            el("div", .class("panel")) {
                el("dl", .id("summary")) {
                    Self.pair("state") { ConsoleLayout.badge(row.state.rawValue) }
                    Self.pair("job") { row.jobName ?? "—" }
                    Self.pair("error class") { row.errorClass ?? "—" }
                    Self.pair("error") { row.errorMessage ?? "—" }
                    Self.pair("fingerprint") {
                        if let fingerprint = row.fingerprint {
                            el("a", .class("mono"), .href("/console/dlq/rows", [("fingerprint", fingerprint)])) { fingerprint }
                        } else {
                            "—"
                        }
                    }
                    Self.pair("stage") { row.stage ?? "—" }
                    Self.pair("attempts") { row.attempts.map(String.init) ?? "—" }
                    Self.pair("correlation id") { row.correlationId ?? "—" }
                    Self.pair("written") { ConsoleLayout.time(row.createdAt) }
                }
            }
            el("h2") { "Origin" }
            el("div", .class("panel")) {
                el("dl", .id("origin")) {
                    Self.pair("origin topic") { row.originTopic ?? "—" }
                    Self.pair("origin partition / offset") { "\(row.originPartition.map(String.init) ?? "—") / \(row.originOffset.map(String.init) ?? "—")" }
                    Self.pair("DLQ topic") { row.dlqTopic ?? "—" }
                    Self.pair("DLQ partition / offset") { "\(row.dlqPartition.map(String.init) ?? "—") / \(row.dlqOffset.map(String.init) ?? "—")" }
                }
            }
            el("h2") { "Replay history" }
            el("div", .class("panel")) {
                el("dl", .id("history")) {
                    Self.pair("replays of this row") { "\(row.retryCount)" }
                    Self.pair("last replayed") { ConsoleLayout.time(row.processedAt) }
                    Self.pair("replays of the message before it failed into this row") {
                        row.earlierReplays.map(String.init) ?? "unknown (its dlq.replay.count header is not a count)"
                    }
                    Self.pair("replayed from") {
                        if let replayedFrom {
                            el("a", .href("/console/dlq/row", [("id", String(replayedFrom))])) { "dead letter #\(replayedFrom)" }
                        } else {
                            "— (a first failure)"
                        }
                    }
                    Self.pair("parked") { row.parkedAt.map { "since \(ConsoleLayout.time($0)): its automatic replays are spent" } ?? "no" }
                }
                ConsoleLayout.form("/console/replay/preview", csrf: csrf, .class("actions")) {
                    el("input", .type("hidden"), .name("id"), .value(String(row.id)))
                    el("input", .type("hidden"), .name("scope"), .value("selected"))
                    if row.processedAt != nil { el("input", .type("hidden"), .name("force"), .value("true")) }
                    el("button", .type("submit")) { row.processedAt == nil ? "Preview replay" : "Preview replay again (force)" }
                }
            }
            el("h2") { "Headers (\(row.headers.count))" }
            el("div", .class("scroll")) {
                el("table", .id("headers")) {
                    el("thead") { el("tr") { el("th") { "name" }; el("th") { "value" } } }
                    el("tbody") {
                        for header in row.headers {
                            el("tr") {
                                el("td", .class("mono")) { header.name }
                                el("td", .class("mono")) {
                                    if let value = header.value.flatMap({ Data(base64Encoded: $0) }) {
                                        RecordBytes.show(Array(value)).body
                                    } else {
                                        el("span", .class("muted")) { "(no value)" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            Self.bytes("Key", row.key)
            Self.bytes("Value", row.value)
        }
    }

    static func headerText(_ header: DeadLetterRow.Header) -> String? {
        header.value.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }

    static func pair(_ term: String, @HTMLBuilder _ definition: () -> [HTML]) -> HTML {
        HTML.join([el("dt") { term }, HTML.element("dd", [], definition())])
    }

    static func bytes(_ title: String, _ bytes: [UInt8]?) -> HTML {
        guard let bytes else { return HTML.join([el("h2") { title }, el("p", .class("muted")) { "(none)" }]) }
        let shown = RecordBytes.show(bytes)
        return HTML.join([
            el("h2") { "\(title) (\(bytes.count) bytes, \(shown.kind))" },
            el("pre", .id(title.lowercased())) { shown.body },
        ])
    }
}
