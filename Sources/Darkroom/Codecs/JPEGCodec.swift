import CDarkroom

/// libjpeg's settings for one encode: the one mapping from ``EncodeOptions`` (quality through
/// ``QualityCurve/jpegQuality(_:)``, the default quality resolved), shared by the whole-image
/// encode and the row encoder, so both write the same bytes for the same rows.
struct JPEGSettings: Sendable, Equatable {
    /// libjpeg's quality (after the quality curve).
    var quality: Int
    var progressive: Bool
    var chroma: ChromaSubsampling
    var optimizeCoding: Bool

    init(quality: Int, progressive: Bool = false, chroma: ChromaSubsampling = .yuv420, optimizeCoding: Bool = false) {
        self.quality = quality
        self.progressive = progressive
        self.chroma = chroma
        self.optimizeCoding = optimizeCoding
    }

    /// The settings `options` ask for.
    init(_ options: EncodeOptions) {
        let quality = options.resolvedQuality(for: .jpeg)
        self.init(quality: QualityCurve.jpegQuality(quality), progressive: options.progressive,
                  chroma: options.chroma.resolved(for: .jpeg, quality: quality), optimizeCoding: options.optimizeCoding)
    }
}

/// JPEG through libjpeg-turbo (via the C shim that owns libjpeg's longjmp).
enum JPEGCodec {
    /// Encodes `image` (8-bit gray or RGB). `icc` and `exif` (TIFF header onwards) are written by
    /// libjpeg (APP2, APP1), `xmp` and `iptc` after them (``MetadataEmbedding/jpeg(_:xmp:iptc:)``).
    /// `deadline`: libjpeg's progress monitor stops the encode there (``DarkroomError/timeLimit(_:)``),
    /// its passes at the end included.
    static func encode(_ image: Image, settings: JPEGSettings, icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil,
                       iptc: [UInt8]? = nil, deadline: Deadline? = nil) throws(DarkroomError) -> [UInt8] {
        precondition(image.format == .gray8 || image.format == .rgb8)
        let (quality, progressive, chroma, optimizeCoding) = (settings.quality, settings.progressive, settings.chroma, settings.optimizeCoding)
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let icc = icc ?? [], exif = exif ?? []
        let rc = image.pixels.withUnsafeBufferPointer { px in
            icc.withUnsafeBufferPointer { iccPtr in
                exif.withUnsafeBufferPointer { exifPtr in
                    darkroom_jpeg_encode(px.baseAddress, Int32(image.width), Int32(image.height),
                                         Int32(image.format.channels), Int32(quality), progressive ? 1 : 0,
                                         chroma == .yuv444 ? 1 : 0, optimizeCoding ? 1 : 0,
                                         iccPtr.baseAddress, UInt32(icc.count), exifPtr.baseAddress, UInt32(exif.count),
                                         deadline.cValue, &out, &size, &err)
                }
            }
        }
        guard rc == 0, let bytes = takeCBuffer(out, count: Int(size)) else {
            throw shimFailure(rc, .encoding, .jpeg, else: .encoding(.codec(.jpeg, message: shimMessage(err))))
        }
        return MetadataEmbedding.jpeg(bytes, xmp: xmp, iptc: iptc)
    }
}

/// A JPEG decoded a few rows at a time (``RowDecoder``) from one header parse: `init` reads the
/// header and markers, ``start(scaleDenominator:maxPixels:)`` fixes the DCT scale, then
/// ``readRows(_:stride:count:)`` hands out rows. 8-bit gray, RGB or CMYK output.
///
/// The JPEG bytes must stay alive and unmoved while the decoder exists (``Converter`` keeps it
/// inside `withUnsafeBufferPointer`).
final class JPEGRowDecoder: RowDecoder, @unchecked Sendable {
    private let stream: OpaquePointer
    /// The JPEG bytes (owned by the caller, alive while the decoder is).
    let bytes: UnsafeBufferPointer<UInt8>
    /// Header facts at scale 1, then the output size once started.
    private(set) var info = darkroom_jpeg_info()
    /// The DCT scale denominator (1, 2, 4, 8) once started.
    private(set) var scaleDenominator = 1

