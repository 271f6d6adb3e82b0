/// A width × height in pixels, written `WxH` (e.g. `1024x1536`).
public struct PixelSize: Sendable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `WxH` (also `W×H` and `W*H`, case-insensitive `X`); both sides must be integers
    /// from 1 to ``Limits/maxSide`` (65,536). Returns nil for anything else.
    public init?(parsing text: String) {
        let t = text.trimmingSpaces().lowercased()
        guard let sep = t.firstIndex(where: { $0 == "x" || $0 == "×" || $0 == "*" }) else { return nil }
        let w = t[..<sep], h = t[t.index(after: sep)...]
        guard !w.isEmpty, !h.isEmpty, w.allSatisfy(\.isASCIIDigit), h.allSatisfy(\.isASCIIDigit),
              w.count <= 9, h.count <= 9, let wi = Int(w), let hi = Int(h),
              (1...Limits.maxSide).contains(wi), (1...Limits.maxSide).contains(hi) else { return nil }
        self.init(width: wi, height: hi)
    }

    /// `width × height` in pixels. Sizes from outside are bounded first (``init(parsing:)``,
    /// ``Limits``), so the product cannot overflow for them.
    public var pixels: Int { width * height }
    public var description: String { "\(width)x\(height)" }
    /// Width / height.
    public var ratio: Double { Double(width) / Double(height) }
}

extension PixelSize {
    /// The size once `orientation` is applied: sides swapped for the four orientations that turn
    /// the image a quarter (EXIF 5–8).
    public func applying(_ orientation: Orientation) -> PixelSize {
        orientation.swapsSides ? PixelSize(width: height, height: width) : self
    }

    /// The largest size with the same aspect ratio that holds at most `maxPixels` pixels:
    /// s = √(maxPixels / (w·h)), both sides floored, never 0; unchanged when already within.
    /// 6000×4000 at 4,194,304 px → 2508×1672; 4000×3000 → 2364×1773. The rule of the FLUX.2
    /// gateways for reference images (``MegapixelBilling``), and the one fit-within-N-pixels
    /// computation of the library (``fitWithin(width:height:maxPixels:)``,
    /// ``ReferencePrep/fitted(width:height:maxPixels:)``, ``ResizeGeometry``'s `N@` and `Nmp` and
    /// ``FormatLimits/fitting(width:height:)`` all use it).
    ///
    /// Throws ``DarkroomError/option(_:)`` for a size that is no image (a side below 1, more than
    /// ``Limits/maxPixelLimit`` px) or a `maxPixels` outside 1…``Limits/maxPixelLimit``.
    public func fitting(maxPixels: Int) throws(DarkroomError) -> PixelSize {
        try checkedAsImageSize()
        try ValueParser.check(maxPixels, name: "max-pixels", in: 1...Limits.maxPixelLimit)
        return fitted(within: maxPixels)
    }

    /// Throws ``DarkroomError/option(_:)`` unless both sides are at least 1 and `width·height` is at
    /// most ``Limits/maxPixelLimit``: the bounds of a size a caller gives for an image.
    func checkedAsImageSize() throws(DarkroomError) {
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        guard width >= 1, height >= 1, !overflow, count <= Limits.maxPixelLimit else {
            throw .option(OptionError(name: "size", value: description,
                                      expected: "sides of at least 1 px and at most \(Limits.maxPixelLimit) px in all"))
        }
    }

    /// ``fitting(maxPixels:)`` for a size and cap the library has checked (any values: sides below 1
    /// count as 1, a cap below 1 as 1, so nothing can trap).
    func fitted(within maxPixels: Int) -> PixelSize {
        let width = max(1, width), height = max(1, height)
        let cap = max(1, maxPixels)
        let (area, overflow) = width.multipliedReportingOverflow(by: height)
        if !overflow && area <= cap { return PixelSize(width: width, height: height) }
        let s = (Double(cap) / (Double(width) * Double(height))).squareRoot()
        // Both products are below √cap·√(w/h) ≤ 2^63: the conversions are exact and cannot trap.
        var w = max(1, Int(min((Double(width) * s).rounded(.down), Double(width))))
        var h = max(1, Int(min((Double(height) * s).rounded(.down), Double(height))))
        // A side clamped to 1 leaves the whole budget to the other.
        if h == 1 { w = min(w, cap) }
        if w == 1 { h = min(h, cap) }
        // Floating-point error can leave the product one row or column over the cap.
        while w.multipliedReportingOverflow(by: h).overflow || w * h > cap {
            if Double(w) * Double(height) >= Double(h) * Double(width), w > 1 { w -= 1 } else if h > 1 { h -= 1 } else { w -= 1 }
        }
        return PixelSize(width: w, height: h)
    }

    /// The size as a `(width, height)` tuple, for the APIs that return one.
    var tuple: (width: Int, height: Int) { (width, height) }
}
