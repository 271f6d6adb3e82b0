/// One frame of an animation, composited onto the full canvas.
public struct AnimationFrame: Sendable {
    /// The whole canvas as it is shown while this frame is displayed: straight (not
    /// premultiplied) 8-bit RGBA, upright and in sRGB as ``DecodeOptions`` asks.
    public var image: Image
    /// How long the frame is shown, in milliseconds. GIF: 10 ms per 1/100 s of delay, and 100 ms
    /// for a delay of 10 ms or less (browsers', libvips' and gif2webp's rule). APNG: the `fcTL`
    /// delay `num/den` s (a `den` of 0 means 100) rounded to the ms, with the same 10 ms rule.
    /// WebP: the frame's stored duration as it is. AVIF: the sequence's timing, rounded to the ms.
    public var durationMs: Int
    /// The frame's position in the file, from 0.
    public var index: Int
}

/// Reads an animated GIF, WebP, PNG (APNG) or AVIF (image sequence) one composited frame at a
/// time, holding a few frames' pixels whatever the frame count (the canvas, the previous canvas
/// or rectangle where a disposal needs it, and the frame handed out).
///
/// Compositing follows gif2webp 1.2.4 and browsers: a GIF's canvas starts transparent, its
/// transparent-index pixels leave the canvas as it is, disposal 2 clears the frame's rectangle
/// to transparent and 3 restores it; frames are clipped to the logical screen. A WebP's frames
/// are composited by libwebp's `WebPAnimDecoder` (dispose and blend as the file says). An APNG's
/// frames are decoded by libpng one at a time and composited as the APNG specification says
/// (dispose NONE/BACKGROUND/PREVIOUS, blend SOURCE/OVER; a default image that is
/// not a frame is skipped). An AVIF sequence's frames are whole images, decoded by libavif in
/// order. A still image (any format) reads as one frame of 0 ms.
///
/// ```swift
/// let reader = try AnimationReader(gifBytes)
/// var durations: [Int] = []
/// while let frame = try reader.next() {
///     durations.append(frame.durationMs)     // frame.image: the whole canvas, RGBA
/// }
/// ```
///
/// The pixel limit (``DecodeOptions/maxPixels``) bounds the canvas times the frame count, as
/// libvips counts an animation as one strip of `width × (height · frames)` pixels: it is checked
/// before any pixel is decoded, and the error is
/// ``ImageDecodingError/tooManyPixels(width:height:limit:)`` with that strip's height.
public final class AnimationReader {
    /// The format sniffed from the bytes.
    public let format: ImageFormat
    /// The canvas (logical screen) width in pixels, upright.
    public let width: Int
    /// The canvas height in pixels, upright.
    public let height: Int
    /// Frames in the file: for a GIF, those whose image data is all present (a frame cut short
    /// by the end of the file is not counted, and a ``DecodeWarning/Kind/truncated`` warning says
    /// so); for an APNG, the frames before the first damage (a cut, a sequence
    /// error, a frame outside the canvas), without a default image that is not a frame; for a
    /// WebP, its `ANMF` chunks; for an AVIF sequence, its images; 1 for a still image.
    public let frameCount: Int
    /// Total plays, 0 = forever (libvips' `loop`). GIF: NETSCAPE2.0 loop count n > 0 gives
    /// n + 1, 0 gives 0, no loop extension gives 1 (browsers, gif2webp). WebP: the ANIM chunk's
    /// loop count as it is (0 = forever). APNG: `acTL`'s `num_plays` as it is (0 = forever).
    /// AVIF: 0 — libavif 0.11 reads no loop count (no edit list), and browsers play such a
    /// sequence forever (Chromium's `AVIFImageDecoder::RepetitionCount`). 0 for a still image.
    public let loopCount: Int
    /// Each frame's duration in ms, known from the container without decoding (as
    /// ``AnimationFrame/durationMs`` gives them).
    public let durationsMs: [Int]
    /// The sum of ``durationsMs``: one play, in milliseconds.
    public var totalDurationMs: Int { durationsMs.reduce(0, +) }
    /// What the reader warned about so far and ``DecodeOptions/failOn`` allowed: a file cut
    /// short or an APNG's animation chunks broken (from the start), a frame whose image data ends
    /// early or is corrupt (as it is read).
    public private(set) var warnings: [DecodeWarning] = []
    /// What the header says besides pixels (format, stored size, orientation, ICC, EXIF, frames).
    public let metadata: ImageMetadata

