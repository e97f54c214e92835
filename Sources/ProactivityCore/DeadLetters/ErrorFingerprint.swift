/// The shape of an error message, so that many dead letters of one failure read as one
/// group: the message with its variable parts masked.
///
/// | part | becomes | example |
/// | --- | --- | --- |
/// | a quoted value (`'…'`, `"…"`, `` `…` ``; the opening quote not inside a word) | the quotes around `?` | `relation "invoices" does not exist` → `relation "?" does not exist` |
/// | a UUID | `<uuid>` | `5f0c…-…` |
/// | a date, with a time and zone when present | `<time>` | `2026-11-25T10:00:00.5+01:00` |
/// | `0x` and hex digits; a run of 8 or more hex digits with letters and digits | `<hex>` | `0x1F`, `9f86d081884c` |
/// | a number not glued to a letter or `_` (decimals whole) | `<n>` | `offset 1234` → `offset <n>`; `42P01`, `v2`, `job_2` stay |
///
/// A part is masked only where no word continues (after a space, punctuation or a mask).
/// Pure and total: any text gives a fingerprint, at most ``maximumLength`` Unicode
/// scalars long (an index entry has a size limit); a shorter fingerprint is its own
/// fingerprint.
public enum ErrorFingerprint {
    /// The longest fingerprint, in Unicode scalars (at most 4 bytes each in UTF-8).
    public static let maximumLength = 500

    /// The fingerprint of an error message.
    public static func of(_ message: String) -> String {
        let scalars = Array(message.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        var length = 0
        var last: Unicode.Scalar?
        func emit<S: Sequence>(_ part: S) where S.Element == Unicode.Scalar {
            for scalar in part where length < maximumLength {
                output.append(scalar)
                length += 1
                last = scalar
            }
        }
        while index < scalars.count && length < maximumLength {
            // Decided on what was written, so that a fingerprint reads the same way again.
            let atWordStart = last.map { !isWordCharacter($0) } ?? true
            if atWordStart, let (end, mask) = maskedPart(scalars, at: index) {
                emit(mask.unicodeScalars)
                index = end
            } else {
                emit(CollectionOfOne(scalars[index]))
                index += 1
            }
        }
        return String(output)
    }

    /// The masked part starting at `start` (where no word continues), and where it ends.
    private static func maskedPart(_ scalars: [Unicode.Scalar], at start: Int) -> (end: Int, mask: String)? {
        let first = scalars[start]
        if first == "'" || first == "\"" || first == "`" {
            guard let close = scalars[(start + 1)...].firstIndex(of: first) else { return nil }
            return (close + 1, "\(first)?\(first)")
        }
        guard isHexDigit(first) else { return nil }
        if let end = uuid(scalars, at: start) { return (end, "<uuid>") }
        if let end = timestamp(scalars, at: start) { return (end, "<time>") }
        if let end = hex(scalars, at: start) { return (end, "<hex>") }
        if let end = number(scalars, at: start) { return (end, "<n>") }
        return nil
    }

    /// `8-4-4-4-12` hex digits, not followed by a word character.
    private static func uuid(_ scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        for (group, count) in [8, 4, 4, 4, 12].enumerated() {
            if group > 0 {
                guard index < scalars.count, scalars[index] == "-" else { return nil }
                index += 1
            }
            for _ in 0..<count {
                guard index < scalars.count, isHexDigit(scalars[index]) else { return nil }
                index += 1
            }
        }
        return endsWord(scalars, index) ? index : nil
    }

    /// `YYYY-MM-DD`, then optionally `T` or a space and `hh:mm[:ss[.fraction]]`, then
    /// optionally `Z` or `±hh[[:]mm]`.
    private static func timestamp(_ scalars: [Unicode.Scalar], at start: Int) -> Int? {
        func digits(_ index: Int, _ count: Int) -> Int? {
            guard index + count <= scalars.count, scalars[index..<index + count].allSatisfy(isDigit) else { return nil }
            return index + count
        }
        func literal(_ index: Int, _ scalar: Unicode.Scalar) -> Int? {
            index < scalars.count && scalars[index] == scalar ? index + 1 : nil
        }
        guard var index = digits(start, 4).flatMap({ literal($0, "-") }).flatMap({ digits($0, 2) }).flatMap({ literal($0, "-") })
            .flatMap({ digits($0, 2) })
        else { return nil }
        if index < scalars.count, scalars[index] == "T" || scalars[index] == " ",
            let time = digits(index + 1, 2).flatMap({ literal($0, ":") }).flatMap({ digits($0, 2) })
        {
            index = time
            if let seconds = literal(index, ":").flatMap({ digits($0, 2) }) {
                index = seconds
                if let dot = literal(index, "."), let fraction = digits(dot, 1) {
                    index = fraction
                    while index < scalars.count, isDigit(scalars[index]) { index += 1 }
                }
            }
            if let zulu = literal(index, "Z") {
                index = zulu
            } else if index < scalars.count, scalars[index] == "+" || scalars[index] == "-", let hours = digits(index + 1, 2) {
                index = hours
                if let minutes = literal(index, ":").flatMap({ digits($0, 2) }) ?? digits(index, 2) { index = minutes }
            }
        }
        return endsWord(scalars, index) ? index : nil
    }

    /// `0x` and hex digits, or 8+ hex digits mixing letters and digits, ending a word.
    private static func hex(_ scalars: [Unicode.Scalar], at start: Int) -> Int? {
        if scalars[start] == "0", start + 2 < scalars.count, scalars[start + 1] == "x" || scalars[start + 1] == "X", isHexDigit(scalars[start + 2]) {
            var index = start + 2
            while index < scalars.count, isHexDigit(scalars[index]) { index += 1 }
            return endsWord(scalars, index) ? index : nil
        }
        var index = start
        while index < scalars.count, isHexDigit(scalars[index]) { index += 1 }
        let run = scalars[start..<index]
        guard run.count >= 8, run.contains(where: isDigit), !run.allSatisfy(isDigit), endsWord(scalars, index) else { return nil }
        return index
    }

    /// Digits, and `.` and digits when the word ends after them (else the digits alone,
    /// when the word ends there: `1.0T` is `<n>.0T`).
    private static func number(_ scalars: [Unicode.Scalar], at start: Int) -> Int? {
        var index = start
        guard isDigit(scalars[index]) else { return nil }
        while index < scalars.count, isDigit(scalars[index]) { index += 1 }
        let whole = index
        if index + 1 < scalars.count, scalars[index] == ".", isDigit(scalars[index + 1]) {
            index += 1
            while index < scalars.count, isDigit(scalars[index]) { index += 1 }
            if endsWord(scalars, index) { return index }
        }
        return endsWord(scalars, whole) ? whole : nil
    }

    private static func endsWord(_ scalars: [Unicode.Scalar], _ index: Int) -> Bool {
        index >= scalars.count || !isWordCharacter(scalars[index])
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    private static func isHexDigit(_ scalar: Unicode.Scalar) -> Bool {
        isDigit(scalar) || ("a"..."f").contains(scalar) || ("A"..."F").contains(scalar)
    }

    /// Letters (any script), digits and `_`: what a word, an identifier or a code is made of.
    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "_" || isDigit(scalar) || scalar.properties.isAlphabetic
    }
}
