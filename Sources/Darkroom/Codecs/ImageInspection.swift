/// What an image file is, read from its header and a walk over its structure, without decoding a
/// pixel: `darkroom inspect`'s report.
///
/// ``inspect(_:options:)`` parses the header once (as a conversion's first step does, under
/// ``DecodeOptions/maxPixels``) and walks the container's chunks, segments, boxes or blocks to
/// the end of the file: a file cut short, a PNG chunk with a bad CRC or a JPEG without its end
/// marker is reported in ``damage`` without decoding the image. Damage inside compressed pixel
/// data (a corrupt Huffman code, a bad LZW stream) is only found by decoding.
///
/// The billed megapixels of the gateway are ``billedMegapixels`` (Gateway).
public struct ImageInspection: Sendable, Equatable {
    /// The format sniffed from the bytes (never from the file name).
    public var format: ImageFormat
    /// The size of the file, in bytes.
    public var byteCount: Int
    /// The size as stored, in pixels, before orientation (an AVIF's clean aperture, `clap`, when
    /// it has a valid one: the size it decodes at).
    public var storedWidth: Int
    public var storedHeight: Int
    /// EXIF orientation (JPEG, PNG `eXIf`, WebP) or AVIF `irot`/`imir`; ``Orientation/up`` when absent.
    public var orientation: Orientation
    /// Bits per sample as stored: PNG IHDR (1–16), JPEG SOF precision (8, 12), AVIF depth
    /// (8, 10, 12); 8 for WebP and GIF.
    public var bitDepth: Int
    /// The pixels carry transparency: an alpha channel, a PNG `tRNS` chunk, a WebP alpha flag,
    /// an AVIF alpha item, or a transparent colour on any frame of a GIF.
    public var hasAlpha: Bool
    /// The colour description the file embeds.
    public var colour: Colour
    /// Frames: an APNG's frames (``AnimationReader/frameCount``: those before any damage, without
    /// a default image that is not a frame), WebP `ANMF` chunks, GIF image blocks (0 for a GIF
    /// without any), an AVIF sequence's images; 1 for a still image.
    public var frameCount: Int
    /// An animation's total plays, 0 = forever (``AnimationReader/loopCount``: a GIF's
    /// NETSCAPE2.0 value n > 0 is n + 1 plays, no extension 1; an APNG's `num_plays`; a WebP's
    /// loop count; an AVIF sequence 0, as libavif 0.11 reads none); nil for a still image.
    public var loopCount: Int?
    /// An animation's one-play duration in ms (a GIF or APNG delay of 10 ms or less counts as
    /// 100 ms, as browsers show it); nil for a still image.
    public var durationMs: Int?
    /// Which metadata blocks the file holds.
    public var metadata: MetadataPresence
    /// Where the file says it came from: the IPTC `DigitalSourceType` of its XMP (e.g.
    /// `…/trainedAlgorithmicMedia` for an image made by a generative model) and its C2PA manifest.
    public var provenance = Provenance()
    /// Structural damage found by the header walk, in file order: empty for an intact file.
    /// ``DecodeWarning/Kind/truncated`` when pixels are missing or corrupt (the file is cut
    /// short, a critical PNG chunk fails its CRC), ``DecodeWarning/Kind/warning`` when the
    /// picture is intact (an ancillary chunk's CRC, stray bytes between JPEG markers). An APNG's
    /// broken animation chunks (a sequence error, a frame outside the canvas) follow the walk's
    /// findings, then an AVIF's invalid clean aperture (`clap`, ignored: a warning).
    public var damage: [DecodeWarning]

    /// Width once the orientation is applied, in pixels (sides swap for orientations 5–8).
    public var uprightWidth: Int { orientation.swapsSides ? storedHeight : storedWidth }
    /// Height once the orientation is applied, in pixels.
    public var uprightHeight: Int { orientation.swapsSides ? storedWidth : storedHeight }
    /// `width × height`, in pixels.
    public var pixelCount: Int { storedWidth * storedHeight }
    /// ``pixelCount`` in megapixels of 1,048,576 px (``Limits/megapixel``, the gateway's unit).
    public var megapixels: Double { Double(pixelCount) / Double(Limits.megapixel) }
    /// True when the header walk found damage of either kind.
    public var isDamaged: Bool { !damage.isEmpty }

    /// How the file describes its colours.
    public enum Colour: Sendable, Hashable, CustomStringConvertible {
        /// An embedded ICC profile, with its description tag (`desc`) when it has one. An AVIF
        /// may carry CICP as well, in ``ImageInspection/cicp`` (its profile decides).
        case icc(description: String?)
        /// Coding-independent code points: a PNG `cICP` (which decides over an `iCCP` the file
        /// may also hold), an AVIF `nclx` (or its AV1 bitstream's colour description) without ICC.
        case cicp(CICP)
        /// A PNG file gamma (`gAMA`) alone: decoding converts it to sRGB's curve, unless it is
        /// within 0.01 of 1/2.2 (sRGB's own, as near as a power curve gets).
        case gamma(Double)
        /// No colour description: sRGB is assumed.
        case none

        /// `ICC "Display P3"`, `CICP 9/16/9 full (BT.2020, PQ, BT.2020 NCL)`, `gAMA 1 (converted to
        /// sRGB's curve)` or `none (sRGB assumed)`.
        public var description: String {
            switch self {
            case let .icc(name?): "ICC \"\(name)\""
            case .icc(nil): "ICC (no description)"
            case let .cicp(cicp): "CICP \(cicp)"
            case let .gamma(value):
                "gAMA \(Self.decimal(value)) (" + (abs(value - 1 / 2.2) <= 0.01 ? "as sRGB's curve)" : "converted to sRGB's curve)")
            case .none: "none (sRGB assumed)"
            }
        }

