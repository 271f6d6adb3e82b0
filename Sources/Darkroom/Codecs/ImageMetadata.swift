/// What a decoder learned about a file besides its pixels.
public struct ImageMetadata: Sendable, Equatable {
    /// The container format the bytes were sniffed as.
    public var sourceFormat: ImageFormat
    /// Pixel size as stored in the file, before orientation was applied.
    public var storedWidth: Int
    public var storedHeight: Int
    /// Bits per sample as stored (PNG IHDR, JPEG precision, AVIF depth).
    public var storedBitDepth: Int
    /// EXIF/AVIF orientation found in the file (1 when absent). Decoding applies it.
    public var orientation: Orientation = .up
    /// The embedded ICC profile, if any (before conversion to sRGB).
    public var iccProfile: [UInt8]?
    /// Human-readable description of the ICC profile, if any.
    public var iccDescription: String?
    /// The coding-independent code points that decide the pixels' colour, when they do: a PNG
    /// `cICP` chunk before the image data (it takes precedence over `iCCP`, `gAMA` and `sRGB`, as
    /// the PNG third edition says), or an AVIF's `nclx` (else its AV1 bitstream's colour
    /// description) when it has no ICC profile and declares more than "unspecified" primaries or
    /// transfer. ``DecodeOptions/convertToSRGB`` converts from it (``ImageDecodingError/unsupportedColour(_:cicp:reason:)``
    /// for code points Darkroom does not convert). nil otherwise.
    public var cicp: CICP?
    /// Raw EXIF payload (TIFF header onwards), if any: JPEG APP1, PNG `eXIf` (else an ImageMagick
    /// `Raw profile type exif` text chunk before the image data, as Pillow and exiftool read it),
    /// WebP `EXIF`, AVIF `Exif` item (a leading `Exif\0\0` dropped).
    public var exif: [UInt8]?
    /// The XMP packet, if any, at most ``Limits/maxXMPBytes``: JPEG APP1
    /// `http://ns.adobe.com/xap/1.0/`, PNG `iTXt` `XML:com.adobe.xmp` (or an ImageMagick `Raw
    /// profile type xmp`), WebP `XMP ` chunk, AVIF `mime` item `application/rdf+xml`, GIF `XMP
    /// DataXMP` application extension.
    public var xmp: [UInt8]?
    /// IPTC-IIM records, if any, at most ``Limits/maxMetadataBytes``: JPEG APP13 Photoshop `8BIM`
    /// resource 0x0404, PNG `Raw profile type iptc` or `8bim` text chunk.
    public var iptc: [UInt8]?
    /// Where the file says it came from: the IPTC `DigitalSourceType` of its XMP and whether it
    /// carries a C2PA manifest.
    public var provenance = Provenance()
    /// What reading the metadata blocks found wrong (a block over its limit, a damaged text
    /// chunk, JPEG extended XMP): reported by a conversion for the blocks it keeps.
    var metadataProblems: [MetadataWarning] = []
    /// Number of frames in an animated file; decoding returns the first. A GIF counts only
    /// frames whose image data is all in the file.
    public var frameCount: Int = 1
    /// An animation's total plays, 0 = forever (``AnimationReader/loopCount``); nil for a still
    /// image and for formats whose loop count is not read (PNG, AVIF).
    public var loopCount: Int?
    /// An animation's one-play duration in milliseconds (``AnimationReader/totalDurationMs``); nil
    /// for a still image and for formats whose timing is not read (PNG, AVIF).
    public var durationMs: Int?
    /// True when pixels were converted from an embedded profile (or CICP, CMYK, or a PNG gamma) to sRGB.
    public var convertedToSRGB = false
    /// A PNG's file gamma (`gAMA`, e.g. 0.45455 = 1/2.2) when it decides the colour: no `sRGB`,
    /// `iCCP` or `cICP` chunk beside it. Decoding converts it to sRGB's curve unless it is within
    /// 0.01 of 1/2.2. Nil otherwise.
    public var pngGamma: Double?
    /// The colour description (``cicp``, else the embedded profile) has been used (or found
    /// unusable); it is not applied twice.
    var iccApplied = false
    /// What the decoder warned about (truncated or corrupt data, dropped chunks), empty for a
    /// clean file. Only warnings that ``DecodeOptions/failOn`` allows get this far.
    public var warnings: [DecodeWarning] = []

    public init(sourceFormat: ImageFormat, storedWidth: Int, storedHeight: Int, storedBitDepth: Int) {
        self.sourceFormat = sourceFormat
        self.storedWidth = storedWidth
        self.storedHeight = storedHeight
        self.storedBitDepth = storedBitDepth
    }

    /// True when the file is animated and only the first frame was decoded.
    public var isAnimated: Bool { frameCount > 1 }

    /// True when a conversion to sRGB may change the pixels: code points (``cicp``) other than
    /// sRGB's, or, without code points, an ICC profile.
    var hasColourToConvert: Bool {
        if let cicp { return !CICPColour.isSRGB(cicp) }
        return iccProfile != nil
    }
}

/// What an image says about where it came from: the label the EU AI Act's marking duty relies on
/// (IPTC `DigitalSourceType`) and whether a C2PA manifest is embedded.
public struct Provenance: Sendable, Hashable {
    /// The `Iptc4xmpExt:DigitalSourceType` of the file's XMP (namespace
    /// `http://iptc.org/std/Iptc4xmpExt/2008-02-29/`), e.g.
    /// `http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia` for an image
    /// made by a generative model; nil when absent. At most 1,024 characters.
    public var digitalSourceType: String?
    /// The C2PA manifest store the file embeds, nil when none. A conversion never carries it
    /// over (a re-encode invalidates its signature) and reports it in a ``MetadataWarning``.
    public var c2pa: C2PAManifest?

    public init(digitalSourceType: String? = nil, c2pa: C2PAManifest? = nil) {
        self.digitalSourceType = digitalSourceType
        self.c2pa = c2pa
    }
}

/// A C2PA manifest store (JUMBF) found in a file.
public struct C2PAManifest: Sendable, Hashable, CustomStringConvertible {
    /// Where it is: `JPEG APP11`, `PNG caBX`, `WebP C2PA`, `AVIF uuid`.
    public var container: String
    /// Its size as embedded, in bytes (every segment of a JPEG's, headers included).
    public var byteCount: Int

    public init(container: String, byteCount: Int) {
        self.container = container
        self.byteCount = byteCount
    }

    /// `C2PA manifest (JPEG APP11, 18204 bytes)`.
    public var description: String { "C2PA manifest (\(container), \(byteCount) bytes)" }
}

/// A decoded image together with its metadata.
public struct DecodedImage: Sendable {
    public var image: Image
    public var metadata: ImageMetadata
    public init(image: Image, metadata: ImageMetadata) {
        self.image = image
        self.metadata = metadata
    }
}
