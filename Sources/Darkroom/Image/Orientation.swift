/// EXIF orientation (TIFF tag 274). Values outside 1...8 (e.g. 0) are treated as ``up``.
public enum Orientation: Int, Sendable, Hashable, CaseIterable {
    case up = 1, upMirrored = 2, down = 3, downMirrored = 4
    case leftMirrored = 5, right = 6, rightMirrored = 7, left = 8

    public init(exifValue: Int) { self = Orientation(rawValue: exifValue) ?? .up }

    /// True when applying the orientation swaps width and height.
    public var swapsSides: Bool { rawValue >= 5 }
}

extension Image {
    /// Returns the image turned upright according to an EXIF orientation.
    public func applying(_ orientation: Orientation) -> Image {
        if orientation == .up { return self }
        let w = width, h = height
        let (ow, oh) = orientation.swapsSides ? (h, w) : (w, h)
        let bpp = format.bytesPerPixel
        var out = [UInt8](repeating: 0, count: pixels.count)
        // For every output pixel (ox, oy), find the stored pixel it comes from.
        pixels.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case .up: (sx, sy) = (ox, oy)
                        case .upMirrored: (sx, sy) = (w - 1 - ox, oy)
                        case .down: (sx, sy) = (w - 1 - ox, h - 1 - oy)
                        case .downMirrored: (sx, sy) = (ox, h - 1 - oy)
                        case .leftMirrored: (sx, sy) = (oy, ox)
                        case .right: (sx, sy) = (oy, h - 1 - ox)
                        case .rightMirrored: (sx, sy) = (w - 1 - oy, h - 1 - ox)
                        case .left: (sx, sy) = (w - 1 - oy, ox)
                        }
                        let s = (sy * w + sx) * bpp, d = (oy * ow + ox) * bpp
                        for b in 0..<bpp { dst[d + b] = src[s + b] }
                    }
                }
            }
        }
        return Image(unchecked: ow, height: oh, format: format, pixels: out)
    }
}
