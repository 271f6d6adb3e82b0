/// The one parser for every number that comes from outside: CLI flags, HTTP query fields and
/// JSON values all go through these functions, so a value is accepted in the same forms and
/// refused with the same ``DarkroomError/option(_:)`` text whichever
/// door it comes through.
///
/// Numbers are decimal only: `inf`, `nan`, hexadecimal floats and digits beyond `Int`'s range
/// are refused rather than clamped, and every result is inside the bounds of ``Limits``, so no
/// later arithmetic on it can trap.
public enum ValueParser {
    /// An integer in `range`, e.g. `integer("80", name: "quality", in: 0...100)` → 80.
    /// Surrounding spaces are ignored; a leading `+` is accepted.
    /// Throws ``DarkroomError/option(_:)`` naming `range`.
    public static func integer(_ text: String, name: String, in range: ClosedRange<Int>) throws(DarkroomError) -> Int {
        guard let value = plainInteger(text), range.contains(value) else {
            throw DarkroomError.option(OptionError(name: name, value: text, expected: rangeText(range)))
        }
        return value
    }

    /// A finite decimal number with `lower < value` (or `lower <= value` when `includingLower`)
    /// and `value <= upper`. Accepts `12`, `0.5`, `.5`, `1e3`; refuses `inf`, `nan`, `0x10`.
    /// Throws ``DarkroomError/option(_:)``.
    public static func number(_ text: String, name: String, above lower: Double, includingLower: Bool = false,
                              atMost upper: Double, unit: String = "") throws(DarkroomError) -> Double {
        let t = text.trimmingSpaces()
        guard let value = decimal(t), value.isFinite,
              includingLower ? value >= lower : value > lower, value <= upper else {
            let bound = includingLower ? "from \(format(lower))" : "above \(format(lower))"
            throw DarkroomError.option(OptionError(name: name, value: text,
                                              expected: "a number \(bound) up to \(format(upper))\(unit)"))
        }
        return value
    }

    /// Megapixels (1 MP = 1,048,576 px, as the gateway bills) to a pixel count, e.g. `"4"` →
    /// 4,194,304. Accepts `0 < MP <= 65,536` (``Limits/maxMegapixels``) whose pixel count is at least 1.
    /// Throws ``DarkroomError/option(_:)``.
    public static func megapixels(_ text: String, name: String) throws(DarkroomError) -> Int {
        let mp = try number(text, name: name, above: 0, atMost: Limits.maxMegapixels,
                            unit: " megapixels (1 MP = 1,048,576 px)")
        return try megapixels(mp, name: name, text: text)
    }

    /// The same bound for a number that arrived as a JSON number.
    /// Throws ``DarkroomError/option(_:)``.
    public static func megapixels(_ value: Double, name: String, text: String? = nil) throws(DarkroomError) -> Int {
        let expected = "a number above 0 up to \(format(Limits.maxMegapixels)) megapixels (1 MP = 1,048,576 px)"
        guard value.isFinite, value > 0, value <= Limits.maxMegapixels else {
            throw DarkroomError.option(OptionError(name: name, value: text ?? format(value), expected: expected))
        }
        let pixels = (value * Double(Limits.megapixel)).rounded(.down)
        guard pixels >= 1 else {
            throw DarkroomError.option(OptionError(name: name, value: text ?? format(value),
                                              expected: "at least 1 pixel (\(format(1 / Double(Limits.megapixel))) MP)"))
        }
        return Int(pixels)  // exact: 1 ≤ pixels ≤ 2^36
    }

    /// Checks an integer a caller set directly (a library option, not text) against `range`:
    /// the one range check of every options type's `validate()`. Throws ``DarkroomError/option(_:)``
    /// naming the option and the range.
    public static func check(_ value: Int, name: String, in range: ClosedRange<Int>) throws(DarkroomError) {
        guard range.contains(value) else {
            throw DarkroomError.option(OptionError(name: name, value: String(value), expected: rangeText(range)))
        }
    }

    /// A pixel limit (`--max-pixels`): an integer from 1 to 2^36 (``Limits/maxPixelLimit``).
    /// Throws ``DarkroomError/option(_:)``.
    public static func pixelLimit(_ text: String, name: String = "max-pixels") throws(DarkroomError) -> Int {
        try integer(text, name: name, in: 1...Limits.maxPixelLimit)
    }