    /// `countsParse`: false for a decoder of part of a file whose header was already planned
    /// (``Converter``'s restart bands).
    convenience init(buffer bytes: UnsafeBufferPointer<UInt8>, countsParse: Bool = true) throws(DarkroomError) {
        try self.init(bytes: bytes, countsParse: countsParse) { info, err in
            darkroom_jpeg_stream_open(bytes.baseAddress, bytes.count, info, err)
        }
    }

    /// The first `size` bytes of the open file `fd` (read with `pread` from offset 0, 64 KiB at a
    /// time; `fd` must stay open while the decoder exists): the same warnings and errors as
    /// ``init(buffer:countsParse:)`` on those bytes. ``bytes`` is empty: no restart bands.
    convenience init(fileDescriptor fd: CInt, size: Int) throws(DarkroomError) {
        try self.init(bytes: UnsafeBufferPointer(start: nil, count: 0), countsParse: true) { info, err in
            darkroom_jpeg_stream_open_fd(fd, size, info, err)
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>, countsParse: Bool,
                 open: (UnsafeMutablePointer<darkroom_jpeg_info>, UnsafeMutablePointer<CChar>) -> OpaquePointer?) throws(DarkroomError) {
        if countsParse { HeaderParses.count(.jpeg) }
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        guard let s = open(&info, &err) else {
            throw .decoding(.codec(.jpeg, message: shimMessage(err)))
        }
        stream = s
        self.bytes = bytes
        exif = takeCBuffer(info.exif, count: Int(info.exif_len))
        iccProfile = takeCBuffer(info.icc, count: Int(info.icc_len))
        info.exif = nil
        info.icc = nil
        header = ImageHeader(format: .jpeg, width: Int(info.stored_width), height: Int(info.stored_height),
                             orientation: EXIF.orientation(of: exif))
        hasRestartMarkers = info.restart_interval > 0
        canReadPlanes = darkroom_jpeg_stream_can_read_planes(s) != 0
        darkroom_jpeg_stream_set_max_scans(s, UInt32(maxScans))
    }

    deinit { darkroom_jpeg_stream_close(stream) }

    /// Where libjpeg stops decoding (its progress monitor: every row read, and every scan step of
    /// a progressive file's decode in ``start(scaleDenominator:maxPixels:)``); the call then
    /// throws ``DarkroomError/timeLimit(_:)``. nil: no limit.
    var deadline: Deadline? {
        didSet { darkroom_jpeg_stream_set_deadline(stream, deadline.cValue) }
    }

    /// The most scans the file may have (``DecodeOptions/maxJPEGScans``, 1 to
    /// ``Limits/maxJPEGScanLimit``): libjpeg's progress monitor stops the scans' decode in
    /// ``start(scaleDenominator:maxPixels:)`` past it, which then throws
    /// ``ImageDecodingError/tooManyScans(limit:)``. Set before starting.
    var maxScans: Int = DecodeOptions.defaultMaxJPEGScans {
        didSet { darkroom_jpeg_stream_set_max_scans(stream, UInt32(clamping: max(1, maxScans))) }
    }

    /// The error for a shim return code `rc` < 0: the scan limit, the deadline, or libjpeg's words.
    private func failure(_ rc: Int32, _ err: [CChar]) -> DarkroomError {
        if rc == DARKROOM_TOO_MANY_SCANS { return .decoding(.tooManyScans(limit: maxScans)) }
        return shimFailure(rc, .decoding, .jpeg, else: .decoding(.codec(.jpeg, message: shimMessage(err))))
    }

    var storedWidth: Int { Int(info.stored_width) }
    var storedHeight: Int { Int(info.stored_height) }
    var width: Int { Int(info.width) }
    var height: Int { Int(info.height) }
    var components: Int { Int(info.components) }
    var rowBytes: Int { width * components }
    var isCMYK: Bool { info.is_cmyk != 0 }
    /// An Adobe APP14 marker was seen: CMYK values are stored inverted (Photoshop's convention).
    var adobeInverted: Bool { info.adobe_inverted != 0 }
    var precision: Int { Int(info.precision) }
    /// The EXIF payload (TIFF header onwards) and the ICC profile, if any: copied from the
    /// markers once, when the header is read.
    let exif: [UInt8]?
    let iccProfile: [UInt8]?
    /// The header facts the plan needs: stored size and EXIF orientation.
    let header: ImageHeader
    /// A single-scan 8-bit Huffman file with restart markers (from the header): ``restartLayout``
    /// gives the layout once started.
    let hasRestartMarkers: Bool
    /// Once started: the restart layout of a single-scan Huffman file with restart markers
    /// (MCUs per interval, MCUs per MCU row, stored rows per MCU row), else nil.
    var restartLayout: (interval: Int, mcusPerRow: Int, mcuHeight: Int)? {
        info.restart_interval > 0 ? (Int(info.restart_interval), Int(info.mcus_per_row), Int(info.mcu_height)) : nil
    }
    /// 8-bit YCbCr (3 components) or gray (1): ``startPlanes(scaleDenominator:maxPixels:)`` can
    /// give the stored planes without colour conversion (not RGB-coded, CMYK or YCCK).
    let canReadPlanes: Bool
    /// The decoded layout: 8-bit gray or RGB (CMYK rows are 4 bytes a pixel, read whole by ``ImageDecoder``).
    var pixelFormat: PixelFormat { components == 1 ? .gray8 : .rgb8 }
    /// What the file holds besides pixels, and what libjpeg warned about so far.
    var metadata: ImageMetadata {
        var metadata = ImageMetadata(sourceFormat: .jpeg, storedWidth: storedWidth, storedHeight: storedHeight,
                                     storedBitDepth: precision)
        metadata.exif = exif
        metadata.orientation = header.orientation
        metadata.iccProfile = iccProfile
        metadata.warnings = warnings
        return metadata
    }
    /// What libjpeg warned about so far.
    var warnings: [DecodeWarning] { darkroom_jpeg_stream_warnings(stream).decodeWarnings }

    /// Starts decompression at 1/`scaleDenominator` (1, 2, 4, 8); ``width``/``height`` become the
    /// output size. Throws ``ImageDecodingError/tooManyPixels(width:height:limit:)`` or a codec error.
    func start(scaleDenominator: Int, maxPixels: Int) throws(DarkroomError) {
        self.scaleDenominator = scaleDenominator
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_jpeg_stream_start(stream, Int32(scaleDenominator), UInt64(maxPixels), &info, &err)
        if rc == -2 { throw .decoding(.tooManyPixels(width: storedWidth, height: storedHeight, limit: maxPixels)) }
        guard rc == 0 else { throw failure(rc, err) }
    }

    /// Starts decompression into raw planes (``canReadPlanes``) at 1/`scaleDenominator`: Y, Cb, Cr
    /// (or gray) as stored, neither colour-converted nor upsampled, read an iMCU row group at a
    /// time with ``readPlanes(_:)``. Throws as ``start(scaleDenominator:maxPixels:)``.
    func startPlanes(scaleDenominator: Int, maxPixels: Int) throws(DarkroomError) -> JPEGPlaneLayout {
        self.scaleDenominator = scaleDenominator
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var planes = darkroom_jpeg_planes()
        let rc = darkroom_jpeg_stream_start_planes(stream, Int32(scaleDenominator), UInt64(maxPixels), &info, &planes, &err)
        if rc == -2 { throw .decoding(.tooManyPixels(width: storedWidth, height: storedHeight, limit: maxPixels)) }
        guard rc == 0 else { throw failure(rc, err) }
        return JPEGPlaneLayout(planes)
    }

    /// Decodes the next iMCU row group: `rows[c]` holds ``JPEGPlaneLayout/Plane/groupRows`` row
    /// pointers of plane `c`, each to ``JPEGPlaneLayout/Plane/stride`` bytes. Throws a codec error.
    func readPlanes(_ rows: UnsafePointer<UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?>) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_jpeg_stream_read_planes(stream, rows, &err)
        if rc < 0 { throw failure(rc, err) }
    }

