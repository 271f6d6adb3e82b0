/// How an image is read: the one home of every decoder setting.
///
/// ``ImageDecoder/decode(_:options:)`` takes it directly; ``ConvertOptions/decode`` carries it
/// through a conversion, where ``maxPixels`` also bounds the planned output.
public struct DecodeOptions: Sendable, Hashable {
    /// Largest accepted `width × height` in pixels, checked against the header before any pixel
    /// buffer is allocated (a decompression-bomb guard). 1 to ``Limits/maxPixelLimit`` (2^36).
    public var maxPixels: Int
    /// Apply the EXIF (JPEG, PNG `eXIf`, WebP) or AVIF `irot`/`imir` orientation so the result
    /// is upright. Off: pixels stay as stored and ``ImageMetadata/orientation`` says how to turn them.
    public var applyOrientation: Bool
    /// Convert pixels to sRGB through lcms2: from the code points of a PNG `cICP` chunk or an
    /// AVIF `nclx` without an ICC profile (``ImageMetadata/cicp``), else from an embedded ICC
    /// profile (CMYK included). A file whose code points cannot be converted is refused
    /// (``ImageDecodingError/unsupportedColour(_:cicp:reason:)``) while this is on.
    public var convertToSRGB: Bool
    /// Shrink-on-load: the decoder may return a smaller image (libjpeg DCT scaling to 1/2, 1/4,
    /// 1/8; libwebp scaled decoding) as long as both upright sides stay at least this large, in
    /// pixels. `nil` decodes at full size. ``Converter`` sets it from its plan (at least twice the
    /// target, libvips' rule) and ignores a value given here.
    public var minimumSize: (width: Int, height: Int)?
    /// How much damage is tolerated (libvips `fail_on`, sharp `failOn`); default
    /// ``FailOn/truncated``: a truncated or corrupt file is an error, other warnings are reported
    /// in ``ImageMetadata/warnings``.
    public var failOn: FailOn
    /// The most scans a JPEG may have (a baseline file has 1, a progressive one about 10); past it
    /// the decode stops with ``ImageDecodingError/tooManyScans(limit:)``. Each scan of a
    /// progressive file is a pass over the whole image's coefficients, so a small file of
    /// thousands of scans is a time bomb (a 0.8 MB file of 20,000 scans took half a minute).
    /// 1 to ``Limits/maxJPEGScanLimit``; default ``defaultMaxJPEGScans``.
    public var maxJPEGScans: Int

    /// 500, the limit libjpeg-turbo's own fuzz targets set (TurboJPEG's `TJPARAM_SCANLIMIT`; djpeg
    /// has `-maxscans`).
    public static let defaultMaxJPEGScans = Limits.defaultMaxJPEGScans

    /// 16,383 × 16,383 = 268,402,689 px, as sharp's `limitInputPixels` (``Limits/defaultMaxPixels``).
    public static let defaultMaxPixels = Limits.defaultMaxPixels

    public init(maxPixels: Int = DecodeOptions.defaultMaxPixels, applyOrientation: Bool = true,
                convertToSRGB: Bool = true, minimumSize: (width: Int, height: Int)? = nil,
                failOn: FailOn = .truncated, maxJPEGScans: Int = DecodeOptions.defaultMaxJPEGScans) {
        self.maxPixels = maxPixels
        self.maxJPEGScans = maxJPEGScans
        self.applyOrientation = applyOrientation
        self.convertToSRGB = convertToSRGB
        self.minimumSize = minimumSize
        self.failOn = failOn
    }

    /// Checks every field: ``maxPixels`` in 1...``Limits/maxPixelLimit``, ``minimumSize`` sides in
    /// 0...``Limits/maxSide``, ``maxJPEGScans`` in 1...``Limits/maxJPEGScanLimit``. ``ImageDecoder/decode(_:options:)`` and ``Converter`` call it first.
    /// Throws ``DarkroomError/option(_:)``.
    public func validate() throws(DarkroomError) {
        try ValueParser.check(maxPixels, name: "max-pixels", in: 1...Limits.maxPixelLimit)
        try ValueParser.check(maxJPEGScans, name: "max-jpeg-scans", in: 1...Limits.maxJPEGScanLimit)
        if let m = minimumSize, !(0...Limits.maxSide).contains(m.width) || !(0...Limits.maxSide).contains(m.height) {
            throw .option(OptionError(name: "minimum size", value: "\(m.width)x\(m.height)",
                                      expected: "sides from 0 to \(Limits.maxSide)"))
        }
    }

    public static func == (a: DecodeOptions, b: DecodeOptions) -> Bool {
        a.maxPixels == b.maxPixels && a.applyOrientation == b.applyOrientation
            && a.convertToSRGB == b.convertToSRGB && a.failOn == b.failOn && a.maxJPEGScans == b.maxJPEGScans
            && a.minimumSize?.width == b.minimumSize?.width && a.minimumSize?.height == b.minimumSize?.height
    }

    public func hash(into h: inout Hasher) {
        h.combine(maxPixels); h.combine(applyOrientation); h.combine(convertToSRGB); h.combine(failOn); h.combine(maxJPEGScans)
        h.combine(minimumSize?.width); h.combine(minimumSize?.height)
    }
}
