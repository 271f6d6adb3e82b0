/// Everything one conversion does — decode → orient → sRGB → resize → encode — composed of the
/// options of each stage, each with one home:
///
/// | stage | type | e.g. |
/// |---|---|---|
/// | read | ``DecodeOptions`` (`decode`) | pixel limit, damage policy (`failOn`), orientation, sRGB |
/// | resize | ``ResizeGeometry`` (`resize`), ``ResizeOptions`` (`resampling`), `shrinkOnLoad`, `fast` | `4mp`, `800x600>`; filter, threads |
/// | write | ``format`` and ``EncodeOptions`` (`encode`) | quality, chroma, metadata kept |
/// | write | ``TargetSize`` (`targetSize`) | a ceiling on the output's bytes: the quality is searched |
/// | frames | ``FrameSelection`` (`frames`) | every frame of an animation, the first, `2-5` |
/// | all | ``Deadline`` (`deadline`) | the moment the conversion stops by |
///
/// ```swift
/// var options = ConvertOptions(format: .webp, quality: 80, resize: try ResizeGeometry(parsing: "4mp"))
/// options.decode.failOn = .none          // convert what decodes of a cut download
/// options.encode.keep = .icc
/// let result = try Converter(options: options).convert(bytes)
/// ```
public struct ConvertOptions: Sendable, Hashable {
    /// Output format; `nil` keeps the input's (sniffed from its bytes).
    public var format: ImageFormat?
    /// How the input is read. ``DecodeOptions/maxPixels`` bounds the planned output too;
    /// ``DecodeOptions/minimumSize`` is set by the converter's shrink-on-load plan.
    public var decode: DecodeOptions
    /// How the output is written.
    public var encode: EncodeOptions
    /// The output size, relative to the upright input; `nil` keeps the size.
    public var resize: ResizeGeometry?
    /// Filter, alpha handling and threads of the resize.
    public var resampling: ResizeOptions
    /// Composite alpha onto ``EncodeOptions/background`` for every output format, not only JPEG
    /// (the gateway's `background: opaque`).
    public var flattenAlpha: Bool
    /// Let JPEG (DCT scaling) and WebP (scaled decoding) decode smaller when the resize shrinks a
    /// lot, keeping at least twice the target size for the final filter pass (libvips' rule).
    public var shrinkOnLoad: Bool
    /// Faster, softer shrink-on-load: decode at the largest JPEG DCT / WebP scale that still
    /// covers the target (Pillow's `draft`, sharp's `fastShrinkOnLoad`) instead of keeping twice
    /// the target. About 2.5× less decoding for 24 MP → 4 MP; PSNR against a full decode in docs/performance.md.
    public var fast: Bool
    /// A ceiling on the output's size in bytes (`--max-bytes`): the converter encodes the one
    /// resized image at up to ``TargetSize/maxAttempts`` qualities and keeps the highest that fits,
    /// capped at ``EncodeOptions/quality`` when set (``TargetSize``; the outcome is
    /// ``ConversionResult/targetSize``). `nil`: one encode at ``EncodeOptions/quality``.
    public var targetSize: TargetSize?
    /// Which frames of an animated input (GIF, WebP, APNG, AVIF sequence) are kept (``FrameSelection``; `--frames`).
    /// The default, ``FrameSelection/automatic``, keeps every frame when the output format can
    /// animate (``ImageFormat/animatable``: WebP, GIF, PNG, AVIF) and the first otherwise (``ConversionResult/frameCount`` then says 1
    /// while ``ImageMetadata/frameCount`` says how many the input has).
    public var frames: FrameSelection
    /// The moment the conversion must stop by; `nil` (the default, and the CLI's) is no limit.
    ///
    /// Every stage checks it where its work is: the row loops of decoding, resizing and encoding
    /// (every 16 rows or so), libjpeg's progress monitor (rows, a progressive file's scans, the
    /// Huffman passes of a progressive or optimised encode), libpng's row callback, libwebp's
    /// progress hook (`WebPEncode`, lossy and lossless), the GIF quantiser and dither. Past it the
    /// conversion throws ``DarkroomError/timeLimit(_:)``, frees what it holds and makes no output,
    /// typically within a few milliseconds to a few hundred (a WebP or JPEG pass in progress ends
    /// at its next callback).
    ///
    /// Not stoppable: libavif 0.11 has no progress or abort callback, so an AVIF encode (or decode)
    /// is checked only before it starts and after it ends and runs to its end once started — bound
    /// AVIF outputs by their pixels instead (`darkroom-server --max-avif-pixels`). A WebP decode
    /// (one `WebPDecode` call) and the ICC conversion to sRGB are likewise checked only between
    /// stages. Without a deadline the output is byte for byte what it was without this option.
    public var deadline: Deadline?

    /// `quality` is a shorthand for `encode.quality` (0–100, 100 = best; `nil` = the format's default).
    public init(format: ImageFormat? = nil, quality: Int? = nil, resize: ResizeGeometry? = nil,
                decode: DecodeOptions = DecodeOptions(), encode: EncodeOptions = EncodeOptions(),
                resampling: ResizeOptions = ResizeOptions(), flattenAlpha: Bool = false, shrinkOnLoad: Bool = true,
                fast: Bool = false, targetSize: TargetSize? = nil, frames: FrameSelection = .automatic,
                deadline: Deadline? = nil) {
        self.format = format
        self.decode = decode
        self.encode = encode
        if let quality { self.encode.quality = quality }
        self.resize = resize
        self.resampling = resampling
        self.flattenAlpha = flattenAlpha
        self.shrinkOnLoad = shrinkOnLoad
        self.fast = fast
        self.targetSize = targetSize
        self.frames = frames
        self.deadline = deadline
    }

    /// Checks every number: ``decode`` and ``encode`` (``DecodeOptions/validate()``,
    /// ``EncodeOptions/validate()``), resampling threads 1...``Limits/maxThreads`` and
    /// ``targetSize`` (``TargetSize/validate()``).
    /// ``Converter/convert(_:)-([UInt8])`` calls it first. Throws ``DarkroomError/option(_:)``.
    public func validate() throws(DarkroomError) {
        try decode.validate()
        try encode.validate()
        try ValueParser.check(resampling.threads, name: "threads", in: 1...Limits.maxThreads)
        try targetSize?.validate()
    }
}
