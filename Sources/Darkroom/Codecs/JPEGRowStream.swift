import CDarkroom
#if canImport(Glibc)
import Glibc
#endif

/// A JPEG decoded row by row as the resampler asks for rows (``RowSource``): the streamed path of
/// ``Converter``, so a 24 MP source never exists as one buffer. One header parse: ``init(bytes:)``
/// reads the header and markers, ``start(scaleDenominator:maxPixels:)`` fixes the DCT scale.
///
/// `bytes` must stay alive and unmoved while the stream exists: use it inside
/// `withUnsafeBufferPointer` (``JPEGCodec/withRowStream(_:_:)`` does).
final class JPEGRowStream: RowSource {
    private let stream: OpaquePointer
    /// Header facts at scale 1, then the output size once started.
    private(set) var info = darkroom_jpeg_info()
    /// Rows decoded per call (even, so a row pair never straddles two chunks).
    private let chunkRows = 16
    private var buffer: UnsafeMutablePointer<UInt8>?
    private var rowBytes = 0
    private var base = 0, filled = 0   // buffer holds rows base ..< base + filled
    private var next = 0               // rows handed to the buffer so far
    /// The first libjpeg error met while streaming; rows after it are zero.
    private(set) var failure: String?

    init(buffer bytes: UnsafeBufferPointer<UInt8>) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        guard let s = darkroom_jpeg_stream_open(bytes.baseAddress, bytes.count, &info, &err) else {
            throw .decoding(.codec(.jpeg, message: shimMessage(err)))
        }
        stream = s
    }

    deinit {
        darkroom_free(info.icc)
        darkroom_free(info.exif)
        buffer?.deallocate()
        darkroom_jpeg_stream_close(stream)
    }

    var storedWidth: Int { Int(info.stored_width) }
    var storedHeight: Int { Int(info.stored_height) }
    var width: Int { Int(info.width) }
    var height: Int { Int(info.height) }
    var components: Int { Int(info.components) }
    var isCMYK: Bool { info.is_cmyk != 0 }
    var precision: Int { Int(info.precision) }
    /// The EXIF payload (TIFF header onwards), if any.
    var exif: [UInt8]? { info.exif.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.exif_len))) } }
    var iccProfile: [UInt8]? { info.icc.map { Array(UnsafeBufferPointer(start: $0, count: Int(info.icc_len))) } }

    /// Starts decompression at 1/`scaleDenominator` (1, 2, 4, 8); ``width``/``height`` become the
    /// output size. Throws ``ImageDecodingError/tooManyPixels(width:height:limit:)`` or a codec error.
    func start(scaleDenominator: Int, maxPixels: Int) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_jpeg_stream_start(stream, Int32(scaleDenominator), UInt64(maxPixels), &info, &err)
        if rc == -2 { throw .decoding(.tooManyPixels(width: storedWidth, height: storedHeight, limit: maxPixels)) }
        guard rc == 0 else { throw .decoding(.codec(.jpeg, message: shimMessage(err))) }
        rowBytes = width * components
        buffer = .allocate(capacity: chunkRows * rowBytes)
    }

    /// Row `r` of the output, decoding forward as needed. Rows are asked for in increasing order.
    func row(_ r: Int) -> UnsafePointer<UInt8> {
        precondition(r >= base && r < height, "rows are streamed in order")
        while r >= base + filled { decodeChunk() }
        return UnsafePointer(buffer! + (r - base) * rowBytes)
    }

    var prefetchBase: UnsafePointer<UInt8>? { nil }

    /// Decodes the remaining rows (so a truncation at the very end is still reported) and
    /// returns what libjpeg warned about.
    func finish() -> [DecodeWarning] {
        while next < height && failure == nil { decodeChunk() }
        return darkroom_jpeg_stream_warnings(stream).decodeWarnings
    }

    private func decodeChunk() {
        base = next
        filled = min(chunkRows, height - next)
        next += filled
        guard failure == nil else {
            buffer!.update(repeating: 0, count: filled * rowBytes)
            return
        }
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        if darkroom_jpeg_stream_read(stream, buffer, rowBytes, Int32(filled), &err) < 0 {
            failure = shimMessage(err)
            buffer!.update(repeating: 0, count: filled * rowBytes)
        }
    }
}