    /// A byte count (`--max-input-bytes`, `--max-body-bytes`): an integer from 1 to 2^40 (1 TiB).
    /// Throws ``DarkroomError/option(_:)``.
    public static func byteCount(_ text: String, name: String) throws(DarkroomError) -> Int {
        try integer(text, name: name, in: 1...Limits.maxByteCount)
    }

    /// A size in bytes with an optional unit (`--max-bytes`): `200k` → 200,000, `1.5M` →
    /// 1,500,000, `64KiB` → 65,536, `1500000` → 1,500,000.
    ///
    /// Grammar: ASCII digits with an optional fraction (`1.5`, `.5`; at most 9 digits after the
    /// dot), then optionally spaces and a unit, any case: `b` (bytes), `k` `kb`, `m` `mb`, `g` `gb`
    /// (1000-based, as disk and network sizes), `kib`, `mib`, `gib` (1024-based). No sign, no
    /// exponent. The value is rounded down to whole bytes and must be from 1 to 2^40
    /// (``Limits/maxByteCount``). Throws ``DarkroomError/option(_:)`` naming `name`, the text and
    /// this grammar.
    public static func byteSize(_ text: String, name: String) throws(DarkroomError) -> Int {
        guard let bytes = plainByteSize(text.trimmingSpaces()), (1...Limits.maxByteCount).contains(bytes) else {
            throw DarkroomError.option(OptionError(
                name: name, value: text,
                expected: "a size from 1 byte to \(Limits.maxByteCount) bytes: a number with an optional unit"
                    + " k, M, G (1000-based) or KiB, MiB, GiB (1024-based), e.g. 200k or 1.5M"))
        }
        return bytes
    }

    /// `output_compression` / `--quality`: an integer 0–100, 100 = best.
    /// Throws ``DarkroomError/option(_:)``.
    public static func quality(_ text: String, name: String = "quality") throws(DarkroomError) -> Int {
        try integer(text, name: name, in: Limits.quality)
    }

    // MARK: Helpers

    /// `text` safe to print on one line: control and format characters (newlines, terminal
    /// escapes, bidirectional overrides) escaped as Swift writes them (`\n`, `\t`, `\r`,
    /// `\u{1B}`, `\u{202E}`), and at most `maxLength` characters (`…` after), nil for no limit.
    /// The one escaping rule of every message Darkroom prints.
    public static func printable(_ text: String, maxLength: Int? = 200) -> String {
        printableText(text, maxLength: maxLength)
    }

    /// The one integer grammar: ASCII digits with an optional sign, spaces around; nil for
    /// anything else or a value beyond `Int`.
    static func plainInteger(_ text: String) -> Int? {
        let t = text.trimmingSpaces()
        let digits = t.hasPrefix("+") || t.hasPrefix("-") ? t.dropFirst() : Substring(t)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(t.hasPrefix("+") ? String(digits) : t)
    }

    /// The units of ``byteSize(_:name:)``, lower-cased, and their bytes.
    static let byteUnits: [String: Int] = [
        "": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1_000_000, "mb": 1_000_000, "g": 1_000_000_000,
        "gb": 1_000_000_000, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
    ]

    /// ``byteSize(_:name:)``'s grammar, computed exactly in integers (rounded down), or nil for
    /// anything else or a value beyond `Int`.
    static func plainByteSize(_ t: String) -> Int? {
        let number = t.prefix { $0.isASCIIDigit || $0 == "." }
        guard let unit = byteUnits[t.dropFirst(number.count).trimmingSpaces().lowercased()] else { return nil }
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else { return nil }
        let whole = parts[0], fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 9, whole.count <= 19 else { return nil }
        let (scaled, overflow) = (whole.isEmpty ? 0 : Int(whole) ?? .max).multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        var power = 1
        for _ in 0..<fraction.count { power *= 10 }
        // fraction < 10^9 and unit ≤ 2^30: the product stays below 2^60.
        return scaled.addingReportingOverflow((fraction.isEmpty ? 0 : Int(fraction)!) * unit / power).overflow
            ? nil : scaled + (fraction.isEmpty ? 0 : Int(fraction)!) * unit / power
    }

    /// A plain decimal (digits, one dot, an optional exponent), or nil. Swift's `Double(String)`
    /// alone would also take `inf`, `nan` and hexadecimal floats.
    static func decimal(_ t: String) -> Double? {
        guard !t.isEmpty, t.utf8.count <= 64,
              t.allSatisfy({ $0.isASCIIDigit || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-" }),
              t.contains(where: \.isASCIIDigit) else { return nil }
        return Double(t)
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return String(value)
    }
}
