// The text rules every layer shares: one escaping rule for what is printed, one trimming rule
// (`trimmingSpaces()`, in Portable.swift) and one wording of integer ranges. Nothing here knows
// about images.

/// `text` safe to print on one line: control and format characters (newlines, terminal escapes,
/// bidirectional overrides) escaped as Swift writes them (`\n`, `\t`, `\r`, `\u{1B}`, `\u{202E}`),
/// and at most `maxLength` characters (`…` after), nil for no limit. The one escaping rule of every
/// message Darkroom prints (``ValueParser/printable(_:maxLength:)`` is its public name).
package func printableText(_ text: String, maxLength: Int? = 200) -> String {
    let limit = maxLength ?? Int.max
    let scalars = text.unicodeScalars
    if scalars.count <= limit && !scalars.contains(where: needsEscape) { return text }
    var out = ""
    for scalar in scalars.prefix(limit) {
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case _ where FileSystemName.escapedByte(scalar) != nil:
            let byte = FileSystemName.escapedByte(scalar)!
            out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        case _ where needsEscape(scalar): out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return scalars.count > limit ? out + "…" : out
}

/// A control character (C0, DEL, C1) or a format character (bidirectional controls, zero-width joiners).
package func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
        || FileSystemName.escapedByte(scalar) != nil
}

/// "an integer from 1 to 100" (or "an integer from 1" for an open range): how every error names
/// an integer range.
package func rangeText(_ range: ClosedRange<Int>) -> String {
    if range.upperBound == Int.max { return "an integer from \(range.lowerBound)" }
    return "an integer from \(range.lowerBound) to \(range.upperBound)"
}

extension Character {
    /// `0`…`9` only (`Character.isNumber` also takes other scripts' digits and fractions).
    package var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