    func readRows(_ rows: UnsafeMutablePointer<UInt8>, stride: Int, count: Int) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_jpeg_stream_read(stream, rows, stride, Int32(count), &err)
        if rc < 0 {
            for r in 0..<count { (rows + r * stride).update(repeating: 0, count: rowBytes) }
            throw failure(rc, err)
        }
    }
}

/// A JPEG encode fed rows as they are made (the converter's streamed path: the resampler hands
/// over finished output rows, so libjpeg's colour conversion, downsampling and DCT run while the
/// rest of the image is still being decoded and resized). The bytes are those of
/// ``JPEGCodec/encode(_:settings:icc:exif:)`` for the same rows: both run the
/// same C encoder.
final class JPEGRowEncoder {
    private let encoder: OpaquePointer
    private let rowBytes: Int
    /// XMP and IPTC, inserted into the file by ``finish()`` (libjpeg writes the ICC profile and EXIF).
    private let xmp: [UInt8]?, iptc: [UInt8]?
    private(set) var rowsWritten = 0
    /// The first error, thrown by ``finish()`` (a ``DarkroomError/timeLimit(_:)`` when the deadline stopped libjpeg).
    private(set) var failure: DarkroomError?

    /// 8-bit gray or RGB rows of `width` pixels.
    /// `restartRows`: a restart marker every that many MCU rows (0: none; tests make camera-like files with it).
    /// `deadline`: libjpeg's progress monitor stops the encode there, on a row or in the passes of
    /// ``finish()`` (``DarkroomError/timeLimit(_:)``).
    init(width: Int, height: Int, format: PixelFormat, settings: JPEGSettings,
         icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil, iptc: [UInt8]? = nil, restartRows: Int = 0,
         deadline: Deadline? = nil) throws(DarkroomError) {
        precondition(format == .gray8 || format == .rgb8)
        let (quality, progressive, chroma, optimizeCoding) = (settings.quality, settings.progressive, settings.chroma, settings.optimizeCoding)
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let icc = icc ?? [], exif = exif ?? []
        let made = icc.withUnsafeBufferPointer { iccPtr in
            exif.withUnsafeBufferPointer { exifPtr in
                darkroom_jpeg_encoder_start(Int32(width), Int32(height), Int32(format.channels), Int32(quality),
                                            progressive ? 1 : 0, chroma == .yuv444 ? 1 : 0, optimizeCoding ? 1 : 0, Int32(restartRows),
                                            iccPtr.baseAddress, UInt32(icc.count), exifPtr.baseAddress, UInt32(exif.count),
                                            deadline.cValue, &err)
            }
        }
        guard let made else { throw .encoding(.codec(.jpeg, message: shimMessage(err))) }
        encoder = made
        rowBytes = width * format.channels
        (self.xmp, self.iptc) = (xmp, iptc)
    }

