/// An opaque 8-bit sRGB colour, e.g. the background that alpha is flattened onto.
public struct RGBColor: Sendable, Hashable, CustomStringConvertible {
    public var red: UInt8, green: UInt8, blue: UInt8
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }
    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    public static let black = RGBColor(red: 0, green: 0, blue: 0)

    /// Parses `#rgb`, `#rrggbb` (the `#` is optional), `white` or `black`.
    /// Throws ``DarkroomError/option(_:)`` naming `background` and the accepted forms.
    public init(parsing text: String) throws(DarkroomError) {
        let t = text.lowercased()
        if t == "white" { self = .white; return }
        if t == "black" { self = .black; return }
        var hex = Substring(t)
        if hex.hasPrefix("#") { hex = hex.dropFirst() }
        let digits = hex.compactMap { $0.hexDigitValue }
        guard digits.count == hex.count, digits.count == 3 || digits.count == 6 else {
            throw DarkroomError.option(OptionError(name: "background", value: text, expected: "#rrggbb, #rgb, white or black"))
        }
        let v = digits.count == 3 ? digits.flatMap { [$0, $0] } : digits
        self.init(red: UInt8(v[0] * 16 + v[1]), green: UInt8(v[2] * 16 + v[3]), blue: UInt8(v[4] * 16 + v[5]))
    }

    public var description: String {
        func h(_ v: UInt8) -> String { let s = String(v, radix: 16); return s.count == 1 ? "0" + s : s }
        return "#" + h(red) + h(green) + h(blue)
    }
}
