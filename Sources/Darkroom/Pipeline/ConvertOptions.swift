/// Which metadata survives into the output. The default strips everything (GPS included);
/// the orientation written out is always 1 because pixels are stored upright.
public enum MetadataKeep: String, Sendable, Hashable, CaseIterable {
    case none, icc, exif, all
    var keepsICC: Bool { self == .icc || self == .all }
    var keepsEXIF: Bool { self == .exif || self == .all }
}

/// JPEG (and AVIF) chroma subsampling.
public enum ChromaSubsampling: String, Sendable, Hashable, CaseIterable {
    case yuv420 = "420", yuv444 = "444"
}

/// Options for reading an image.
public struct DecodeOptions: Sendable, Hashable {
    /// Largest accepted `width * height`, checked before any pixel buffer is allocated.
    public var maxPixels: Int
    /// Apply EXIF / AVIF `irot`+`imir` orientation so the result is upright.
    public var applyOrientation: Bool
    /// Convert embedded ICC profiles (and CMYK) to sRGB.
    public var convertToSRGB: Bool
    /// Shrink-on-load hint: the decoder may return a smaller image (JPEG DCT scaling, WebP scaled
    /// decoding) as long as both sides stay at least this large (in upright orientation).
    public var minimumSize: (width: Int, height: Int)?
    /// How much damage is tolerated (libvips `fail_on`, sharp `failOn`); default
    /// ``FailOn/truncated``: a truncated or corrupt file is an error, other warnings are reported
    /// in ``ImageMetadata/warnings``.
    public var failOn: FailOn

    /// 16,383 × 16,383 = 268,402,689 px, as sharp's `limitInputPixels`.
    public static let defaultMaxPixels = 268_402_689

    public init(maxPixels: Int = DecodeOptions.defaultMaxPixels, applyOrientation: Bool = true,
                convertToSRGB: Bool = true, minimumSize: (width: Int, height: Int)? = nil,
                failOn: FailOn = .truncated) {
        self.maxPixels = maxPixels
        self.applyOrientation = applyOrientation
        self.convertToSRGB = convertToSRGB
        self.minimumSize = minimumSize
        self.failOn = failOn
    }

    /// Checks every field: ``maxPixels`` in 1...``Limits/maxPixelLimit``, ``minimumSize`` sides in
    /// 0...``Limits/maxSide``. ``ImageDecoder/decode(_:options:)`` calls it first.
    /// Throws ``DarkroomError/invalidOption(name:value:expected:)``.
    public func validate() throws {
        guard (1...Limits.maxPixelLimit).contains(maxPixels) else {
            throw DarkroomError.invalidOption(name: "max-pixels", value: String(maxPixels),
                                              expected: ValueParser.describe(1...Limits.maxPixelLimit))
        }
        if let m = minimumSize, !(0...Limits.maxSide).contains(m.width) || !(0...Limits.maxSide).contains(m.height) {
            throw DarkroomError.invalidOption(name: "minimum size", value: "\(m.width)x\(m.height)",
                                              expected: "sides from 0 to \(Limits.maxSide)")
        }
    }

    public static func == (a: DecodeOptions, b: DecodeOptions) -> Bool {
        a.maxPixels == b.maxPixels && a.applyOrientation == b.applyOrientation
            && a.convertToSRGB == b.convertToSRGB && a.failOn == b.failOn
            && a.minimumSize?.width == b.minimumSize?.width && a.minimumSize?.height == b.minimumSize?.height
    }
    public func hash(into h: inout Hasher) {
        h.combine(maxPixels); h.combine(applyOrientation); h.combine(convertToSRGB); h.combine(failOn)
        h.combine(minimumSize?.width); h.combine(minimumSize?.height)
    }
}