    /// A raw-plane encode (``writePlanes(_:)``): Y, Cb, Cr sampled as `settings.chroma` says
    /// (`components` 3), or gray (1); ``planeLayout`` gives the planes it takes.
    init(width: Int, height: Int, planes components: Int, settings: JPEGSettings,
         icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil, iptc: [UInt8]? = nil, deadline: Deadline? = nil) throws(DarkroomError) {
        precondition(components == 1 || components == 3)
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var planes = darkroom_jpeg_planes()
        let icc = icc ?? [], exif = exif ?? []
        let made = icc.withUnsafeBufferPointer { iccPtr in
            exif.withUnsafeBufferPointer { exifPtr in
                darkroom_jpeg_encoder_start_planes(Int32(width), Int32(height), Int32(components), Int32(settings.quality),
                                                   settings.progressive ? 1 : 0, settings.chroma == .yuv444 ? 1 : 0,
                                                   settings.optimizeCoding ? 1 : 0, iccPtr.baseAddress, UInt32(icc.count),
                                                   exifPtr.baseAddress, UInt32(exif.count), deadline.cValue, &planes, &err)
            }
        }
        guard let made else { throw .encoding(.codec(.jpeg, message: shimMessage(err))) }
        encoder = made
        rowBytes = 0
        planeLayout = JPEGPlaneLayout(planes)
        (self.xmp, self.iptc) = (xmp, iptc)
    }

    /// With the raw-plane `init`: the planes the encoder takes (nil for an RGB or gray row encode).
    private(set) var planeLayout: JPEGPlaneLayout?