    private let options: DecodeOptions
    private var source: Source
    private var index = 0

    private enum Source {
        case gif(GIFFrames)
        case webp(WebPFrames)
        case apng(APNGFrames)
        case avif(AVIFCodec.File)
        case still(DecodedImage?)
    }

    /// Opens `bytes`: sniffs the format, reads the header and every frame's timing, and checks the
    /// canvas × frames against ``DecodeOptions/maxPixels``; no pixel is decoded yet.
    ///
    /// Throws ``DarkroomError/option(_:)`` for invalid `options` and ``DarkroomError/decoding(_:)``:
    /// ``ImageDecodingError/unknownFormat``, the codec's refusal,
    /// ``ImageDecodingError/tooManyPixels(width:height:limit:)``,
    /// ``ImageDecodingError/unsupportedColour(_:cicp:reason:)`` (with ``DecodeOptions/convertToSRGB``)
    /// and, for a GIF cut short or an APNG whose animation chunks are damaged that
    /// ``DecodeOptions/failOn`` does not allow, ``ImageDecodingError/damaged(_:warning:failOn:)``.
    public convenience init(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(DarkroomError) {
        try self.init(bytes, options: options, framesDecoded: nil)
    }

    /// `framesDecoded`: the frames that will be read (the first ones), counted against the pixel
    /// limit instead of all of them (``Converter`` with a ``FrameSelection`` range).
    init(_ bytes: [UInt8], options: DecodeOptions, framesDecoded: Int?) throws(DarkroomError) {
        try options.validate()
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        self.format = format
        self.options = options
        let opened = try AnimationSource.open(bytes, format: format, options: options, framesDecoded: framesDecoded)
        metadata = opened.metadata
        durationsMs = opened.durations
        loopCount = opened.loopCount
        frameCount = opened.durations.count
        let stored = PixelSize(width: opened.width, height: opened.height)
        let upright = options.applyOrientation ? stored.applying(opened.metadata.orientation) : stored
        (width, height) = (upright.width, upright.height)
        switch opened.frames {
        case let .gif(frames): source = .gif(frames)
        case let .webp(frames): source = .webp(frames)
        case let .apng(frames): source = .apng(frames)
        case let .avif(file): source = .avif(file)
        case .still: source = .still(try ImageDecoder.decode(bytes, options: options))
        }
        // The animation's structural damage (a still image's decode checked its own warnings).
        for warning in opened.damage {
            if options.failOn.rejects(warning) { throw DarkroomError.decoding(.damaged(format, warning: warning, failOn: options.failOn)) }
            warnings.append(warning)
        }
    }

    /// The next frame, or nil after the last one. Throws ``DarkroomError/decoding(_:)``: the
    /// codec's refusal, or ``ImageDecodingError/damaged(_:warning:failOn:)`` for a frame whose
    /// image data ends early or is corrupt when ``DecodeOptions/failOn`` does not allow it (with
    /// `none`, a GIF or APNG frame's missing rows are transparent).
    public func next() throws(DarkroomError) -> AnimationFrame? {
        let rgba: [UInt8], duration: Int
        switch source {
        case var .gif(frames):
            guard let frame = try frames.next() else { return nil }
            source = .gif(frames)
            if !frame.complete {
                let warning = DecodeWarning(kind: .truncated, message: "the image data of frame \(index + 1) ends before its last row")
                if options.failOn.rejects(warning) {
                    throw DarkroomError.decoding(.damaged(format, warning: warning, failOn: options.failOn))
                }
                warnings.append(warning)
            }
            (rgba, duration) = (frame.rgba, frame.durationMs)
        case let .webp(frames):
            guard let frame = try frames.next() else { return nil }
            (rgba, duration) = (frame.rgba, frame.durationMs)
        case var .apng(frames):
            guard let frame = frames.next() else { return nil }
            source = .apng(frames)
            if let warning = frame.damage {
                if options.failOn.rejects(warning) {
                    throw DarkroomError.decoding(.damaged(format, warning: warning, failOn: options.failOn))
                }
                warnings.append(warning)
            }
            (rgba, duration) = (frame.rgba, frame.durationMs)
        case let .avif(file):
            guard index < durationsMs.count, let pixels = try file.nextRGBA8() else { return nil }
            (rgba, duration) = (pixels, durationsMs[index])
        case let .still(decoded):
            guard let decoded else { return nil }
            source = .still(nil)
            warnings += decoded.metadata.warnings
            index += 1
            return AnimationFrame(image: decoded.image.converted(to: .rgba8), durationMs: 0, index: 0)
        }
        let stored = Image(unchecked: metadata.storedWidth, height: metadata.storedHeight, format: .rgba8, pixels: rgba)
        var decoded = DecodedImage(image: stored, metadata: metadata)
        if options.convertToSRGB { decoded.convertToSRGB() }
        let image = options.applyOrientation ? decoded.image.applying(metadata.orientation) : decoded.image
        defer { index += 1 }
        return AnimationFrame(image: image, durationMs: duration, index: index)
    }
}

/// What opening an animation finds before decoding pixels: the frame reader, each frame's
/// duration (ms), the loop count (plays), the canvas and where the file was cut. ``AnimationReader``
/// and ``Converter`` share it.
struct AnimationSource {
    enum Frames {
        case gif(GIFFrames)
        case webp(WebPFrames)
        case apng(APNGFrames)
        case avif(AVIFCodec.File)
        /// Not an animation: decode it as a still.
        case still
    }

