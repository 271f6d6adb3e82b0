import CGIFLib
import CLibWebP

/// Encodes an animation one full-canvas frame at a time (straight RGBA8, every frame the same
/// size): WebP through libwebp's `WebPAnimEncoder`, GIF through giflib's streaming encoder, PNG as
/// APNG through libpng (``APNGAnimWriter``), AVIF through libavif's sequence encoder
/// (``AVIFAnimWriter``). The writer holds a few frames whatever the frame count: libwebp's three
/// canvases and its cached encoded frames; for GIF the previous shown frame and one frame waiting
/// for its disposal; for APNG the previous frame and the encoded frames; for AVIF libaom's
/// lookahead and the encoded samples.
final class AnimationWriter {
    private enum Backend {
        case webp(WebPAnimWriter)
        case gif(GIFAnimWriter)
        case avif(AVIFAnimWriter)
        case png(APNGAnimWriter)
    }

    private let backend: Backend

    /// `loopCount`: total plays, 0 = forever. `lossless` applies to WebP. `embedding`: the
    /// metadata blocks the file carries (``OutputMetadata``, decided for this format: GIF carries none).
    init(format: ImageFormat, width: Int, height: Int, loopCount: Int, options: EncodeOptions, lossless: Bool,
         embedding: OutputMetadata) throws(DarkroomError) {
        let (icc, exif, xmp) = (embedding.icc, embedding.exif, embedding.xmp)
        switch format {
        case .webp:
            backend = .webp(try WebPAnimWriter(width: width, height: height, loopCount: loopCount,
                                               quality: Float(QualityCurve.webpQuality(options.resolvedQuality(for: .webp))),
                                               lossless: lossless, icc: icc, exif: exif, xmp: xmp))
        case .gif:
            backend = .gif(try GIFAnimWriter(width: width, height: height, loopCount: loopCount, dither: options.dither))
        case .avif:
            // No loop count: libavif 0.11 cannot write one (players loop a sequence forever).
            let quality = options.resolvedQuality(for: .avif)
            backend = .avif(try AVIFAnimWriter(width: width, height: height, quantizer: QualityCurve.avifQuantizer(quality),
                                               alphaQuantizer: QualityCurve.avifAlphaQuantizer(quality),
                                               speed: options.speed ?? QualityCurve.avifDefaultSpeed,
                                               chroma: options.chroma.resolved(for: .avif, quality: quality),
                                               icc: icc, exif: exif, xmp: xmp))
        case .png:
            // APNG: libpng-encoded frames in fcTL/fdAT chunks (APNGAnimWriter).
            backend = .png(APNGAnimWriter(width: width, height: height, loopCount: loopCount, icc: icc, exif: exif,
                                          xmp: xmp, iptc: embedding.iptc))
        default:
            preconditionFailure("\(format) cannot hold an animation")
        }
    }

    /// The formats this writer animates: ``ImageFormat/canAnimate``.
    static func canAnimate(_ format: ImageFormat) -> Bool { format.canAnimate }

    /// Adds the next frame, shown for `durationMs` milliseconds.
    func add(_ image: Image, durationMs: Int) throws(DarkroomError) {
        let rgba = image.converted(to: .rgba8)
        switch backend {
        case let .webp(w): try w.add(rgba, durationMs: durationMs)
        case let .gif(g): try g.add(rgba, durationMs: durationMs)
        case let .avif(a): try a.add(rgba, durationMs: durationMs)
        case let .png(p): try p.add(rgba, durationMs: durationMs)
        }
    }

    /// Ends the animation and returns the file's bytes.
    func finish() throws(DarkroomError) -> [UInt8] {
        switch backend {
        case let .webp(w): try w.finish()
        case let .gif(g): try g.finish()
        case let .avif(a): try a.finish()
        case let .png(p): try p.finish()
        }
    }
}

