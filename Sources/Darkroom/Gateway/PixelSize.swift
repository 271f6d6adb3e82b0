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

    public var pixels: Int { width * height }
    public var description: String { "\(width)x\(height)" }
    /// Width / height.
    public var ratio: Double { Double(width) / Double(height) }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
