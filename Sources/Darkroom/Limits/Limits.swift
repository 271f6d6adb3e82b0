/// The bounds every value from outside is held to, and the size limits of each output format.
///
/// Every number that reaches pixel arithmetic has passed one of these bounds first (through
/// ``ValueParser`` or an options type's `validate()`), so no later product of sides, pixel
/// counts or byte counts can overflow `Int`.
public enum Limits {
    /// The largest pixel limit a caller may set (`--max-pixels`, ``DecodeOptions/maxPixels``):
    /// 2^36 = 68,719,476,736 px (64 Gpx). With at most 8 bytes per pixel (RGBA16) every buffer size
    /// stays below 2^39 bytes, far from overflow.
    public static let maxPixelLimit = 1 << 36

    /// The largest side a resize may produce, and the largest side accepted in a geometry, a
    /// `size` or an `aspect_ratio`: 65,536 px (AV1's largest frame side; WebP, GIF and JPEG hold
    /// less, see ``FormatLimits``). The resampler's coefficient tables grow with the output side,
    /// not its area, so a 1×16,777,216 target (16 MP, under the pixel limit) would otherwise
    /// take gigabytes and minutes; a target must also fit the pixel limit.
    public static let maxSide = 65_536

    /// The largest megapixel value accepted (`Nmp`, `--max-mp`, `max_mp`): ``maxPixelLimit`` / 1,048,576 = 65,536 MP.
    public static let maxMegapixels = Double(maxPixelLimit / MegapixelBilling.unit)

    /// The largest scale factor accepted in a percentage geometry: 100,000 % (1000×).
    public static let maxPercent = 100_000.0

    /// The largest byte count a caller may set (`--max-input-bytes`, `--max-body-bytes`): 2^40 (1 TiB).
    public static let maxByteCount = 1 << 40

    /// The most resampling threads one resize may use.
    public static let maxThreads = 256
}

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
        case .avif: FormatLimits(maxSide: 32_768, maxPixels: 16_384 * 16_384)
        case .png: FormatLimits(maxSide: 2_147_483_647, maxPixels: nil)
        }
    }

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
        if let maxPixels { (w, h) = fitWithin(width: w, height: h, maxPixels: maxPixels) }
        return (w, h)
    }
}
