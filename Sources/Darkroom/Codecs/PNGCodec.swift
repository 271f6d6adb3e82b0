import CDarkroom

/// PNG through libpng (via the C shim that owns libpng's longjmp).
enum PNGCodec {
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int, exif: [UInt8]?) {
        HeaderParses.count(.png)
        var info = darkroom_png_info()
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = bytes.withUnsafeBufferPointer { darkroom_png_read_header($0.baseAddress, $0.count, &info, &err) }
        guard rc == 0 else { throw DarkroomError.decoding(.codec(.png, message: shimMessage(err))) }
        darkroom_free(info.icc)
        return (Int(info.width), Int(info.height), takeCBuffer(info.exif, count: Int(info.exif_len)))
    }

    /// Decodes straight into the image's own buffer, sized from the header (through
    /// ``PNGRowDecoder``: one header parse). With `failOn` none, a non-interlaced image whose
    /// data ends early keeps the rows read (a truncated warning); otherwise that is
    /// ``ImageDecodingError/damaged(_:warning:failOn:)``.
    static func decode(_ bytes: [UInt8], maxPixels: Int, failOn: FailOn = .truncated) throws(DarkroomError) -> RawDecode {
        try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> RawDecode in
            let decoder = try PNGRowDecoder(buffer: buffer, maxPixels: maxPixels, failOn: failOn)
            let image = try decoder.readImage(format: decoder.format)
            var metadata = decoder.metadata
            metadata.warnings = decoder.finish()
            return RawDecode(image: image, metadata: metadata)
        }
    }

    /// zlib settings for a PNG encode.
    struct Compression {
        var level: Int32
        var strategy: Int32
        var filters: Int32
        /// The default, chosen by measurement (docs/performance.md, "Encoder defaults"): zlib level 6 with
        /// libpng's adaptive row filters, and Z_RLE instead of full LZ77 for photographic content
        /// (strategy -1 = decide from the pixels), which is ~5× faster on photos at equal size.
        static let `default` = Compression(level: 6, strategy: -1, filters: -1)
    }

    /// Encodes `image`. `icc` and `exif` are written by libpng (`iCCP`, `eXIf`), `xmp` and `iptc`
    /// before the image data (``MetadataEmbedding/png(_:xmp:iptc:)``). `deadline`: libpng's row
    /// callback stops the encode there, after any row (``DarkroomError/timeLimit(_:)``).
    static func encode(_ image: Image, compression: Compression = .default, icc: [UInt8]?, exif: [UInt8]?,
                       xmp: [UInt8]? = nil, iptc: [UInt8]? = nil, deadline: Deadline? = nil) throws(DarkroomError) -> [UInt8] {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        let icc = icc ?? [], exif = exif ?? []
        let rc = image.pixels.withUnsafeBufferPointer { px in
            icc.withUnsafeBufferPointer { iccPtr in
                exif.withUnsafeBufferPointer { exifPtr in
                    darkroom_png_encode(px.baseAddress, UInt32(image.width), UInt32(image.height),
                                        Int32(image.format.channels), Int32(image.format.bitDepth),
                                        compression.level, compression.strategy, compression.filters,
                                        iccPtr.baseAddress, UInt32(icc.count), exifPtr.baseAddress, UInt32(exif.count),
                                        deadline.cValue, &out, &size, &err)
                }
            }
        }
        guard rc == 0, let bytes = takeCBuffer(out, count: size) else {
            throw shimFailure(rc, .encoding, .png, else: .encoding(.codec(.png, message: shimMessage(err))))
        }
        return MetadataEmbedding.png(bytes, xmp: xmp, iptc: iptc)
    }
}

/// A PNG decoded a row at a time (``RowDecoder``) from one header parse: `init` reads the header
/// and sets the decoded layout (palette and tRNS expanded, sub-8-bit gray widened, 16-bit
/// native-endian) and its metadata (everything is before the image data: a later eXIf or iCCP
/// is ignored, as the PNG specification requires), ``readRows(_:stride:count:)`` hands out rows,
/// ``finish()`` reads the chunks after the image data and returns the warnings. An interlaced
/// (Adam7) image can only be read whole.
///
/// The PNG bytes must stay alive and unmoved while the decoder exists.
final class PNGRowDecoder: RowDecoder, @unchecked Sendable {
    private let stream: OpaquePointer
    /// libpng keeps a pointer to it (warnings, chunks after the image), so it does not move.
    private let info: UnsafeMutablePointer<darkroom_png_info>
    private let failOn: FailOn

    /// Throws ``ImageDecodingError/tooManyPixels(width:height:limit:)`` (before any row buffer is
    /// allocated) or a codec error.
    convenience init(buffer bytes: UnsafeBufferPointer<UInt8>, maxPixels: Int, failOn: FailOn) throws(DarkroomError) {
        try self.init(maxPixels: maxPixels, failOn: failOn) { info, rc, err in
            darkroom_png_stream_open(bytes.baseAddress, bytes.count, UInt64(maxPixels), failOn == .none ? 1 : 0, info, rc, err)
        }
    }

