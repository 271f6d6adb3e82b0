/// What one output format can hold. Checked before encoding, so a too-large image fails with
/// ``ImageEncodingError/formatLimit(_:width:height:maxSide:maxPixels:)`` instead of a codec's own
/// (often cryptic) error or, for GIF, a silently wrong header.
public struct FormatLimits: Sendable, Hashable {
    /// Largest width and largest height, in pixels.
    public var maxSide: Int
    /// Largest width × height, in pixels; `nil` when only the sides are limited.
    public var maxPixels: Int?

    /// The limits of `format`:
    /// - WebP: 16,383 px per side (`WEBP_MAX_DIMENSION`, the VP8/VP8L bitstream's 14-bit sizes).
    /// - GIF: 65,535 px per side (16-bit fields in the logical screen and image descriptors).
    /// - JPEG: 65,500 px per side (libjpeg's `JPEG_MAX_DIMENSION`).
    /// - AVIF: 32,768 px per side and 16,384 × 16,384 px in all: libavif's default decoder limits
    ///   (`AVIF_DEFAULT_IMAGE_DIMENSION_LIMIT`, `AVIF_DEFAULT_IMAGE_SIZE_LIMIT`; AV1 itself allows
    ///   65,536), so every AVIF Darkroom writes can be read back, by Darkroom and by other libavif users.
    /// - PNG: 2^31 − 1 px per side (the PNG spec), in practice bounded by the pixel limit.
    public static func of(_ format: ImageFormat) -> FormatLimits {
        switch format {
        case .webp: FormatLimits(maxSide: 16_383, maxPixels: nil)
        case .gif: FormatLimits(maxSide: 65_535, maxPixels: nil)
        case .jpeg: FormatLimits(maxSide: 65_500, maxPixels: nil)
        case .avif: FormatLimits(maxSide: 32_768, maxPixels: avifMaxPixels)
        case .png: FormatLimits(maxSide: 2_147_483_647, maxPixels: nil)
        }
    }

    /// libavif's default decoder size limit, `AVIF_DEFAULT_IMAGE_SIZE_LIMIT`: 16,384 × 16,384 px.
    /// Darkroom writes no AVIF over it, and names it when libavif refuses to parse a larger one.
    static let avifMaxPixels = 16_384 * 16_384

    /// True when a `width`×`height` image fits (both sides positive).
    public func allows(width: Int, height: Int) -> Bool {
        guard width > 0, height > 0, width <= maxSide, height <= maxSide else { return false }
        guard let maxPixels else { return true }
        let (product, overflow) = width.multipliedReportingOverflow(by: height)
        return !overflow && product <= maxPixels
    }

    /// Throws ``ImageEncodingError/formatLimit(_:width:height:maxSide:maxPixels:)`` when a
    /// `width`×`height` image does not fit `format`.
    public static func check(_ format: ImageFormat, width: Int, height: Int) throws(DarkroomError) {
        let limits = of(format)
        guard limits.allows(width: width, height: height) else {
            throw DarkroomError.encoding(.formatLimit(format, width: width, height: height,
                                            maxSide: limits.maxSide, maxPixels: limits.maxPixels))
        }
    }

    /// The largest size with the aspect of `width`×`height` that fits: both sides scaled by one
    /// factor and floored, never below 1 (unchanged when it already fits).
    public func fitting(width: Int, height: Int) -> (width: Int, height: Int) {
        guard width > 0, height > 0 else { return (max(1, width), max(1, height)) }
        var (w, h) = (width, height)
        if w > maxSide || h > maxSide {
            let s = Double(maxSide) / Double(max(w, h))
            w = min(maxSide, max(1, Int((Double(w) * s).rounded(.down))))
            h = min(maxSide, max(1, Int((Double(h) * s).rounded(.down))))
        }
        if let maxPixels { return PixelSize(width: w, height: h).fitted(within: maxPixels).tuple }
        return (w, h)
    }
}
