import CDarkroom
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A JPEG decoded row by row as the resampler asks for rows (``RowSource``): the streamed path of
/// ``Converter``, so a 24 MP source never exists as one buffer. One header parse: `init` reads
/// the header and markers, ``start(scaleDenominator:maxPixels:background:)`` fixes the DCT scale.
///
/// Rows are decoded in chunks of 16 into a ring of chunk buffers. In the background mode a
/// producer thread decodes ahead while the caller resamples (decode and resize overlap on two
/// cores); otherwise the caller decodes a chunk when it needs one. Either way the rows, and so the
/// output, are the same. The producer is a thread of its own, not a Dispatch pool thread: the
/// caller blocks waiting for it, and many callers blocked in a shared pool must never be able to
/// keep their producers from running.
///
/// The JPEG bytes must stay alive and unmoved while the stream exists (``Converter`` keeps the
/// stream inside `withUnsafeBufferPointer`).
final class JPEGRowStream: RowSource, @unchecked Sendable {
    // Owned by the decoding thread once started (the caller's in the foreground mode).
    private let stream: OpaquePointer
    /// Header facts at scale 1, then the output size once started.
    private(set) var info = darkroom_jpeg_info()
    /// Rows per chunk (even, so a row pair never straddles two chunks) and chunks in the ring.
    private let chunkRows = 16
    private var slots = 1
    private var ring: UnsafeMutablePointer<UInt8>?
    private var rowBytes = 0
    private var chunkCount = 0

    // Shared between the producer and the consumer, under `state`.
    private let state = Condition()
    private var produced = 0       // chunks decoded so far
    private var released = 0       // chunks the consumer no longer reads (their slots may be reused)
    private var producerDone = true
    private var producer: pthread_t?
    private var stopped = false    // the consumer is gone: decode to the end without waiting for slots
    private var failureText: String?

    // Consumer side.
    private var current = -1       // the chunk the consumer reads

    init(buffer bytes: UnsafeBufferPointer<UInt8>) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        guard let s = darkroom_jpeg_stream_open(bytes.baseAddress, bytes.count, &info, &err) else {
            throw .decoding(.codec(.jpeg, message: shimMessage(err)))
        }
        stream = s
    }

    deinit {
        stop()
        darkroom_free(info.icc)
        darkroom_free(info.exif)
        ring?.deallocate()
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
    /// The first libjpeg error met while decoding; rows after it are zero.
    var failure: String? { state.locked { failureText } }

    /// Starts decompression at 1/`scaleDenominator` (1, 2, 4, 8); ``width``/``height`` become the
    /// output size. With `background`, a producer thread starts decoding at once.
    /// Throws ``ImageDecodingError/tooManyPixels(width:height:limit:)`` or a codec error.
    func start(scaleDenominator: Int, maxPixels: Int, background: Bool) throws(DarkroomError) {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = darkroom_jpeg_stream_start(stream, Int32(scaleDenominator), UInt64(maxPixels), &info, &err)
        if rc == -2 { throw .decoding(.tooManyPixels(width: storedWidth, height: storedHeight, limit: maxPixels)) }
        guard rc == 0 else { throw .decoding(.codec(.jpeg, message: shimMessage(err))) }
        rowBytes = width * components
        chunkCount = (height + chunkRows - 1) / chunkRows
        slots = background ? 4 : 1
        ring = .allocate(capacity: slots * chunkRows * rowBytes)
        guard background else { return }
        producerDone = false
        producer = startJoinableThread { [self] in produce() }
        if producer == nil {
            // No thread to be had: the caller decodes, one chunk at a time, into the first slot.
            producerDone = true
            slots = 1
        }
    }

    /// Row `r` of the output. Rows are asked for in increasing order.
    func row(_ r: Int) -> UnsafePointer<UInt8> {
        precondition(r >= 0 && r < height && r / chunkRows >= current, "rows are streamed in order")
        let chunk = r / chunkRows
        if chunk != current { advance(to: chunk) }
        return UnsafePointer(slot(chunk) + (r - chunk * chunkRows) * rowBytes)
    }

    var prefetchBase: UnsafePointer<UInt8>? { nil }

    /// Decodes the remaining rows (so a truncation at the very end is still reported), waits for
    /// the producer, and returns what libjpeg warned about.
    func finish() -> [DecodeWarning] {
        if slots == 1 {
            while current + 1 < chunkCount && failure == nil { advance(to: current + 1) }
        }
        stop()
        return darkroom_jpeg_stream_warnings(stream).decodeWarnings
    }

    // MARK: chunks

    private func slot(_ chunk: Int) -> UnsafeMutablePointer<UInt8> { ring! + (chunk % slots) * chunkRows * rowBytes }

    private func rows(in chunk: Int) -> Int { min(chunkRows, height - chunk * chunkRows) }

    /// Foreground: decodes `chunk` now. Background: frees the chunks before it and waits for it.
    private func advance(to chunk: Int) {
        if slots == 1 {
            for c in (current + 1)...chunk { decode(c) }   // skipped chunks are decoded and dropped
            current = chunk
            return
        }
        state.locked { released = chunk }
        state.broadcast()
        state.wait(until: { produced > chunk || producerDone }) {}
        current = chunk
        if state.locked({ produced <= chunk }) {
            // The producer stopped on an error before this chunk: zeros, the caller throws after.
            slot(chunk).update(repeating: 0, count: rows(in: chunk) * rowBytes)
        }
    }

    /// Decodes `chunk` into its slot; after an error, zeros.
    private func decode(_ chunk: Int) {
        let n = rows(in: chunk)
        guard state.locked({ failureText == nil }) else {
            slot(chunk).update(repeating: 0, count: n * rowBytes)
            return
        }
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        if darkroom_jpeg_stream_read(stream, slot(chunk), rowBytes, Int32(n), &err) < 0 {
            let text = shimMessage(err)
            state.locked { failureText = text }
            slot(chunk).update(repeating: 0, count: n * rowBytes)
        }
    }

    /// The producer thread: decodes every chunk in order, waiting for a free slot.
    private func produce() {
        for chunk in 0..<chunkCount {
            let go = state.wait(until: { stopped || chunk - released < slots }) { failureText == nil }
            if !go { break }
            // (Once stopped nobody reads the slots: the rest is decoded only to reach the end's warnings.)
            decode(chunk)
            state.locked { produced = chunk + 1 }
            state.broadcast()
        }
        state.locked { producerDone = true }
        state.broadcast()
    }

    /// Lets the producer run to the end without waiting for slots, and waits for it. Idempotent;
    /// ``Converter`` calls it on every path out, so no producer outlives its conversion.
    func stop() {
        state.locked { stopped = true }
        state.broadcast()
        state.wait(until: { producerDone }) {}
        if let thread = producer {
            producer = nil
            pthread_join(thread, nil)
        }
    }
}
