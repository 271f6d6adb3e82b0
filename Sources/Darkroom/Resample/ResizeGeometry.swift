#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An ImageMagick/vips-style resize request, e.g. `800x600`, `800x600^`, `50%`, `4194304@`, `4mp`.
///
/// | form          | meaning                                                        |
/// |---------------|----------------------------------------------------------------|
/// | `800x600`     | fit inside 800×600, keep aspect (may enlarge)                  |
/// | `800x`, `800` | width 800, height keeps aspect; `x600`: height 600             |
/// | `800x600^`    | cover 800×600 (the smaller scale side matches), keep aspect    |
/// | `800x600!`    | exactly 800×600                                                |
/// | `800x600>`    | fit inside only when larger (only shrink); `<` only enlarge    |
/// | `50%`         | scale both sides; `50x25%` width 50 %, height 25 %             |
/// | `4194304@`    | at most 4194304 pixels, keep aspect (``fitWithin(width:height:maxPixels:)``) |
/// | `4mp`, `0.5mp`| at most 4 (0.5) × 1,048,576 pixels, as `@`                     |
///
/// Sides are rounded to the nearest pixel (area caps floor) and never 0.
public struct ResizeGeometry: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    let kind: Kind

    enum Kind: Sendable, Hashable {
        case fit(width: Int?, height: Int?, mode: Mode)
        case percent(x: Double, y: Double)
        case area(maxPixels: Int)
    }

    enum Mode: Sendable, Hashable {
        case fit, cover, exact, shrinkOnly, enlargeOnly
    }

    static let accepted = "WxH (fit inside), Wx or xH (one side), WxH^ (cover), WxH! (exact), WxH> (only shrink), "
        + "WxH< (only enlarge), N% or WxH% (scale), N@ (at most N pixels), Nmp (at most N megapixels of 1048576 px)"
    static let bounds = "sides 1-\(Limits.maxSide), percentages above 0 up to \(Int(Limits.maxPercent)), "
        + "N@ 1-\(Limits.maxPixelLimit), Nmp above 0 up to \(Int(Limits.maxMegapixels))"

    /// Parses a geometry string. Every number is bounded (``Limits``): sides 1...16,777,216,
    /// percentages in (0, 100,000], `N@` in 1...2^36, `Nmp` in (0, 65,536], so the sizes it
    /// produces can always be computed; whether they fit the pixel limit is checked by the caller
    /// (``Converter`` does, before allocating). Throws ``DarkroomError/option(_:)``.
    public init(parsing text: String) throws(DarkroomError) {
        self.text = text
        guard text.utf8.count <= 128,
              let kind = Self.parse(text.trimmingSpaces().lowercased()) else {
            throw DarkroomError.option(OptionError(name: "resize", value: text, expected: Self.accepted + "; " + Self.bounds))
        }
        self.kind = kind
    }

    /// At most `maxPixels` pixels, keeping the aspect (the `N@` form, ``PixelSize/fitting(maxPixels:)``'s
    /// rule): what a gateway asks of every reference image. Throws ``DarkroomError/option(_:)``
    /// for `maxPixels` outside 1…``Limits/maxPixelLimit``.
    public init(maxPixels: Int) throws(DarkroomError) {
        try ValueParser.check(maxPixels, name: "resize", in: 1...Limits.maxPixelLimit)
        text = "\(maxPixels)@"
        kind = .area(maxPixels: maxPixels)
    }

    public var description: String { text }

    private static func parse(_ s: String) -> Kind? {
        if s.hasSuffix("mp") {
            guard let mp = number(s.dropLast(2), atMost: Limits.maxMegapixels) else { return nil }
            let px = (mp * Double(Limits.megapixel)).rounded(.down)
            return px >= 1 ? .area(maxPixels: Int(px)) : nil   // exact: px ≤ 2^36
        }
        if s.hasSuffix("@") {
            guard let n = integer(s.dropLast(), atMost: Limits.maxPixelLimit) else { return nil }
            return .area(maxPixels: n)
        }
        if s.hasSuffix("%") {
            let body = s.dropLast()
            let parts = body.split(separator: "x", omittingEmptySubsequences: false)
            if parts.count == 1, let p = number(parts[0], atMost: Limits.maxPercent) { return .percent(x: p, y: p) }
            if parts.count == 2,
               let px = number(parts[0].hasSuffix("%") ? parts[0].dropLast() : parts[0], atMost: Limits.maxPercent),
               let py = number(parts[1], atMost: Limits.maxPercent) {
                return .percent(x: px, y: py)
            }
            return nil
        }
        var body = Substring(s)
        var mode = Mode.fit
        if let last = body.last, "^!<>".contains(last) {
            mode = ["^": .cover, "!": .exact, ">": .shrinkOnly, "<": .enlargeOnly][last]!
            body = body.dropLast()
        }
        let parts = body.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let w: Int? = parts[0].isEmpty ? nil : integer(parts[0], atMost: Limits.maxSide)
        let h: Int? = parts.count < 2 || parts[1].isEmpty ? nil : integer(parts[1], atMost: Limits.maxSide)
        if !parts[0].isEmpty && w == nil { return nil }
        if parts.count == 2 && !parts[1].isEmpty && h == nil { return nil }
        guard w != nil || h != nil else { return nil }
        // ^ and ! need both sides.
        if (mode == .cover || mode == .exact) && (w == nil || h == nil) { return nil }
        return .fit(width: w, height: h, mode: mode)
    }

    /// Digits only, 1...limit.
    private static func integer(_ s: Substring, atMost limit: Int) -> Int? {
        guard !s.isEmpty, s.count <= 20, s.allSatisfy(\.isASCIIDigit), let v = Int(s), v >= 1, v <= limit else { return nil }
        return v
    }

    /// A decimal in ``ValueParser``'s one grammar (`12`, `0.5`, `.5`, `1e3`; never `inf`, `nan`
    /// or hexadecimal), 0 < v ≤ limit.
    private static func number(_ s: Substring, atMost limit: Double) -> Double? {
        guard let v = ValueParser.decimal(String(s)), v.isFinite, v > 0, v <= limit else { return nil }
        return v
    }

    /// The output size for a `width`×`height` input: never 0, and clamped at 2^30 per side so the
    /// arithmetic stays exact. ``Converter`` refuses a target with a side over ``Limits/maxSide``
    /// or over the pixel limit before allocating anything.
    public func targetSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let width = max(1, width), height = max(1, height)
        func side(_ v: Double) -> Int {
            guard v.isFinite else { return 1 << 30 }
            return Int(min(max(v.rounded(), 1), Double(1 << 30)))
        }
        switch kind {
        case let .area(maxPixels):
            return PixelSize(width: width, height: height).fitted(within: maxPixels).tuple
        case let .percent(x, y):
            return (side(Double(width) * x / 100), side(Double(height) * y / 100))
        case let .fit(w, h, mode):
            let sx = w.map { Double($0) / Double(width) }
            let sy = h.map { Double($0) / Double(height) }
            switch mode {
            case .exact:
                return (w!, h!)
            case .cover:
                let s = max(sx!, sy!)
                return (sx! >= sy! ? w! : side(Double(width) * s), sy! >= sx! ? h! : side(Double(height) * s))
            case .fit, .shrinkOnly, .enlargeOnly:
                let s = min(sx ?? .infinity, sy ?? .infinity)
                if mode == .shrinkOnly && s >= 1 { return (width, height) }
                if mode == .enlargeOnly && s <= 1 { return (width, height) }
                let tw = sx == s ? w! : side(Double(width) * s)
                let th = sy == s ? h! : side(Double(height) * s)
                return (tw, th)
            }
        }
    }
}

/// The largest size with the same aspect that holds at most `maxPixels` pixels:
/// s = sqrt(maxPixels / (w·h)), both sides floored, never 0; unchanged when already within.
/// 6000×4000 at 4,194,304 px → 2508×1672; 4000×3000 → 2364×1773. The same computation as
/// ``PixelSize/fitting(maxPixels:)``, which owns it. Throws as ``PixelSize/fitting(maxPixels:)``.
public func fitWithin(width: Int, height: Int, maxPixels: Int) throws(DarkroomError) -> (width: Int, height: Int) {
    try PixelSize(width: width, height: height).fitting(maxPixels: maxPixels).tuple
}
