import CLibAVIF

/// An AVIF image sequence (`avis`) through libavif 0.11's `avifEncoderAddImage`, one full canvas
/// (straight RGBA8) at a time, every frame the same size.
///
/// - **Timing**: the track's timescale is 1000 Hz, so each frame's duration is its milliseconds
///   exactly (at least 1: libavif coerces 0 to 1).
/// - **Keyframes**: the first frame, then one every ``keyframeInterval`` frames, so a player can
///   start or seek without decoding the whole sequence; the others are inter frames (the reason a
///   sequence is far smaller than its frames as stills).
/// - **Quality**: the still AVIF's curve (``QualityCurve/avifQuantizer(_:)``, alpha at half of
///   it), the same `speed` and `chroma`.
/// - **Alpha**: every frame carries an alpha plane (the first frame decides it for the whole
///   sequence in libavif, and a later GIF frame may turn transparent); an opaque plane costs a few
///   bytes per frame.
/// - **Speed 7 is encoded at 8**: libaom 3.6.0 (bookworm) dereferences a null pointer in its
///   REALTIME mode at cpu-used 7 when a sequence has an alpha plane (every sequence here has one);
///   8 is the same REALTIME mode (speeds 7–9 are REALTIME in libavif 0.11) and gave files 6 % larger
///   (``sequenceSpeed(_:)``). Speeds 0–6 are libaom's GOOD mode, with its lookahead of raw frames.
/// - **Loop count**: none is written — libavif 0.11 has no `repetitionCount` and writes no edit
///   list; players loop a sequence forever (docs/animation.md, "What AVIF cannot store").
///
/// Memory: libaom keeps its lookahead of raw frames (speed 7 and over is aom's REALTIME usage, no
/// lookahead), and libavif the encoded samples until ``finish()``.
final class AVIFAnimWriter {
    /// Frames between forced keyframes (the first frame is one too).
    static let keyframeInterval = 60
    /// The track's timescale: durations are given in milliseconds.
    static let timescale: UInt64 = 1000

    /// The aom speed a sequence is encoded at for a requested `speed` (0–10): 7 becomes 8 (see above).
    static func sequenceSpeed(_ speed: Int) -> Int { speed == 7 ? 8 : speed }

    private let encoder: UnsafeMutablePointer<avifEncoder>
    private let width: Int, height: Int
    private let chroma: ChromaSubsampling
    private let icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]?
    private var frames = 0

    /// `quantizer`/`alphaQuantizer`: AV1 quantizers 0–63 (lower is better); `speed` 0–10
    /// (``sequenceSpeed(_:)``).
    init(width: Int, height: Int, quantizer: Int, alphaQuantizer: Int, speed: Int, chroma: ChromaSubsampling,
         icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil) throws(DarkroomError) {
        guard let encoder = avifEncoderCreate() else { throw DarkroomError.encoding(.codec(.avif, message: "out of memory")) }
        encoder.pointee.codecChoice = AVIF_CODEC_CHOICE_AOM
        encoder.pointee.speed = Int32(Self.sequenceSpeed(speed))
        encoder.pointee.minQuantizer = Int32(quantizer)
        encoder.pointee.maxQuantizer = Int32(quantizer)
        encoder.pointee.minQuantizerAlpha = Int32(alphaQuantizer)
        encoder.pointee.maxQuantizerAlpha = Int32(alphaQuantizer)
        encoder.pointee.timescale = Self.timescale
        encoder.pointee.keyframeInterval = Int32(Self.keyframeInterval)
        let cores = CPUBudget.cores()
        encoder.pointee.maxThreads = Int32(max(1, cores))
        if cores > 1 && width >= 1024 { encoder.pointee.tileColsLog2 = 1 }
        self.encoder = encoder
        self.width = width
        self.height = height
        self.chroma = chroma
        self.icc = icc
        self.exif = exif
        self.xmp = xmp
    }

    deinit { avifEncoderDestroy(encoder) }

    private func fail(_ r: avifResult) -> DarkroomError {
        DarkroomError.encoding(.codec(.avif, message: String(cString: avifResultToString(r))))
    }

    /// Adds the next frame (RGBA8, the sequence's size), shown for `durationMs` milliseconds.
    func add(_ image: Image, durationMs: Int) throws(DarkroomError) {
        precondition(image.width == width && image.height == height && image.format == .rgba8)
        let yuv = chroma == .yuv444 ? AVIF_PIXEL_FORMAT_YUV444 : AVIF_PIXEL_FORMAT_YUV420
        guard let avif = avifImageCreate(UInt32(width), UInt32(height), 8, yuv) else {
            throw DarkroomError.encoding(.codec(.avif, message: "out of memory"))
        }
        defer { avifImageDestroy(avif) }
        AVIFCodec.labelSRGB(avif)
        var rgb = avifRGBImage()
        avifRGBImageSetDefaults(&rgb, avif)
        rgb.format = AVIF_RGB_FORMAT_RGBA
        rgb.depth = 8
        rgb.rowBytes = UInt32(image.rowBytes)
        var pixels = image.pixels
        let converted = pixels.withUnsafeMutableBufferPointer { px -> avifResult in
            rgb.pixels = px.baseAddress
            return avifImageRGBToYUV(avif, &rgb)
        }
        guard converted == AVIF_RESULT_OK else { throw fail(converted) }
        if frames == 0 {
            // The sequence's colour profile, EXIF (orientation 1: no irot/imir) and XMP are the first image's.
            if let icc, !icc.isEmpty { icc.withUnsafeBufferPointer { avifImageSetProfileICC(avif, $0.baseAddress, $0.count) } }
            if let exif, !exif.isEmpty { exif.withUnsafeBufferPointer { avifImageSetMetadataExif(avif, $0.baseAddress, $0.count) } }
            if let xmp, !xmp.isEmpty { xmp.withUnsafeBufferPointer { avifImageSetMetadataXMP(avif, $0.baseAddress, $0.count) } }
        }
        // Durations are bounded by the caller's Int; the track holds 64-bit timescale units.
        let duration = UInt64(clamping: max(1, durationMs))
        let flags = frames == 0 ? AVIF_ADD_IMAGE_FLAG_FORCE_KEYFRAME.rawValue : AVIF_ADD_IMAGE_FLAG_NONE.rawValue
        let r = avifEncoderAddImage(encoder, avif, duration, avifAddImageFlags(flags))
        guard r == AVIF_RESULT_OK else { throw fail(r) }
        frames += 1
    }

    /// Ends the sequence and returns the file's bytes.
    func finish() throws(DarkroomError) -> [UInt8] {
        var output = avifRWData()
        defer { avifRWDataFree(&output) }
        let r = avifEncoderFinish(encoder, &output)
        guard r == AVIF_RESULT_OK else { throw fail(r) }
        return Array(UnsafeBufferPointer(start: output.data, count: output.size))
    }
}
