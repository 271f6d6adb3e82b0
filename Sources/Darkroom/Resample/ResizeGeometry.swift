import Foundation

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

    /// Parses a geometry string; throws ``DarkroomError/invalidOption(name:value:expected:)``.
    public init(parsing text: String) throws {
        self.text = text
        guard let kind = Self.parse(text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw DarkroomError.invalidOption(name: "resize", value: text, expected: Self.accepted)
        }
        self.kind = kind
    }

    public var description: String { text }

    private static func parse(_ s: String) -> Kind? {
        if s.hasSuffix("mp") {
            guard let mp = positiveNumber(s.dropLast(2)) else { return nil }
            let px = Int((mp * 1_048_576).rounded(.down))
            return px >= 1 ? .area(maxPixels: px) : nil
        }
        if s.hasSuffix("@") {
            guard let n = Int(s.dropLast()), n >= 1 else { return nil }
            return .area(maxPixels: n)
        }
        if s.hasSuffix("%") {
            let body = s.dropLast()
            let parts = body.split(separator: "x", omittingEmptySubsequences: false)
            if parts.count == 1, let p = positiveNumber(parts[0]) { return .percent(x: p, y: p) }
            if parts.count == 2, let px = positiveNumber(parts[0].hasSuffix("%") ? parts[0].dropLast() : parts[0]),
               let py = positiveNumber(parts[1]) {
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
        let w: Int? = parts[0].isEmpty ? nil : Int(parts[0])
        let h: Int? = parts.count < 2 || parts[1].isEmpty ? nil : Int(parts[1])
        if !parts[0].isEmpty && w == nil { return nil }
        if parts.count == 2 && !parts[1].isEmpty && h == nil { return nil }
        guard w != nil || h != nil, (w ?? 1) >= 1, (h ?? 1) >= 1 else { return nil }
        // ^ and ! need both sides.
        if (mode == .cover || mode == .exact) && (w == nil || h == nil) { return nil }
        return .fit(width: w, height: h, mode: mode)
    }

    private static func positiveNumber(_ s: Substring) -> Double? {
        guard !s.isEmpty, s.allSatisfy({ $0.isNumber || $0 == "." }), let v = Double(s), v > 0, v.isFinite else { return nil }
        return v
    }

    /// The output size for a `width`×`height` input (never 0 on either side).
    public func targetSize(width: Int, height: Int) -> (width: Int, height: Int) {
        precondition(width > 0 && height > 0, "input sides must be positive")
        func side(_ v: Double) -> Int { max(1, Int(v.rounded())) }
        switch kind {
        case let .area(maxPixels):
            return fitWithin(width: width, height: height, maxPixels: maxPixels)
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
/// 6000×4000 at 4,194,304 px → 2508×1672; 4000×3000 → 2364×1773.
public func fitWithin(width: Int, height: Int, maxPixels: Int) -> (width: Int, height: Int) {
    precondition(width > 0 && height > 0, "input sides must be positive")
    let cap = max(1, maxPixels)
    if width * height <= cap { return (width, height) }
    let s = (Double(cap) / (Double(width) * Double(height))).squareRoot()
    var w = max(1, Int((Double(width) * s).rounded(.down)))
    var h = max(1, Int((Double(height) * s).rounded(.down)))
    // A side clamped to 1 leaves the whole budget to the other.
    if h == 1 { w = min(w, cap) }
    if w == 1 { h = min(h, cap) }
    // Floating-point error can leave the product one row or column over the cap.
    while w * h > cap {
        if w * height >= h * width, w > 1 { w -= 1 } else if h > 1 { h -= 1 } else { w -= 1 }
    }
    return (w, h)
}
