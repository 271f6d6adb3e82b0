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
    /// Raw EXIF payload (TIFF header onwards), if any.
    public var exif: [UInt8]?
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

/// A decoded image together with its metadata.
public struct DecodedImage: Sendable {
    public var image: Image
    public var metadata: ImageMetadata
    public init(image: Image, metadata: ImageMetadata) {
        self.image = image
        self.metadata = metadata
    }
}