    /// The first `size` bytes of the open file `fd` (read with `pread` from offset 0, a window at
    /// a time; `fd` must stay open while the decoder exists): the same warnings and errors as
    /// ``init(buffer:maxPixels:failOn:)`` on those bytes.
    convenience init(fileDescriptor fd: CInt, size: Int, maxPixels: Int, failOn: FailOn) throws(DarkroomError) {
        try self.init(maxPixels: maxPixels, failOn: failOn) { info, rc, err in
            darkroom_png_stream_open_fd(fd, size, UInt64(maxPixels), failOn == .none ? 1 : 0, info, rc, err)
        }
    }

    private init(maxPixels: Int, failOn: FailOn,
                 open: (UnsafeMutablePointer<darkroom_png_info>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<CChar>) -> OpaquePointer?) throws(DarkroomError) {
        HeaderParses.count(.png)
        self.failOn = failOn
        info = .allocate(capacity: 1)
        info.initialize(to: darkroom_png_info())
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var rc: Int32 = 0
        guard let s = open(info, &rc, &err) else {
            let (width, height) = (Int(info.pointee.width), Int(info.pointee.height))
            info.deallocate()
            if rc == -2 { throw .decoding(.tooManyPixels(width: width, height: height, limit: maxPixels)) }
            throw .decoding(.codec(.png, message: shimMessage(err)))
        }
        stream = s
    }

    deinit {
        darkroom_png_stream_close(stream)
        darkroom_free(info.pointee.icc)
        darkroom_free(info.pointee.exif)
        info.deallocate()
    }

    /// Where libpng stops decoding (its row callback, after every row and every pass of an
    /// interlaced image); the read then throws ``DarkroomError/timeLimit(_:)``. nil: no limit.
    var deadline: Deadline? {
        didSet { darkroom_png_stream_set_deadline(stream, deadline.cValue) }
    }

    var width: Int { Int(info.pointee.width) }
    var height: Int { Int(info.pointee.height) }
    /// The decoded layout: 1–4 channels, 8 or 16 bits.
    var format: PixelFormat { PixelFormat(channels: Int(info.pointee.channels), bitDepth: Int(info.pointee.out_depth)) }
    var rowBytes: Int { width * format.bytesPerPixel }
    /// The header facts the plan needs: stored size and the orientation of its eXIf chunk.
    var header: ImageHeader {
        ImageHeader(format: .png, width: width, height: height, orientation: EXIF.orientation(of: exif))
    }
    var isInterlaced: Bool { info.pointee.interlaced != 0 }
    /// The ICC profile (an iCCP chunk before the image data).
    var iccProfile: [UInt8]? { info.pointee.icc.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.pointee.icc_len))) } }
    /// The EXIF payload (an eXIf chunk before the image data).
    var exif: [UInt8]? { info.pointee.exif.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.pointee.exif_len))) } }

    func readRows(_ rows: UnsafeMutablePointer<UInt8>, stride: Int, count: Int) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_png_stream_read(stream, rows, stride, Int32(count), &err)
        if rc == DARKROOM_TIME_LIMIT { throw .timeLimit(TimeLimitError(stage: .decoding, format: .png)) }
        if rc == -4 {
            throw .decoding(.damaged(.png, warning: DecodeWarning(kind: .truncated, message: shimMessage(err)), failOn: failOn))
        }
        if rc < 0 { throw .decoding(.codec(.png, message: shimMessage(err))) }
    }

    /// Decodes every row left (every pass of an interlaced image) without keeping any: what
    /// reading them all with ``readRows(_:stride:count:)`` throws, with one row of memory.
    func checkRows() throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_png_stream_check(stream, &err)
        if rc == DARKROOM_TIME_LIMIT { throw .timeLimit(TimeLimitError(stage: .decoding, format: .png)) }
        if rc == -4 {
            throw .decoding(.damaged(.png, warning: DecodeWarning(kind: .truncated, message: shimMessage(err)), failOn: failOn))
        }
        if rc < 0 { throw .decoding(.codec(.png, message: shimMessage(err))) }
    }

    /// What the file holds besides pixels, all known from its header: stored size and depth, ICC
    /// profile, cICP code points (which take precedence over the profile and the gamma), EXIF and
    /// its orientation, APNG frame count, whether the file gamma is converted.
    var metadata: ImageMetadata {
        let i = info.pointee
        var metadata = ImageMetadata(sourceFormat: .png, storedWidth: width, storedHeight: height,
                                     storedBitDepth: Int(i.bit_depth))
        metadata.iccProfile = iccProfile
        metadata.exif = exif
        metadata.orientation = header.orientation
        metadata.frameCount = Int(i.frames)
        metadata.convertedToSRGB = i.gamma_corrected != 0
        if i.gamma > 0 && i.has_srgb == 0 && i.icc == nil && i.has_cicp == 0 { metadata.pngGamma = i.gamma }
        if i.has_cicp != 0 {
            let c = i.cicp
            metadata.cicp = CICP(primaries: Int(c.0), transfer: Int(c.1), matrix: Int(c.2), videoFullRangeFlag: Int(c.3))
        }
        return metadata
    }

    /// Reads what follows the image data (CRCs, a cut end) and returns what libpng warned about.
    func finish() -> [DecodeWarning] {
        darkroom_png_stream_finish(stream)
        return info.pointee.warnings.decodeWarnings
    }
}