/// Animated WebP through `WebPAnimEncoder`: full canvases in at their start timestamps (ms); the
/// encoder picks each frame's sub-rectangle, dispose and blend method itself (gif2webp's way).
/// The last frame's duration is fixed by a NULL frame at the end timestamp before `Assemble`.
/// gif2webp's settings otherwise: keyframe distances kmin/kmax 9/17 lossless and 3/5 lossy,
/// method 4, no mixed lossy/lossless. Identical consecutive frames are merged into one longer
/// frame by libwebp (gif2webp's output has them merged too): the total duration is kept.
private final class WebPAnimWriter {
    private let encoder: OpaquePointer
    private var config = WebPConfig()
    private var timestamp: Int32 = 0
    private let width: Int, height: Int
    private let icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]?

    init(width: Int, height: Int, loopCount: Int, quality: Float, lossless: Bool, icc: [UInt8]?,
         exif: [UInt8]?, xmp: [UInt8]?) throws(DarkroomError) {
        var options = WebPAnimEncoderOptions()
        guard WebPAnimEncoderOptionsInit(&options) != 0, WebPConfigInit(&config) != 0 else {
            throw DarkroomError.encoding(.codec(.webp, message: "libwebp version mismatch"))
        }
        options.anim_params.loop_count = Int32(min(max(loopCount, 0), 65535))
        options.anim_params.bgcolor = 0   // transparent, as browsers clear to (a display hint only)
        // gif2webp's keyframe distances: the encoder tries frames from kmin on as keyframes too
        // and keeps the smaller encoding (smaller files than libwebp's no-keyframe default, and
        // seekable; docs/performance.md has the measurement).
        options.kmin = lossless ? 9 : 3
        options.kmax = lossless ? 17 : 5
        config.quality = quality
        config.method = 4
        config.lossless = lossless ? 1 : 0
        guard let encoder = WebPAnimEncoderNew(Int32(width), Int32(height), &options) else {
            throw DarkroomError.encoding(.codec(.webp, message: "cannot start the animation encoder"))
        }
        self.encoder = encoder
        self.width = width
        self.height = height
        self.icc = icc
        self.exif = exif
        self.xmp = xmp
    }

    deinit { WebPAnimEncoderDelete(encoder) }

    private func failure() -> DarkroomError {
        let text = WebPAnimEncoderGetError(encoder).map { String(cString: $0) } ?? "unknown"
        return DarkroomError.encoding(.codec(.webp, message: "animation encoder: \(text)"))
    }

    /// A canvas given had a pixel that is not opaque (the file's VP8X alpha flag must say so).
    private var hasTransparency = false

    func add(_ image: Image, durationMs: Int) throws(DarkroomError) {
        precondition(image.width == width && image.height == height && image.format == .rgba8)
        if !hasTransparency {
            hasTransparency = image.pixels.withUnsafeBufferPointer { px in
                stride(from: 3, to: px.count, by: 4).contains { px[$0] != 255 }
            }
        }
        var picture = WebPPicture()
        guard WebPPictureInit(&picture) != 0 else { throw DarkroomError.encoding(.codec(.webp, message: "libwebp version mismatch")) }
        defer { WebPPictureFree(&picture) }
        picture.width = Int32(width)
        picture.height = Int32(height)
        picture.use_argb = 1
        let imported = image.pixels.withUnsafeBufferPointer { WebPPictureImportRGBA(&picture, $0.baseAddress, Int32(image.rowBytes)) }
        guard imported != 0 else { throw DarkroomError.encoding(.codec(.webp, message: "out of memory")) }
        guard WebPAnimEncoderAdd(encoder, &picture, timestamp, &config) != 0 else { throw failure() }
        timestamp += Int32(clamping: max(1, durationMs))
    }

    func finish() throws(DarkroomError) -> [UInt8] {
        guard WebPAnimEncoderAdd(encoder, nil, timestamp, nil) != 0 else { throw failure() }
        var data = WebPData()
        guard WebPAnimEncoderAssemble(encoder, &data) != 0 else { throw failure() }
        defer { WebPDataClear(&data) }
        let assembled = Array(UnsafeBufferPointer(start: data.bytes, count: data.size))
        var file = (icc ?? []).isEmpty && (exif ?? []).isEmpty && (xmp ?? []).isEmpty
            ? assembled : try Self.addChunks(assembled, icc: icc, exif: exif, xmp: xmp)
        // libwebp sets VP8X's alpha flag from the frames' bitstreams. A first frame that does not
        // cover the canvas (its transparent border cropped away) may carry no alpha of its own,
        // while the canvas it shows is transparent around it: readers that trust the flag
        // (Pillow) would show that border opaque black. The flag says what the canvases had.
        if hasTransparency, file.count > 20, Array(file[12..<16]) == Array("VP8X".utf8) { file[20] |= 0x10 }
        return file
    }

    /// The assembled animation with ICCP, EXIF and XMP chunks added through libwebpmux.
    private static func addChunks(_ file: [UInt8], icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]?) throws(DarkroomError) -> [UInt8] {
        func check(_ e: WebPMuxError) throws(DarkroomError) {
            guard e == WEBP_MUX_OK else { throw DarkroomError.encoding(.codec(.webp, message: "mux error \(e.rawValue)")) }
        }
        return try file.withUnsafeBufferPointer { (buf) throws(DarkroomError) -> [UInt8] in
            var data = WebPData(bytes: buf.baseAddress, size: buf.count)
            guard let mux = WebPMuxCreate(&data, 1) else { throw DarkroomError.encoding(.codec(.webp, message: "mux error")) }
            defer { WebPMuxDelete(mux) }
            for (fourcc, payload) in [("ICCP", icc), ("EXIF", exif), ("XMP ", xmp)] {
                guard let payload, !payload.isEmpty else { continue }
                try payload.withUnsafeBufferPointer { (p) throws(DarkroomError) in
                    var chunk = WebPData(bytes: p.baseAddress, size: p.count)
                    try check(WebPMuxSetChunk(mux, fourcc, &chunk, 1))
                }
            }
            var out = WebPData()
            try check(WebPMuxAssemble(mux, &out))
            defer { WebPDataClear(&out) }
            return Array(UnsafeBufferPointer(start: out.bytes, count: out.size))
        }
    }
}