    /// Encodes the next iMCU row group of planes: `rows[c]` holds ``JPEGPlaneLayout/Plane/groupRows``
    /// row pointers of plane `c`, each to ``JPEGPlaneLayout/Plane/stride`` bytes, padding filled.
    /// The first error is kept for ``finish()``.
    func writePlanes(_ rows: UnsafePointer<UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?>) {
        guard failure == nil else { return }
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_jpeg_encoder_write_planes(encoder, rows, &err)
        if rc < 0 { failure = shimFailure(rc, .encoding, .jpeg, else: .encoding(.codec(.jpeg, message: shimMessage(err)))) }
    }

    deinit { darkroom_jpeg_encoder_free(encoder) }

    /// Encodes rows `rowsWritten..<upTo` of `image`: a buffer of the whole output (`ringRows` 0),
    /// or a ring of `ringRows` rows where row `y` is at `y % ringRows` (rows `rowBytes` apart).
    func write(from image: UnsafePointer<UInt8>, ringRows: Int = 0, upTo end: Int) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        while failure == nil, end > rowsWritten {
            let slot = ringSlot(rowsWritten, ringRows: ringRows)
            let count = ringRows == 0 ? end - rowsWritten : min(end - rowsWritten, ringRows - slot)
            let rc = darkroom_jpeg_encoder_write(encoder, image + slot * rowBytes, rowBytes, Int32(count), &err)
            if rc < 0 { failure = shimFailure(rc, .encoding, .jpeg, else: .encoding(.codec(.jpeg, message: shimMessage(err)))) }
            rowsWritten += count
        }
        rowsWritten = max(rowsWritten, end)
    }

    /// The file, once every row was written. Throws the encoder's first error.
    func finish() throws(DarkroomError) -> [UInt8] {
        if let failure { throw failure }
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let rc = darkroom_jpeg_encoder_finish(encoder, &out, &size, &err)
        guard rc == 0, let bytes = takeCBuffer(out, count: Int(size)) else {
            throw shimFailure(rc, .encoding, .jpeg, else: .encoding(.codec(.jpeg, message: shimMessage(err))))
        }
        return MetadataEmbedding.jpeg(bytes, xmp: xmp, iptc: iptc)
    }
}

/// The planes of a raw JPEG decode or encode (``JPEGRowDecoder/startPlanes(scaleDenominator:maxPixels:)``,
/// ``JPEGRowEncoder/planeLayout``): Y, Cb, Cr — or gray — as libjpeg stores them, moved one iMCU
/// row group at a time.
struct JPEGPlaneLayout: Equatable {
    struct Plane: Equatable {
        /// The plane's size in samples (after any DCT scaling; chroma at its own resolution).
        var width: Int, height: Int
        /// Bytes a row buffer must hold: libjpeg reads and writes whole blocks.
        var stride: Int
        /// Rows of this plane per group.
        var groupRows: Int
        /// The sampling factors (2, 2 for the luma of 4:2:0; 1, 1 for its chroma).
        var hSamp: Int, vSamp: Int
        /// Image (luma) samples per plane sample across and down: 2, 2 for the chroma of 4:2:0;
        /// 1, 1 for the luma, and for chroma that libjpeg-turbo's DCT scaling made full-resolution.
        var xFactor: Double, yFactor: Double
    }
    var planes: [Plane]
    /// iMCU row groups in the image.
    var groups: Int

    init(_ p: darkroom_jpeg_planes) {
        func at(_ t: (Int32, Int32, Int32), _ c: Int) -> Int { Int(c == 0 ? t.0 : c == 1 ? t.1 : t.2) }
        func at(_ t: (Double, Double, Double), _ c: Int) -> Double { c == 0 ? t.0 : c == 1 ? t.1 : t.2 }
        var planes: [Plane] = []
        for c in 0..<min(Int(p.count), 3) {
            planes.append(Plane(width: at(p.width, c), height: at(p.height, c), stride: at(p.stride, c),
                                groupRows: at(p.group_rows, c), hSamp: at(p.h_samp, c), vSamp: at(p.v_samp, c),
                                xFactor: at(p.x_factor, c), yFactor: at(p.y_factor, c)))
        }
        self.planes = planes
        groups = Int(p.groups)
    }
}
