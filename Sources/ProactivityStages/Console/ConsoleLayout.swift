import Foundation
import Hummingbird
import ProactivityCore

/// The frame of every console page: head, navigation (with the sign-out form), title,
/// and the HTTP response carrying it.
enum ConsoleLayout {
    /// The sections in the navigation.
    enum Section: CaseIterable {
        case jobs, lineage, dlq

        var title: String {
            switch self {
            case .jobs: "Jobs"
            case .lineage: "Alert lineage"
            case .dlq: "Dead letters"
            }
        }

        var link: HTMLAttribute {
            switch self {
            case .jobs: .href("/console/jobs")
            case .lineage: .href("/console/lineage")
            case .dlq: .href("/console/dlq")
            }
        }
    }

    /// A page of a signed-in operator; `csrf` is the session's token for the sign-out form.
    static func page(
        _ title: String, section: Section?, csrf: String?, status: HTTPResponse.Status = .ok, @HTMLBuilder content: () -> [HTML]
    ) -> Response {
        let body = content()
        let root = el("html", HTMLAttribute("lang", "en")) {
            el("head") {
                el("meta", HTMLAttribute("charset", "utf-8"))
                el("meta", .name("viewport"), HTMLAttribute("content", "width=device-width, initial-scale=1"))
                el("title") { "\(title) · proactivity console" }
                el("link", HTMLAttribute("rel", "stylesheet"), .href("/console/console.css"))
            }
            el("body") {
                el("header") {
                    el("a", .class("brand"), .href("/console")) { "proactivity" }
                    if let csrf {
                        el("nav") {
                            for item in Section.allCases {
                                el("a", item.link, .when(item == section, HTMLAttribute("aria-current", "page"))) { item.title }
                            }
                        }
                        el("form", .class("sign-out"), HTMLAttribute("method", "post"), .action("/console/sign-out")) {
                            el("input", .type("hidden"), .name("csrf"), .value(csrf))
                            el("button", .type("submit")) { "Sign out" }
                        }
                    }
                }
                el("main") {
                    el("h1") { title }
                    body
                }
            }
        }
        return response(HTML.document(root), status: status)
    }

    /// An error as a page (no navigation: the visitor may not be signed in).
    static func errorPage(status: HTTPResponse.Status, message: String) -> Response {
        page("\(status.code) \(status.reasonPhrase)", section: nil, csrf: nil, status: status) {
            el("p", .class("error")) { message }
            el("p") { el("a", .href("/console")) { "Back to the console" } }
        }
    }

    static func response(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html.markup)))
    }

    /// A form posting to `action` with the session's CSRF token.
    static func form(_ action: StaticString, csrf: String, _ attributes: HTMLAttribute..., @HTMLBuilder content: () -> [HTML]) -> HTML {
        HTML.element(
            "form", [HTMLAttribute("method", "post"), .action(action)] + attributes,
            [el("input", .type("hidden"), .name("csrf"), .value(csrf))] + content())
    }

    /// A time as the console shows it: ISO 8601 in UTC.
    static func time(_ date: Date?) -> String {
        date.map(Timestamp.format) ?? "—"
    }
}

extension ConsoleLayout {
    /// A labelled `select`; the empty value means "any".
    static func select(_ name: String, label: String, options: [(value: String, label: String)], selected: String?) -> HTML {
        el("label") {
            label
            el("select", .name(name)) {
                for option in options {
                    el("option", .value(option.value), .when(option.value == (selected ?? ""), .flag("selected"))) { option.label }
                }
            }
        }
    }

    /// A labelled text input.
    static func input(_ name: String, label: String, value: String?, placeholder: String = "") -> HTML {
        el("label") {
            label
            el("input", .type("text"), .name(name), .value(value ?? ""), HTMLAttribute("placeholder", placeholder))
        }
    }

    /// A state or status as a styled word.
    static func badge(_ word: String) -> HTML {
        el("span", .class("state-\(word) status-\(word)")) { word }
    }
}