    var frames: Frames
    var width: Int
    var height: Int
    var durations: [Int]
    var loopCount: Int
    var metadata: ImageMetadata
    /// What is wrong with the animation's structure (a GIF cut short, an APNG's broken
    /// animation chunks, also when the APNG is read as its IDAT image), for
    /// ``DecodeOptions/failOn`` to allow or refuse; a still image's decode reports its own damage.
    var damage: [DecodeWarning]

    /// Opens `bytes` (sniffed as `format`) and checks `width × height × frames` against
    /// `options.maxPixels` (`framesDecoded`: only the first that many frames are counted). Throws the codec's refusal and ``ImageDecodingError/tooManyPixels(width:height:limit:)``.
    static func open(_ bytes: [UInt8], format: ImageFormat, options: DecodeOptions,
                     framesDecoded: Int? = nil) throws(DarkroomError) -> AnimationSource {
        var opened: AnimationSource
        var avifXMP: [UInt8]?
        switch format {
        case .gif:
            let scan = try GIFDecoder.scan(bytes)
            try checkPixelLimit(width: scan.width, height: scan.height, limit: options.maxPixels)
            var metadata = ImageMetadata(sourceFormat: .gif, storedWidth: scan.width, storedHeight: scan.height, storedBitDepth: 8)
            metadata.frameCount = scan.frames.count
            metadata.loopCount = scan.loopCount
            let durations = scan.frames.map(GIFFrames.durationMilliseconds)
            metadata.durationMs = durations.reduce(0, +)
            opened = AnimationSource(frames: .gif(GIFFrames(bytes, scan: scan)), width: scan.width, height: scan.height,
                                     durations: durations, loopCount: scan.loopCount, metadata: metadata,
                                     damage: scan.cut.map { [$0] } ?? [])
        case .webp:
            let header = try WebPCodec.readHeader(bytes)
            try checkPixelLimit(width: header.features.width, height: header.features.height, limit: options.maxPixels)
            var metadata = WebPCodec.metadata(header)
            if header.features.animated {
                let frames = try WebPFrames(bytes)
                let durations = WebPCodec.frameDurations(bytes)
                metadata.loopCount = frames.loopCount
                metadata.durationMs = durations.reduce(0, +)
                opened = AnimationSource(frames: .webp(frames), width: frames.width, height: frames.height,
                                         durations: durations, loopCount: frames.loopCount, metadata: metadata, damage: [])
            } else {
                opened = AnimationSource(frames: .still, width: header.features.width, height: header.features.height,
                                         durations: [0], loopCount: 0, metadata: metadata, damage: [])
            }
        case .png:
            // The header (and the canvas against the pixel limit) through libpng: metadata as for a still.
            var metadata = try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> ImageMetadata in
                try PNGRowDecoder(buffer: buffer, maxPixels: options.maxPixels, failOn: options.failOn).metadata
            }
            let scan = APNGScan(bytes)
            if let scan, scan.animates {
                let durations = scan.frames.map(\.durationMs)
                metadata.frameCount = scan.frames.count
                metadata.loopCount = scan.plays
                metadata.durationMs = durations.reduce(0, +)
                opened = AnimationSource(frames: .apng(APNGFrames(bytes, scan: scan)), width: scan.width, height: scan.height,
                                         durations: durations, loopCount: scan.plays, metadata: metadata, damage: scan.damage)
            } else {
                // A still PNG, or an APNG whose animation is broken before its second frame: the
                // IDAT image, with the animation's damage.
                metadata.frameCount = 1
                opened = AnimationSource(frames: .still, width: metadata.storedWidth, height: metadata.storedHeight,
                                         durations: [0], loopCount: 0, metadata: metadata, damage: scan?.damage ?? [])
            }
        case .avif:
            let file = try AVIFCodec.File(bytes, maxPixels: options.maxPixels)
            var metadata = ImageMetadata(sourceFormat: .avif, storedWidth: file.header.width, storedHeight: file.header.height,
                                         storedBitDepth: file.depth)
            metadata.orientation = file.header.orientation
            metadata.iccProfile = file.iccProfile
            metadata.cicp = file.cicp
            metadata.exif = file.exif
            avifXMP = file.xmp
            metadata.frameCount = file.frameCount
            if file.frameCount > 1 {
                // Frames × canvas against the limit before the timing of each frame is read
                // (libavif allows 2,592,000 frames).
                try checkFramePixels(width: file.header.width, height: file.header.height,
                                     frames: min(framesDecoded ?? file.frameCount, file.frameCount), limit: options.maxPixels)
                let durations = file.frameDurations
                metadata.loopCount = 0
                metadata.durationMs = durations.reduce(0, +)
                opened = AnimationSource(frames: .avif(file), width: file.header.width, height: file.header.height,
                                         durations: durations, loopCount: 0, metadata: metadata, damage: file.warnings)
            } else {
                opened = AnimationSource(frames: .still, width: file.header.width, height: file.header.height,
                                         durations: [0], loopCount: 0, metadata: metadata, damage: [])
            }
        default:
            let header = try ImageDecoder.readHeader(bytes)
            try checkPixelLimit(width: header.width, height: header.height, limit: options.maxPixels)
            var metadata = ImageMetadata(sourceFormat: format, storedWidth: header.width, storedHeight: header.height, storedBitDepth: 8)
            metadata.orientation = header.orientation
            opened = AnimationSource(frames: .still, width: header.width, height: header.height, durations: [0],
                                     loopCount: 0, metadata: metadata, damage: [])
        }
        try checkFramePixels(width: opened.width, height: opened.height,
                             frames: min(framesDecoded ?? opened.durations.count, opened.durations.count),
                             limit: options.maxPixels)
        try ImageSource.checkColour(opened.metadata, format: format, options: options)
        // XMP, IPTC, C2PA and the provenance label, as a still's (``ImageSource``).
        MetadataBlocks(bytes, format: format, avifXMP: avifXMP).apply(to: &opened.metadata)
        return opened
    }

    /// `frames` canvases of `width × height` count as one strip of `width × (height · frames)`
    /// pixels against `limit` (libvips' representation of an animation). Throws
    /// ``ImageDecodingError/tooManyPixels(width:height:limit:)`` with the strip's height.
    /// `output`: an output's frames (``ImageEncodingError/tooManyPixels(width:height:limit:)``).
    static func checkFramePixels(width: Int, height: Int, frames: Int, limit: Int, output: Bool = false) throws(DarkroomError) {
        let (stripHeight, overflow) = height.multipliedReportingOverflow(by: max(1, frames))
        let (pixels, overflow2) = width.multipliedReportingOverflow(by: stripHeight)
        if overflow || overflow2 || pixels > limit {
            let h = overflow ? Int.max : stripHeight
            throw output ? DarkroomError.encoding(.tooManyPixels(width: width, height: h, limit: limit))
                : DarkroomError.decoding(.tooManyPixels(width: width, height: h, limit: limit))
        }
    }
}