/// Options for writing an image.
public struct EncodeOptions: Sendable, Hashable {
    public var format: ImageFormat
    /// `output_compression`: 0–100, 100 = best quality. `nil` = the format's web default
    /// (see ``QualityCurve``). PNG and GIF ignore it unless ``strictOpenAI`` is set.
    public var quality: Int?
    /// Colour that alpha is flattened onto when the format has no alpha (JPEG).
    public var background: RGBColor
    public var keep: MetadataKeep
    /// JPEG: progressive scan script.
    public var progressive: Bool
    /// JPEG and AVIF chroma subsampling.
    public var chroma: ChromaSubsampling
    /// WebP: lossless mode.
    public var lossless: Bool
    /// AVIF encoder speed 0 (slowest, smallest) … 10 (fastest); `nil` = default.
    public var speed: Int?
    /// GIF: Floyd–Steinberg dithering.
    public var dither: Bool
    /// Reject what OpenAI rejects: PNG with quality < 100, JPEG with a transparent input.
    public var strictOpenAI: Bool

    public init(format: ImageFormat, quality: Int? = nil, background: RGBColor = .white,
                keep: MetadataKeep = .none, progressive: Bool = false, chroma: ChromaSubsampling = .yuv420,
                lossless: Bool = false, speed: Int? = nil, dither: Bool = true, strictOpenAI: Bool = false) {
        self.format = format
        self.quality = quality
        self.background = background
        self.keep = keep
        self.progressive = progressive
        self.chroma = chroma
        self.lossless = lossless
        self.speed = speed
        self.dither = dither
        self.strictOpenAI = strictOpenAI
    }
}

/// Everything one conversion does: decode → orient → sRGB → resize → encode.
public struct ConvertOptions: Sendable, Hashable {
    /// Output format; `nil` keeps the input's format.
    public var format: ImageFormat?
    public var quality: Int?
    public var resize: ResizeGeometry?
    public var resizeOptions: ResizeOptions
    public var background: RGBColor
    public var keep: MetadataKeep
    public var maxPixels: Int
    public var progressive: Bool
    public var chroma: ChromaSubsampling
    public var lossless: Bool
    public var speed: Int?
    public var dither: Bool
    public var strictOpenAI: Bool
    /// Composite alpha onto ``background`` for every output format, not only JPEG
    /// (the gateway's `background: opaque`).
    public var flattenAlpha = false
    /// Let JPEG (DCT scaling) and WebP (scaled decoding) decode smaller when the resize shrinks
    /// a lot, keeping at least twice the target size for the final Lanczos pass (libvips' rule).
    public var shrinkOnLoad = true
    /// How much damage the decoder tolerates (``FailOn``); default: truncated or corrupt input is an error.
    public var failOn: FailOn = .truncated

    public init(format: ImageFormat? = nil, quality: Int? = nil, resize: ResizeGeometry? = nil,
                resizeOptions: ResizeOptions = ResizeOptions(), background: RGBColor = .white,
                keep: MetadataKeep = .none, maxPixels: Int = DecodeOptions.defaultMaxPixels,
                progressive: Bool = false, chroma: ChromaSubsampling = .yuv420, lossless: Bool = false,
                speed: Int? = nil, dither: Bool = true, strictOpenAI: Bool = false) {
        self.format = format
        self.quality = quality
        self.resize = resize
        self.resizeOptions = resizeOptions
        self.background = background
        self.keep = keep
        self.maxPixels = maxPixels
        self.progressive = progressive
        self.chroma = chroma
        self.lossless = lossless
        self.speed = speed
        self.dither = dither
        self.strictOpenAI = strictOpenAI
    }

    /// Checks every number: ``maxPixels`` in 1...``Limits/maxPixelLimit``, ``quality`` 0–100,
    /// ``speed`` 0–10, resampling threads 1...``Limits/maxThreads``. ``Converter/convert(_:)`` calls it
    /// first. Throws ``DarkroomError/invalidOption(name:value:expected:)``.
    public func validate() throws {
        try DecodeOptions(maxPixels: maxPixels).validate()
        try encodeOptions(for: format ?? .png).validate()
        guard (1...Limits.maxThreads).contains(resizeOptions.threads) else {
            throw DarkroomError.invalidOption(name: "threads", value: String(resizeOptions.threads),
                                              expected: ValueParser.describe(1...Limits.maxThreads))
        }
    }

    /// The encoder options for a given output format.
    public func encodeOptions(for format: ImageFormat) -> EncodeOptions {
        EncodeOptions(format: format, quality: quality, background: background, keep: keep,
                      progressive: progressive, chroma: chroma, lossless: lossless, speed: speed,
                      dither: dither, strictOpenAI: strictOpenAI)
    }
}