        /// `value` with at most 5 decimals, as a `gAMA` chunk stores it (gamma × 100,000).
        static func decimal(_ value: Double) -> String {
            let units = Int((value * 100_000).rounded())
            var fraction = String(units % 100_000)
            fraction = String(repeating: "0", count: 5 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            return "\(units / 100_000)" + (fraction.isEmpty ? "" : "." + fraction)
        }
    }

    /// The CICP code points the file declares (an AVIF with an ICC profile, or a PNG with `iCCP`,
    /// may have both; an AVIF without an `nclx` box, its AV1 bitstream's), or nil.
    public var cicp: CICP?

    /// Which metadata blocks a file holds.
    public struct MetadataPresence: Sendable, Hashable {
        /// EXIF: a JPEG APP1 `Exif`, PNG `eXIf`, WebP `EXIF` chunk or AVIF `Exif` item.
        public var exif: Bool
        /// The EXIF IFD0 points to a GPS IFD (tag 34853): the file may say where it was taken.
        public var gps: Bool
        /// XMP: JPEG APP1, PNG `iTXt` `XML:com.adobe.xmp`, WebP `XMP ` chunk, AVIF item, GIF application extension.
        public var xmp: Bool
        /// An ICC profile.
        public var icc: Bool
        /// IPTC-IIM records: a JPEG APP13 Photoshop resource 0x0404, a PNG `Raw profile type iptc`.
        public var iptc: Bool
        /// A C2PA manifest: JPEG APP11 JUMBF, PNG `caBX`, WebP `C2PA`, an AVIF `uuid` box.
        public var c2pa: Bool

        public init(exif: Bool = false, gps: Bool = false, xmp: Bool = false, icc: Bool = false, iptc: Bool = false,
                    c2pa: Bool = false) {
            self.exif = exif
            self.gps = gps
            self.xmp = xmp
            self.icc = icc
            self.iptc = iptc
            self.c2pa = c2pa
        }

        /// The names of the blocks present, e.g. `["EXIF", "GPS", "ICC"]`.
        public var names: [String] {
            [(exif, "EXIF"), (gps, "GPS"), (xmp, "XMP"), (iptc, "IPTC"), (icc, "ICC"), (c2pa, "C2PA")].filter(\.0).map(\.1)
        }
    }

    /// Inspects `bytes`: one header parse under `options.maxPixels` (the other options do not
    /// apply) and one walk over the file's structure.
    ///
    /// Throws ``DarkroomError/decoding(_:)``: ``ImageDecodingError/unknownFormat`` for bytes that
    /// are no PNG, JPEG, WebP, AVIF or GIF; the codec's refusal of the header (a file cut inside
    /// its header, an invalid header); ``ImageDecodingError/invalidDimensions(width:height:)`` and
    /// ``ImageDecodingError/tooManyPixels(width:height:limit:)``; ``DarkroomError/option(_:)``
    /// for invalid `options`.
    public static func inspect(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(DarkroomError) -> ImageInspection {
        try options.validate()
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        let walk = HeaderWalk(bytes, format: format)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> ImageInspection in
            // Nothing is converted: code points Darkroom cannot convert are reported, not refused.
            var reading = options
            reading.convertToSRGB = false
            let source = try ImageSource(bytes, buffer: buffer, format: format, options: reading)
            var metadata = source.headerMetadata
            var hasAlpha = walk.hasAlpha ?? false
            // An APNG's frames are those the animation shows (APNGScan), not acTL's count.
            var frames = format == .png ? metadata.frameCount : walk.frameCount ?? metadata.frameCount
            var hasXMP = walk.hasXMP
            if let features = source.webpFeatures { hasAlpha = hasAlpha || features.hasAlpha }
            if let avif = source.avifFile {
                hasAlpha = avif.hasAlpha || hasAlpha
                frames = avif.frameCount
                metadata.iccProfile = avif.iccProfile
                metadata.exif = avif.exif
                hasXMP = hasXMP || avif.hasXMP
            }
            // The code points that decide the colour (a PNG's cICP over its iCCP; an AVIF's nclx or
            // AV1 colour description without ICC), else the profile, else an AVIF's nclx of
            // unspecified colour (a PNG cICP libpng dropped, for its CRC, decides nothing).
            let colour: Colour
            if let cicp = metadata.cicp {
                colour = .cicp(cicp)
            } else if let profile = metadata.iccProfile {
                colour = .icc(description: ColorManagement.describe(profile))
            } else if format == .avif, let cicp = walk.cicp {
                colour = .cicp(cicp)
            } else if let gamma = metadata.pngGamma {
                colour = .gamma(gamma)
            } else {
                colour = .none
            }
            let presence = MetadataPresence(exif: metadata.exif != nil || walk.hasEXIF, gps: EXIF.hasGPS(metadata.exif),
                                            xmp: hasXMP || metadata.xmp != nil, icc: metadata.iccProfile != nil || walk.hasICC,
                                            iptc: metadata.iptc != nil, c2pa: metadata.provenance.c2pa != nil)
            return ImageInspection(format: format, byteCount: bytes.count, storedWidth: source.header.width,
                                   storedHeight: source.header.height, orientation: source.header.orientation,
                                   bitDepth: walk.bitDepth ?? metadata.storedBitDepth, hasAlpha: hasAlpha, colour: colour,
                                   frameCount: frames,
                                   loopCount: frames > 1 ? metadata.loopCount : nil,
                                   durationMs: frames > 1 ? metadata.durationMs : nil,
                                   metadata: presence, provenance: metadata.provenance,
                                   damage: walk.damage + (source.apng?.damage ?? []) + (source.avifFile?.warnings ?? []),
                                   cicp: metadata.cicp ?? walk.cicp)
        }
    }
}
