/// Durations as people write them in configuration: `90s`, `5m`, `1h30m`, `2d`.
public enum DurationText {
    /// The longest duration read: 100 years. Longer ones are refused rather than
    /// overflowing the date and time arithmetic they feed.
    public static let maximumSeconds = 3_155_760_000

    /// Parses a duration into whole seconds; `nil` when malformed, not positive, or
    /// longer than ``maximumSeconds``. Never traps, whatever the text.
    public static func seconds(_ text: String) -> Int? {
        var total = 0
        var number = ""
        for character in text.trimmingCharacters(in: .whitespaces) {
            if character.isASCII, character.isNumber {
                number.append(character)
                guard number.count <= 12 else { return nil }
                continue
            }
            let unit: Int
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Int(number) else { return nil }
            let (part, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow, part <= maximumSeconds else { return nil }
            total += part
            guard total <= maximumSeconds else { return nil }
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        return total
    }

    /// Formats whole seconds the way ``seconds(_:)`` reads them.
    public static func format(_ seconds: Int) -> String {
        var rest = seconds
        var text = ""
        for (unit, suffix) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] where rest >= unit {
            text += "\(rest / unit)\(suffix)"
            rest %= unit
        }
        return text.isEmpty ? "0s" : text
    }
}

import Foundation
