import Foundation

/// A piece of HTML built from typed parts, so that a value cannot reach the page
/// unescaped: text (every `String`) is escaped when it is added, element and attribute
/// names are compile-time literals (`StaticString`), attribute values are escaped, and
/// links are built from a literal path and percent-encoded query items. There is no way
/// to add a runtime string as markup.
///
/// Record bytes shown by the console are attacker-controlled (a DLQ header can hold
/// `<script>`); this type is why they render as text.
struct HTML: Sendable {
    /// The markup; only this file writes it.
    private(set) var markup: String

    private init(markup: String) { self.markup = markup }

    /// Text, escaped.
    init(_ text: some StringProtocol) { markup = Self.escape(text) }

    static let empty = HTML(markup: "")

    /// An element: `<name attributes>children</name>`.
    static func element(_ name: StaticString, _ attributes: [HTMLAttribute], _ children: [HTML]) -> HTML {
        var markup = "<\(name)"
        for attribute in attributes where attribute.present {
            markup += " \(attribute.name)"
            if let value = attribute.value { markup += "=\"\(escape(value))\"" }
        }
        markup += ">"
        guard !voidElements.contains(name.description) else { return HTML(markup: markup) }
        for child in children { markup += child.markup }
        return HTML(markup: markup + "</\(name)>")
    }

    /// A whole page: the doctype and `html`.
    static func document(_ root: HTML) -> HTML { HTML(markup: "<!DOCTYPE html>\n" + root.markup) }

    /// Joins pieces.
    static func join(_ parts: [HTML]) -> HTML { HTML(markup: parts.map(\.markup).joined()) }

    /// Elements without content or end tag.
    private static let voidElements: Set<String> = ["br", "hr", "img", "input", "link", "meta"]

    /// `&`, `<`, `>`, `"` and `'` as character references: safe in text and in quoted
    /// attribute values.
    static func escape(_ text: some StringProtocol) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// An attribute of an ``HTML`` element: a literal name, a value escaped when rendered.
struct HTMLAttribute: Sendable {
    let name: StaticString
    let value: String?
    /// `false`: left out (see ``when(_:_:)``).
    let present: Bool

    init(_ name: StaticString, _ value: String?, present: Bool = true) {
        self.name = name
        self.value = value
        self.present = present
    }

    /// `attribute` when `condition` holds, else nothing.
    static func when(_ condition: Bool, _ attribute: HTMLAttribute) -> HTMLAttribute {
        HTMLAttribute(attribute.name, attribute.value, present: condition)
    }

    static func `class`(_ value: String) -> HTMLAttribute { HTMLAttribute("class", value) }
    static func name(_ value: String) -> HTMLAttribute { HTMLAttribute("name", value) }
    static func value(_ value: String) -> HTMLAttribute { HTMLAttribute("value", value) }
    static func type(_ value: StaticString) -> HTMLAttribute { HTMLAttribute("type", value.description) }
    static func id(_ value: String) -> HTMLAttribute { HTMLAttribute("id", value) }
    /// A boolean attribute (`checked`, `required`, `selected`).
    static func flag(_ name: StaticString) -> HTMLAttribute { HTMLAttribute(name, nil) }

    /// A link into the console: a literal path, and query items percent-encoded, so a
    /// value cannot make it another scheme (`javascript:`) or another site.
    static func href(_ path: StaticString, _ query: [(String, String)] = []) -> HTMLAttribute {
        HTMLAttribute("href", ConsoleURL.make(path, query))
    }

    /// A form's target, as ``href(_:_:)``.
    static func action(_ path: StaticString) -> HTMLAttribute { HTMLAttribute("action", path.description) }
}

/// Console URLs: a literal path and percent-encoded query items.
enum ConsoleURL {
    static func make(_ path: StaticString, _ query: [(String, String)]) -> String {
        let items = query.map { "\(encode($0.0))=\(encode($0.1))" }
        return items.isEmpty ? path.description : "\(path)?\(items.joined(separator: "&"))"
    }

    /// Everything but unreserved characters (RFC 3986) percent-encoded.
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// Builds ``HTML`` children from statements: `HTML` values, `String`s (as text), `if`,
/// `for`.
@resultBuilder
enum HTMLBuilder {
    static func buildExpression(_ html: HTML) -> [HTML] { [html] }
    static func buildExpression(_ text: String) -> [HTML] { [HTML(text)] }
    static func buildExpression(_ parts: [HTML]) -> [HTML] { parts }
    static func buildBlock(_ parts: [HTML]...) -> [HTML] { parts.flatMap { $0 } }
    static func buildOptional(_ parts: [HTML]?) -> [HTML] { parts ?? [] }
    static func buildEither(first parts: [HTML]) -> [HTML] { parts }
    static func buildEither(second parts: [HTML]) -> [HTML] { parts }
    static func buildArray(_ parts: [[HTML]]) -> [HTML] { parts.flatMap { $0 } }
}

/// `el("td", .class("n")) { "text" }`: an element with attributes and children.
func el(_ name: StaticString, _ attributes: HTMLAttribute..., @HTMLBuilder content: () -> [HTML] = { [] }) -> HTML {
    HTML.element(name, attributes, content())
}