/// Animated GIF through giflib's streaming encoder (docs/animation.md):
///
/// - **Palette, stable across frames.** Each frame's own palette is its exact colours when there
///   are at most 255 (as Pillow and giflib keep them), else one quantised to
///   ``PaletteQuantizer/targetError`` (about 42 dB). The first frame's palette is the global colour
///   table. A later frame reuses the current palette when all its colours are in it; an exact frame
///   whose colours are not all in it gets its own colours as a local table (never a lossy mapping,
///   and the smallest table); a quantised frame keeps the current palette while mapping onto it
///   costs at most 25 % more error than its own palette (``reuseError(own:)``: no new table, no
///   flicker), and only otherwise switches to its own. One index is kept for transparency, except for a frame of exactly 256 opaque colours,
///   which keeps them all and is then written whole (as are the frames that reuse that full palette).
/// - **Only what changes is drawn.** A pixel whose shown colour is at least as close to the source
///   as its new palette entry is written as the transparent index (the canvas keeps it; a lossy
///   source's noise does not redraw it), and a frame covers only the rectangle of changed pixels,
///   with disposal 1 (keep) on the frame before. A pixel given unchanged from the previous frame
///   keeps what was shown even when dithering would now pick another index (no flicker).
/// - **New transparency.** A pixel that turns transparent where the canvas is opaque cannot be
///   drawn over a kept canvas: the frame before gets disposal 2 (clear to transparent) over its
///   own rectangle grown to cover those pixels, and this frame redraws the opaque pixels of the
///   cleared rectangle (not the whole canvas; the ghosting of Pillow #6794 otherwise). This is
///   valid because transparency here is binary (alpha < 128 is transparent), as GIF's is.
/// - **Delays** are in 1/100 s: `round(ms / 10)`, at least 2 (browsers show 0 and 1 as 100 ms);
///   10 ms or less becomes 10 (100 ms, what browsers show for it).
/// - **Loop:** total plays p → NETSCAPE2.0 loop count p − 1 (0 = forever stays 0); one play
///   writes no loop extension (browsers and gif2webp read its absence as one play).
private final class GIFAnimWriter {
    private final class Stream { var output: [UInt8] = [] }

