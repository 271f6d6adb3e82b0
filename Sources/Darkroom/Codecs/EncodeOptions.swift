/// Which metadata survives into the output. The default strips everything (GPS included);
/// the orientation written out is always 1 because pixels are stored upright.
public enum MetadataKeep: String, Sendable, Hashable, CaseIterable {
    case none, icc, exif, all
    var keepsICC: Bool { self == .icc || self == .all }
    var keepsEXIF: Bool { self == .exif || self == .all }
}

/// Chroma subsampling of JPEG and AVIF output: `420` halves the colour planes both ways
/// (the web default), `444` keeps them at full size (sharper colour edges, larger files), `auto`
/// (the default) picks by format and quality (``resolved(for:quality:)``).
public enum ChromaSubsampling: String, Sendable, Hashable, CaseIterable {
    case auto, yuv420 = "420", yuv444 = "444"

    /// What `auto` means for `format` at `quality` (0–100, after the format's default is
    /// resolved): AVIF at quality 90 or more is 4:4:4 — libvips' `subsample_mode` auto rule, since
    /// at those qualities 4:2:0 is what limits the picture (thin coloured lines came back over 100
    /// levels off at quality 100); everything else is 4:2:0. JPEG stays 4:2:0 at every quality:
    /// at equal bytes 4:4:4 measured lower (docs/performance.md, "Rate and distortion").
    /// `420` and `444` are returned as they are.
    public func resolved(for format: ImageFormat, quality: Int) -> ChromaSubsampling {
        guard self == .auto else { return self }
        return format == .avif && quality >= 90 ? .yuv444 : .yuv420
    }
}

/// How an image is written: the one home of every encoder setting. The output format itself is
/// an argument of ``ImageEncoder/encode(_:as:metadata:options:)`` (and ``ConvertOptions/format``).
///
/// Settings that do not apply to a format are ignored by it (`progressive` by WebP, …); the
/// table in ``QualityCurve`` says what ``quality`` means for each format.
public struct EncodeOptions: Sendable, Hashable {
    /// Quality 0–100, 100 = best (the gateway's `output_compression`). `nil` = the format's web
    /// default (``QualityCurve/webDefault(for:)``). PNG and GIF are lossless here and ignore it.
    public var quality: Int?
    /// Colour alpha is composited onto when the output has no alpha (JPEG), or always with
    /// ``ConvertOptions/flattenAlpha``.
    public var background: RGBColor
    /// Metadata copied from the input (default: none).
    public var keep: MetadataKeep
    /// JPEG: progressive scan script (libjpeg-turbo `jpeg_simple_progression`).
    public var progressive: Bool
    /// JPEG: optimised Huffman tables (libjpeg `optimize_coding`; sharp's `optimiseCoding`, libvips'
    /// `optimize_coding`). Off by default, as in libvips and Pillow: 2–5 % smaller files (4.6 % for a
    /// 12 MP → 4 MP photo at quality 80), but libjpeg then keeps the whole image's coefficients
    /// (2 bytes × 1.5 samples per pixel at 4:2:0: 12.6 MB at 4 MP) and makes a statistics pass
    /// over them: 17 % of that conversion's CPU time (docs/performance.md, "Encoder defaults, measured").
    /// Ignored by progressive JPEG, which libjpeg always optimises, and under a
    /// ``ConvertOptions/targetSize``, whose JPEG attempts always use optimised tables.
    public var optimizeCoding: Bool
    /// JPEG and AVIF chroma subsampling; default ``ChromaSubsampling/auto``.
    public var chroma: ChromaSubsampling
    /// WebP: lossless mode (``quality`` then sets the effort).
    public var lossless: Bool
    /// AVIF encoder speed 0 (slowest, smallest) … 10 (fastest); `nil` = ``QualityCurve/avifDefaultSpeed``.
    public var speed: Int?
    /// GIF: Floyd–Steinberg dithering (serpentine) onto the palette. Off by default, as in Pillow
    /// and gifsicle: without it files are ~20 % smaller than Pillow's at 2 dB higher PSNR, while
    /// dithering makes them larger than Pillow's (docs/performance.md, "GIF against Pillow"); it
    /// hides banding in smooth gradients.
    public var dither: Bool

    public init(quality: Int? = nil, background: RGBColor = .white, keep: MetadataKeep = .none,
                progressive: Bool = false, chroma: ChromaSubsampling = .auto, lossless: Bool = false,
                speed: Int? = nil, dither: Bool = false, optimizeCoding: Bool = false) {
        self.quality = quality
        self.background = background
        self.keep = keep
        self.progressive = progressive
        self.chroma = chroma
        self.lossless = lossless
        self.speed = speed
        self.dither = dither
        self.optimizeCoding = optimizeCoding
    }

    /// ``quality``, or the `format`'s web default when it is nil (``QualityCurve/webDefault(for:)``):
    /// the one place the default quality is resolved.
    func resolvedQuality(for format: ImageFormat) -> Int {
        quality ?? QualityCurve.webDefault(for: format)
    }

    /// Checks the numbers: ``quality`` in ``Limits/quality`` (0–100), ``speed`` in ``Limits/avifSpeed`` (0–10). ``ImageEncoder`` and ``Converter``
    /// call it first. Throws ``DarkroomError/option(_:)``.
    public func validate() throws(DarkroomError) {
        if let quality { try ValueParser.check(quality, name: "quality", in: Limits.quality) }
        if let speed { try ValueParser.check(speed, name: "speed", in: Limits.avifSpeed) }
    }
}
