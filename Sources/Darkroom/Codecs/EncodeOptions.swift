/// Which metadata survives into the output: a set of blocks. On the command line and in HTTP it
/// is `none`, `all`, or a comma list of the names below (`icc,exif,xmp`); ``init(parsing:name:)``
/// reads that form and ``description`` writes it.
///
/// | name | keeps |
/// |---|---|
/// | `provenance` | the IPTC `DigitalSourceType` label of the XMP (`Iptc4xmpExt:DigitalSourceType`, e.g. `…/trainedAlgorithmicMedia` for AI images) as a minimal XMP packet with that one field; nothing else (no GPS) |
/// | `icc` | the ICC profile (sRGB's when the pixels were converted to sRGB); a profile whose colour space does not match the output's pixels (a CMYK or gray profile on RGB pixels) is dropped with a ``MetadataWarning`` |
/// | `exif` | EXIF, rewritten: its thumbnail (IFD1) removed, orientation 1 (pixels are stored upright), the pixel dimensions those of the output |
/// | `xmp` | the XMP packet, whole (it holds the provenance label too), up to ``Limits/maxXMPBytes`` |
/// | `iptc` | the IPTC-IIM records (JPEG APP13 Photoshop `8BIM` resource 0x0404, PNG `Raw profile type iptc`) |
///
/// The default, ``default``, is `provenance`: the label that marks an image as AI-made survives
/// a conversion, and every other block (GPS included) is stripped. `none` strips the label too.
/// `all` is every block. A C2PA manifest is never carried over (a re-encode invalidates its
/// signature): it is reported as a ``MetadataWarning`` whatever the set.
///
/// Where an output format cannot hold a block that is kept and present (GIF holds none; WebP
/// and AVIF hold no IPTC), it is dropped with a ``MetadataWarning``, never silently.
public struct MetadataKeep: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The ICC profile.
    public static let icc = MetadataKeep(rawValue: 1)
    /// EXIF (without its thumbnail, orientation 1).
    public static let exif = MetadataKeep(rawValue: 2)
    /// The whole XMP packet.
    public static let xmp = MetadataKeep(rawValue: 4)
    /// IPTC-IIM records.
    public static let iptc = MetadataKeep(rawValue: 8)
    /// The IPTC `DigitalSourceType` label only, as a minimal XMP packet.
    public static let provenance = MetadataKeep(rawValue: 16)
    /// Nothing: every block stripped, the provenance label too.
    public static let none: MetadataKeep = []
    /// Every block.
    public static let all: MetadataKeep = [.icc, .exif, .xmp, .iptc, .provenance]
    /// The library's, the CLI's and the HTTP sidecar's default: ``provenance``.
    public static let `default`: MetadataKeep = .provenance

    /// The names of the blocks, in the order ``description`` lists them.
    public static let names: [(name: String, keep: MetadataKeep)] = [
        ("provenance", .provenance), ("icc", .icc), ("exif", .exif), ("xmp", .xmp), ("iptc", .iptc),
    ]

    /// Parses `none`, `all` or a comma list of `provenance`, `icc`, `exif`, `xmp`, `iptc`
    /// (case-insensitive, spaces around the names ignored; `all` may appear in a list). Throws
    /// ``DarkroomError/option(_:)`` for an unknown or empty name and for `none` in a list.
    public init(parsing text: String, name: String = "keep") throws(DarkroomError) {
        let expected = "none, all, or a comma list of provenance, icc, exif, xmp, iptc (e.g. icc,exif,xmp)"
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces().lowercased() }
        var keep: MetadataKeep = []
        for item in items {
            if item == "none" {
                guard items.count == 1 else {
                    throw DarkroomError.option(OptionError(name: name, value: text, expected: "none alone (it strips everything), or " + expected))
                }
                continue
            }
            if item == "all" { keep.formUnion(.all); continue }
            guard let found = Self.names.first(where: { $0.name == item }) else {
                throw DarkroomError.option(OptionError(name: name, value: text, expected: expected))
            }
            keep.formUnion(found.keep)
        }
        self = keep
    }

    /// `none`, `all`, or the names in a comma list: `provenance,icc,exif`.
    public var description: String {
        if isEmpty { return "none" }
        if self == .all { return "all" }
        return Self.names.filter { contains($0.keep) }.map(\.name).joined(separator: ",")
    }

    /// The provenance label is written: on its own (``provenance``), or inside the whole XMP packet (``xmp``).
    var keepsProvenance: Bool { contains(.provenance) || contains(.xmp) }
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
    /// Metadata copied from the input (default: ``MetadataKeep/default``, the provenance label only).
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

    public init(quality: Int? = nil, background: RGBColor = .white, keep: MetadataKeep = .default,
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