    private static let writeCallback: OutputFunc = { gif, buffer, length in
        guard let gif, let buffer, let user = gif.pointee.UserData else { return 0 }
        let stream = Unmanaged<Stream>.fromOpaque(user).takeUnretainedValue()
        stream.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: Int(length)))
        return length
    }

    /// A frame quantized and diffed, waiting until the next frame says how it must be disposed.
    private struct Pending {
        /// Palette indices over the whole canvas (the transparent index where the canvas is kept).
        var indices: [UInt8]
        /// The rectangle of pixels that change, nil for none.
        var rect: (x0: Int, y0: Int, x1: Int, y1: Int)?
        var palette: [(UInt8, UInt8, UInt8)]
        /// nil when the palette has 256 colours (the frame is then opaque and whole).
        var transparentIndex: Int?
        var usesGlobal: Bool
        var delay: Int
    }

    private let stream = Stream()
    private let unmanaged: Unmanaged<Stream>
    private let gif: UnsafeMutablePointer<GifFileType>
    private let width: Int, height: Int, loopCount: Int, dither: Bool
    private var closed = false
    /// The palette frames use now (opaque colours; the transparent index is `palette.count`).
    private var palette: [(UInt8, UInt8, UInt8)] = []
    private var paletteSet = ColourSet(capacity: 0)
    private var paletteIsGlobal = true
    /// The previous frame as shown: RGB, and 0/255 alpha.
    private var shown: [UInt8]
    /// The previous frame as it was given (straight RGBA): a pixel given unchanged keeps what was
    /// shown, so dithering noise does not flicker over still parts of the picture.
    private var previousSource: [UInt8]?
    private var pending: Pending?
    private var frames = 0

    init(width: Int, height: Int, loopCount: Int, dither: Bool) throws(DarkroomError) {
        self.width = width
        self.height = height
        self.loopCount = loopCount
        self.dither = dither
        shown = [UInt8](repeating: 0, count: width * height * 4)
        unmanaged = Unmanaged.passRetained(stream)
        var error: Int32 = 0
        guard let gif = EGifOpen(unmanaged.toOpaque(), Self.writeCallback, &error) else {
            unmanaged.release()
            throw DarkroomError.encoding(.codec(.gif, message: Self.message(error)))
        }
        self.gif = gif
    }

    deinit {
        if !closed { var error: Int32 = 0; EGifCloseFile(gif, &error) }
        unmanaged.release()
    }

    private static func message(_ code: Int32) -> String {
        if let s = GifErrorString(code) { return String(cString: s) }
        return "giflib error \(code)"
    }

    private func check(_ rc: Int32) throws(DarkroomError) {
        guard rc == GIF_OK else { throw DarkroomError.encoding(.codec(.gif, message: Self.message(gif.pointee.Error))) }
    }


    func add(_ image: Image, durationMs: Int) throws(DarkroomError) {
        precondition(image.width == width && image.height == height && image.format == .rgba8)
        // 1. Palette. A frame with transparent pixels needs a transparent index; so does drawing
        // only the changes. A first frame with 256 opaque colours keeps them all (no index left
        // for transparency: it and the frames that reuse its palette are written whole).
        var needsTransparency = false
        for i in 0..<(width * height) where image.pixels[4 * i + 3] < 128 { needsTransparency = true; break }
        var usesGlobal = paletteIsGlobal
        let own = try Self.ownPalette(image, allow256: frames == 0 && !needsTransparency)
        // The undithered mapping onto the palette chosen, when it was made while choosing.
        var mapped = own.mapped
        func allInCurrent() throws(DarkroomError) -> Bool {
            try PaletteQuantizer.newColours(image, known: paletteSet, limit: 0) != nil
        }
        func takeOwn() {
            palette = own.palette
            paletteSet = ColourSet(own.palette)
            paletteIsGlobal = false
            usesGlobal = false
        }
        if frames == 0 {
            palette = own.palette
            paletteSet = ColourSet(palette)
            usesGlobal = true
        } else if own.error == 0 {
            // An exact frame stays exact: the current palette when it holds every colour (and an
            // index for the unchanged pixels), else the frame's own colours as a local table (the
            // smallest exact table: a frame that changes one pixel writes 2 entries, not the
            // whole palette so far).
            if palette.count == 256 && needsTransparency {
                takeOwn()
            } else if try !allInCurrent() {
                takeOwn()
            }
        } else if palette.count == 256 && !needsTransparency, try allInCurrent() {
            // Every colour is in the full palette: reused as it is.
            mapped = nil
        } else {
            // The frame's own palette against the current one: the current palette is kept (no
            // new colour table, no flicker) unless its error is clearly larger.
            var current: (indices: [UInt8], meanSquaredError: Double)?
            if palette.count < 256 || !needsTransparency {
                current = try PaletteQuantizer.map(image, palette: palette, exact: paletteSet,
                                                   transparentIndex: palette.count % 256, dither: false)
            }
            if let current, current.meanSquaredError <= Self.reuseError(own: own.error) {
                mapped = current.indices
            } else {
                takeOwn()
            }
        }
        let transparent: Int? = palette.count < 256 ? palette.count : nil
        let full: [UInt8]
        if let mapped, !dither {
            full = mapped
        } else {
            full = try PaletteQuantizer.map(image, palette: palette, exact: paletteSet, transparentIndex: transparent ?? 0,
                                            dither: dither).indices
        }

        // 2. What is shown now, and the rectangle of pixels that turn transparent over opaque ones.
        var now = [UInt8](repeating: 0, count: width * height * 4)
        var cx0 = width, cy0 = height, cx1 = 0, cy1 = 0
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                let k = Int(full[i])
                if k != transparent {
                    let c = palette[k]
                    now[4 * i] = c.0; now[4 * i + 1] = c.1; now[4 * i + 2] = c.2; now[4 * i + 3] = 255
                } else if shown[4 * i + 3] != 0 {
                    cx0 = min(cx0, x); cx1 = max(cx1, x + 1); cy0 = min(cy0, y); cy1 = max(cy1, y + 1)
                }
            }
        }

        // 3. The frame before is kept (disposal 1), or — when pixels turn transparent — cleared
        // (disposal 2) over its own rectangle grown to cover them; this frame then draws what
        // differs from the canvas that is left.
        if frames > 0 {
            if cx0 < cx1 {
                let cleared = try writePending(disposal: DISPOSE_BACKGROUND, growingTo: (cx0, cy0, cx1, cy1))
                for y in cleared.1..<cleared.3 {
                    for x in cleared.0..<cleared.2 {
                        let o = 4 * (y * width + x)
                        shown[o] = 0; shown[o + 1] = 0; shown[o + 2] = 0; shown[o + 3] = 0
                    }
                }
            } else {
                _ = try writePending(disposal: DISPOSE_DO_NOT, growingTo: nil)
            }
        }
        var indices = full
        var rect: (x0: Int, y0: Int, x1: Int, y1: Int)?
        if let transparent {
            var x0 = width, y0 = height, x1 = 0, y1 = 0
            let src = image.pixels
            for y in 0..<height {
                for x in 0..<width {
                    let i = y * width + x, o = 4 * i
                    var same = now[o + 3] == shown[o + 3]
                        && (now[o + 3] == 0 || (now[o] == shown[o] && now[o + 1] == shown[o + 1] && now[o + 2] == shown[o + 2]))
                    if !same && now[o + 3] != 0 && shown[o + 3] != 0 {
                        // Both opaque: the colour shown stays when it is as close to the source as the new one.
                        let sr = Int(src[o]), sg = Int(src[o + 1]), sb = Int(src[o + 2])
                        func distance(_ a: [UInt8]) -> Int {
                            let dr = sr - Int(a[o]), dg = sg - Int(a[o + 1]), db = sb - Int(a[o + 2])
                            return dr * dr + dg * dg + db * db
                        }
                        if distance(shown) <= distance(now) { same = true }
                    }
                    if !same, let previous = previousSource, Self.samePixel(previous, src, o),
                       (shown[o + 3] == 0) == (src[o + 3] < 128) {
                        // Given unchanged: keep what is shown (its colour may differ by dithering).
                        same = true
                    }
                    if same {
                        indices[i] = UInt8(transparent)
                        now[o] = shown[o]; now[o + 1] = shown[o + 1]; now[o + 2] = shown[o + 2]; now[o + 3] = shown[o + 3]
                    } else {
                        x0 = min(x0, x); x1 = max(x1, x + 1); y0 = min(y0, y); y1 = max(y1, y + 1)
                    }
                }
            }
            rect = x0 < x1 ? (x0, y0, x1, y1) : nil
        } else {
            // A full palette leaves no index for "unchanged": the frame is written whole (and opaque).
            rect = (0, 0, width, height)
        }
        if frames == 0 {
            try start(firstPalette: palette)
        }
        pending = Pending(indices: indices, rect: rect, palette: palette, transparentIndex: transparent,
                          usesGlobal: usesGlobal, delay: GIFDelay.centiseconds(milliseconds: durationMs))
        shown = now
        previousSource = image.pixels
        frames += 1
    }

    /// The RGBA pixels at `o` of `a` and `b` are equal (both transparent counts as equal).
    private static func samePixel(_ a: [UInt8], _ b: [UInt8], _ o: Int) -> Bool {
        if a[o + 3] < 128 && b[o + 3] < 128 { return true }
        return a[o] == b[o] && a[o + 1] == b[o + 1] && a[o + 2] == b[o + 2] && a[o + 3] == b[o + 3]
    }

    /// A palette for `image` alone, with the mean squared error per channel of mapping onto it:
    /// the image's own colours (error 0) when they fit in 255 entries (256 with `allow256`), as
    /// Pillow and giflib keep them; otherwise a palette quantised to
    /// ``PaletteQuantizer/targetError``, with that undithered mapping (`mapped`; the transparent
    /// index is the palette's size).
    static func ownPalette(_ image: Image, allow256: Bool) throws(DarkroomError)
        -> (palette: [(UInt8, UInt8, UInt8)], error: Double, mapped: [UInt8]?) {
        if let exact = try PaletteQuantizer.newColours(image, known: ColourSet(capacity: 0), limit: allow256 ? 256 : 255) {
            return (exact.isEmpty ? [(0, 0, 0)] : exact, 0, nil)
        }
        let quantised = try PaletteQuantizer.adaptivePalette(image, colours: 255, targetError: PaletteQuantizer.targetError)
        let mapping = try PaletteQuantizer.map(image, palette: quantised, exact: nil, transparentIndex: quantised.count, dither: false)
        return (quantised, mapping.meanSquaredError, mapping.indices)
    }

    /// The largest mean squared error per channel at which a frame keeps the current palette,
    /// given the error of a palette of its own: 25 % more than its own or than
    /// ``PaletteQuantizer/targetError``, whichever is larger. Measured on WebP → GIF
    /// (docs/performance.md).
    static func reuseError(own: Double) -> Double { max(PaletteQuantizer.targetError, own) * 1.25 }

    private static func colourMap(_ palette: [(UInt8, UInt8, UInt8)],
                                  transparent: Bool) -> (map: UnsafeMutablePointer<ColorMapObject>?, bits: Int32) {
        // The opaque colours and the transparent entry, in a power-of-two table of at least 2.
        var bits: Int32 = 1
        while (1 << bits) < palette.count + (transparent ? 1 : 0) { bits += 1 }
        var colors = [GifColorType](repeating: GifColorType(), count: 1 << Int(bits))
        for (i, c) in palette.enumerated() { colors[i] = GifColorType(Red: c.0, Green: c.1, Blue: c.2) }
        return (GifMakeMapObject(1 << bits, colors), bits)
    }

    /// The screen descriptor with the first frame's palette as the global table, and the loop extension.
    private func start(firstPalette: [(UInt8, UInt8, UInt8)]) throws(DarkroomError) {
        let (map, bits) = Self.colourMap(firstPalette, transparent: firstPalette.count < 256)
        guard let map else { throw DarkroomError.encoding(.codec(.gif, message: "out of memory")) }
        defer { GifFreeMapObject(map) }
        // In streaming mode giflib takes the version from SavedImages, which stays empty.
        EGifSetGifVersion(gif, true)
        try check(EGifPutScreenDesc(gif, Int32(width), Int32(height), bits, Int32(firstPalette.count % 256), map))
        guard loopCount != 1 else { return }   // one play: no loop extension
        let repeats = loopCount == 0 ? 0 : min(loopCount - 1, 65535)
        try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE))
        var name = Array("NETSCAPE2.0".utf8)
        try check(EGifPutExtensionBlock(gif, 11, &name))
        var block: [UInt8] = [1, UInt8(repeats & 0xFF), UInt8(repeats >> 8)]
        try check(EGifPutExtensionBlock(gif, 3, &block))
        try check(EGifPutExtensionTrailer(gif))
    }

    /// Writes the waiting frame with `disposal` over its rectangle of changes, grown to cover
    /// `growingTo` (the area disposal 2 must clear: there its indices are the transparent index,
    /// which draws nothing). Returns the rectangle written (the whole canvas for none).
    @discardableResult
    private func writePending(disposal: Int32, growingTo extra: (Int, Int, Int, Int)?) throws(DarkroomError) -> (Int, Int, Int, Int) {
        guard let frame = pending else { return (0, 0, 0, 0) }
        pending = nil
        var rect = frame.rect.map { ($0.x0, $0.y0, $0.x1, $0.y1) } ?? extra ?? (0, 0, 1, 1)
        if let extra {
            rect = frame.transparentIndex == nil ? (0, 0, width, height)
                : (min(rect.0, extra.0), min(rect.1, extra.1), max(rect.2, extra.2), max(rect.3, extra.3))
        }
        var gcb = GraphicsControlBlock(DisposalMode: disposal, UserInputFlag: false, DelayTime: Int32(frame.delay),
                                       TransparentColor: Int32(frame.transparentIndex ?? -1))
        var extensionBytes = [GifByteType](repeating: 0, count: 4)
        _ = EGifGCBToExtension(&gcb, &extensionBytes)
        try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, &extensionBytes))
        var localMap: UnsafeMutablePointer<ColorMapObject>?
        if !frame.usesGlobal {
            localMap = Self.colourMap(frame.palette, transparent: frame.transparentIndex != nil).map
            guard localMap != nil else { throw DarkroomError.encoding(.codec(.gif, message: "out of memory")) }
        }
        defer { if let localMap { GifFreeMapObject(localMap) } }
        let w = rect.2 - rect.0, h = rect.3 - rect.1
        try check(EGifPutImageDesc(gif, Int32(rect.0), Int32(rect.1), Int32(w), Int32(h), false, localMap))
        var row = [GifPixelType](repeating: 0, count: w)
        for y in rect.1..<rect.3 {
            let start = y * width + rect.0
            for x in 0..<w { row[x] = frame.indices[start + x] }
            try check(EGifPutLine(gif, &row, Int32(w)))
        }
        return rect
    }

    func finish() throws(DarkroomError) -> [UInt8] {
        try writePending(disposal: DISPOSE_DO_NOT, growingTo: nil)
        closed = true
        var error: Int32 = 0
        guard EGifCloseFile(gif, &error) == GIF_OK else { throw DarkroomError.encoding(.codec(.gif, message: Self.message(error))) }
        return stream.output
    }
}

/// A GIF frame delay for a duration.
enum GIFDelay {
    /// The delay in 1/100 s for `ms` milliseconds: rounded, at least 2 (browsers show 0 and 1 as
    /// 100 ms); 10 ms or less becomes 10 (the 100 ms browsers show for it); at most 65535.
    static func centiseconds(milliseconds ms: Int) -> Int {
        ms <= 10 ? 10 : min(65535, max(2, (ms + 5) / 10))
    }
}
