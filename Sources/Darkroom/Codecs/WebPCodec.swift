import CDarkroom
import CLibWebP

/// WebP through libwebp (decode, encode) and libwebpdemux/mux (animation, ICC, EXIF).
enum WebPCodec {
    struct Features { var width: Int; var height: Int; var hasAlpha: Bool; var animated: Bool }

    static func features(_ bytes: [UInt8]) throws(DarkroomError) -> Features {
        var f = WebPBitstreamFeatures()
        let status = bytes.withUnsafeBufferPointer { WebPGetFeatures($0.baseAddress, $0.count, &f) }
        guard status == VP8_STATUS_OK else { throw DarkroomError.decoding(.codec(.webp, message: statusText(status))) }
        return Features(width: Int(f.width), height: Int(f.height), hasAlpha: f.has_alpha != 0, animated: f.has_animation != 0)
    }

    static func statusText(_ s: VP8StatusCode) -> String {
        switch s {
        case VP8_STATUS_OUT_OF_MEMORY: "out of memory"
        case VP8_STATUS_INVALID_PARAM: "invalid parameter"
        case VP8_STATUS_BITSTREAM_ERROR: "bitstream error (corrupt data)"
        case VP8_STATUS_UNSUPPORTED_FEATURE: "unsupported feature"
        case VP8_STATUS_NOT_ENOUGH_DATA: "not enough data (file is truncated)"
        default: "error \(s.rawValue)"
        }
    }

    /// ICC, EXIF, frame count, loop count (the ANIM chunk's, 0 = forever) and the sum of the
    /// frames' durations (ms) from the RIFF container.
    typealias Container = (icc: [UInt8]?, exif: [UInt8]?, frames: Int, loop: Int, durationMs: Int)

    /// ICC, EXIF and frame count from the RIFF container.
    static func containerInfo(_ bytes: [UInt8]) -> Container {
        bytes.withUnsafeBufferPointer { buf in
            var data = WebPData(bytes: buf.baseAddress, size: buf.count)
            guard let demux = WebPDemux(&data) else { return (nil, nil, 1, 0, 0) }
            defer { WebPDemuxDelete(demux) }
            func chunk(_ fourcc: String) -> [UInt8]? {
                var iter = WebPChunkIterator()
                guard WebPDemuxGetChunk(demux, fourcc, 1, &iter) != 0 else { return nil }
                defer { WebPDemuxReleaseChunkIterator(&iter) }
                guard let p = iter.chunk.bytes, iter.chunk.size > 0 else { return nil }
                return Array(UnsafeBufferPointer(start: p, count: iter.chunk.size))
            }
            let frames = Int(WebPDemuxGetI(demux, WEBP_FF_FRAME_COUNT))
            var exif = chunk("EXIF")
            // Some writers keep the "Exif\0\0" JPEG prefix inside the chunk.
            if let e = exif, e.count > 6, Array(e.prefix(6)) == Array("Exif\0\0".utf8) { exif = Array(e.dropFirst(6)) }
            let loop = Int(WebPDemuxGetI(demux, WEBP_FF_LOOP_COUNT))
            var duration = 0
            var iter = WebPIterator()
            if frames > 1, WebPDemuxGetFrame(demux, 1, &iter) != 0 {
                repeat { duration += Int(iter.duration) } while WebPDemuxNextFrame(&iter) != 0
                WebPDemuxReleaseIterator(&iter)
            }
            return (chunk("ICCP"), exif, max(1, frames), loop, duration)
        }
    }

    /// Each frame's stored duration in ms (the `ANMF` chunks' durations), from the demuxer
    /// without decoding; `[0]` for a still image or a file the demuxer refuses.
    static func frameDurations(_ bytes: [UInt8]) -> [Int] {
        bytes.withUnsafeBufferPointer { buf in
            var data = WebPData(bytes: buf.baseAddress, size: buf.count)
            guard let demux = WebPDemux(&data) else { return [0] }
            defer { WebPDemuxDelete(demux) }
            var iter = WebPIterator()
            guard WebPDemuxGetFrame(demux, 1, &iter) != 0 else { return [0] }
            defer { WebPDemuxReleaseIterator(&iter) }
            var durations: [Int] = []
            repeat { durations.append(Int(iter.duration)) } while WebPDemuxNextFrame(&iter) != 0
            return durations
        }
    }

    /// A file's header: the bitstream features and the container's ICC, EXIF and frame count.
    typealias Header = (features: Features, container: Container)

    /// The bitstream features and the container's ICC, EXIF and frame count: the header, read once.
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> Header {
        HeaderParses.count(.webp)
        return (try features(bytes), containerInfo(bytes))
    }

    /// What the header says besides pixels: stored size, ICC profile, EXIF and its orientation, frames.
    static func metadata(_ header: Header) -> ImageMetadata {
        let f = header.features, info = header.container
        var metadata = ImageMetadata(sourceFormat: .webp, storedWidth: f.width, storedHeight: f.height, storedBitDepth: 8)
        metadata.iccProfile = info.icc
        metadata.exif = info.exif
        metadata.orientation = EXIF.orientation(of: info.exif)
        metadata.frameCount = info.frames
        if f.animated {
            metadata.loopCount = info.loop
            metadata.durationMs = info.durationMs
        }
        return metadata
    }

    /// Decodes the first frame from a header already read (and checked against the pixel limit),
    /// at `scaledTo` (both sides smaller, ``DecodeScale/webp(_:)``) or at full size.
    static func decode(_ bytes: [UInt8], header: Header, scaledTo: PixelSize?) throws(DarkroomError) -> RawDecode {
        let f = header.features
        let metadata = metadata(header)
        if f.animated {
            return RawDecode(image: try decodeFirstFrame(bytes, width: f.width, height: f.height), metadata: metadata)
        }
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { throw DarkroomError.decoding(.codec(.webp, message: "libwebp version mismatch")) }
        var width = f.width, height = f.height
        if let s = scaledTo, s.width < f.width, s.height < f.height, s.width > 0, s.height > 0 {
            config.options.use_scaling = 1
            config.options.scaled_width = Int32(s.width)
            config.options.scaled_height = Int32(s.height)
            width = s.width
            height = s.height
        }
        let format: PixelFormat = f.hasAlpha ? .rgba8 : .rgb8
        var image = Image(unchecked: width, height: height, format: format)
        let status: VP8StatusCode = image.pixels.withUnsafeMutableBufferPointer { px in
            config.output.colorspace = f.hasAlpha ? MODE_RGBA : MODE_RGB
            config.output.is_external_memory = 1
            config.output.u.RGBA.rgba = px.baseAddress
            config.output.u.RGBA.stride = Int32(width * format.bytesPerPixel)
            config.output.u.RGBA.size = px.count
            let s = bytes.withUnsafeBufferPointer { WebPDecode($0.baseAddress, $0.count, &config) }
            WebPFreeDecBuffer(&config.output)
            return s
        }
        guard status == VP8_STATUS_OK else { throw DarkroomError.decoding(.codec(.webp, message: statusText(status))) }
        return RawDecode(image: image, metadata: metadata)
    }

    /// Decodes the first frame of a file whose header was read (and checked against the pixel
    /// limit) only to find what ``decode(_:header:scaledTo:)`` at full size throws: a still image
    /// goes through libwebp's scaler into an output a 16th of each side (the bitstream is decoded
    /// whole either way, so the status is the same), not into a full-size buffer; an animation
    /// is decoded as `decode` does (libwebp's animation decoder keeps the whole canvas itself).
    static func check(_ bytes: [UInt8], header: Header) throws(DarkroomError) {
        let f = header.features
        guard !f.animated else {
            _ = try decode(bytes, header: header, scaledTo: nil)
            return
        }
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { throw DarkroomError.decoding(.codec(.webp, message: "libwebp version mismatch")) }
        let scaled = PixelSize(width: max(1, f.width / 16), height: max(1, f.height / 16))
        if scaled.width < f.width && scaled.height < f.height {
            config.options.use_scaling = 1
            config.options.scaled_width = Int32(scaled.width)
            config.options.scaled_height = Int32(scaled.height)
        }
        config.output.colorspace = f.hasAlpha ? MODE_RGBA : MODE_RGB
        let status = bytes.withUnsafeBufferPointer { WebPDecode($0.baseAddress, $0.count, &config) }
        WebPFreeDecBuffer(&config.output)
        guard status == VP8_STATUS_OK else { throw DarkroomError.decoding(.codec(.webp, message: statusText(status))) }
    }

    private static func decodeFirstFrame(_ bytes: [UInt8], width: Int, height: Int) throws(DarkroomError) -> Image {
        try bytes.withUnsafeBufferPointer { (buf) throws(DarkroomError) in
            var data = WebPData(bytes: buf.baseAddress, size: buf.count)
            var options = WebPAnimDecoderOptions()
            guard WebPAnimDecoderOptionsInit(&options) != 0 else {
                throw DarkroomError.decoding(.codec(.webp, message: "libwebp version mismatch"))
            }
            options.color_mode = MODE_RGBA
            options.use_threads = 0
            guard let decoder = WebPAnimDecoderNew(&data, &options) else {
                throw DarkroomError.decoding(.codec(.webp, message: "invalid animation"))
            }
            defer { WebPAnimDecoderDelete(decoder) }
            var frame: UnsafeMutablePointer<UInt8>?
            var timestamp: Int32 = 0
            guard WebPAnimDecoderGetNext(decoder, &frame, &timestamp) != 0, let frame else {
                throw DarkroomError.decoding(.codec(.webp, message: "cannot decode the first animation frame"))
            }
            return Image(unchecked: width, height: height, format: .rgba8,
                         pixels: Array(UnsafeBufferPointer(start: frame, count: width * height * 4)))
        }
    }

    /// Encodes `image` (8-bit RGB or RGBA). `deadline`: libwebp's progress hook stops `WebPEncode`
    /// there (it is one long call; the hook is asked at every few percent, lossy: every macroblock
    /// row), and the encode throws ``DarkroomError/timeLimit(_:)`` with the picture and the
    /// writer's memory freed.
    static func encode(_ image: Image, quality: Int, lossless: Bool, icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil,
                       deadline: Deadline? = nil) throws(DarkroomError) -> [UInt8] {
        var attempts = 0
        return try encode(image, quality: quality, lossless: lossless, icc: icc, exif: exif, xmp: xmp, deadline: deadline,
                          attempts: &attempts)
    }

    /// ``encode(_:quality:lossless:icc:exif:xmp:deadline:)``, counting the `WebPEncode` calls in
    /// `attempts` (2 after a partition-0 overflow that was retried).
    static func encode(_ image: Image, quality: Int, lossless: Bool, icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]? = nil,
                       deadline: Deadline? = nil, attempts: inout Int) throws(DarkroomError) -> [UInt8] {
        precondition(image.format == .rgb8 || image.format == .rgba8)
        var config = WebPConfig()
        guard WebPConfigInit(&config) != 0 else { throw DarkroomError.encoding(.codec(.webp, message: "libwebp version mismatch")) }
        config.quality = Float(quality)
        config.method = 4
        config.lossless = lossless ? 1 : 0
        if lossless { config.exact = 0 }
        var picture = WebPPicture()
        guard WebPPictureInit(&picture) != 0 else { throw DarkroomError.encoding(.codec(.webp, message: "libwebp version mismatch")) }
        defer { WebPPictureFree(&picture) }
        picture.width = Int32(image.width)
        picture.height = Int32(image.height)
        picture.use_argb = lossless ? 1 : 0
        let imported = image.pixels.withUnsafeBufferPointer { px in
            image.format == .rgba8
                ? WebPPictureImportRGBA(&picture, px.baseAddress, Int32(image.rowBytes))
                : WebPPictureImportRGB(&picture, px.baseAddress, Int32(image.rowBytes))
        }
        guard imported != 0 else { throw DarkroomError.encoding(.codec(.webp, message: "out of memory")) }
        var writer = WebPMemoryWriter()
        WebPMemoryWriterInit(&writer)
        defer { WebPMemoryWriterClear(&writer) }
        // The hook reads the deadline (CLOCK_MONOTONIC nanoseconds) through `user_data`.
        var stopAt = deadline.cValue
        try withUnsafeMutablePointer(to: &writer) { (w) throws(DarkroomError) in
            try withUnsafeMutablePointer(to: &stopAt) { (stop) throws(DarkroomError) in
                picture.writer = WebPMemoryWrite
                picture.custom_ptr = UnsafeMutableRawPointer(w)
                if deadline != nil {
                    picture.user_data = UnsafeMutableRawPointer(stop)
                    picture.progress_hook = { _, picture in
                        guard let stop = picture?.pointee.user_data else { return 1 }
                        return darkroom_deadline_passed(stop.load(as: UInt64.self)) != 0 ? 0 : 1
                    }
                }
                // VP8 keeps every macroblock's prediction modes in its first partition, at most
                // 512 KB. libwebp 1.2 fits it by halving its budget of i4 header bits pass after
                // pass, down to i16 modes only; when even those overflow (PARTITION0_OVERFLOW) the
                // encode is retried once as cwebp advises, with 1 segment (no segment map).
                var fallbacks = Self.partitionFallbacks[...]
                attempts += 1
                while WebPEncode(&config, &picture) == 0 {
                    if picture.error_code == VP8_ENC_ERROR_USER_ABORT {
                        throw DarkroomError.timeLimit(TimeLimitError(stage: .encoding, format: .webp))
                    }
                    guard picture.error_code == VP8_ENC_ERROR_PARTITION0_OVERFLOW, !lossless,
                          let next = fallbacks.popFirst() else {
                        throw DarkroomError.encoding(.codec(.webp, message: Self.encoderMessage(picture.error_code)))
                    }
                    config.partition_limit = Int32(next.partitionLimit)
                    config.segments = Int32(next.segments)
                    picture.error_code = VP8_ENC_OK
                    WebPMemoryWriterClear(w)
                    WebPMemoryWriterInit(w)
                    attempts += 1
                }
            }
        }
        let encoded = Array(UnsafeBufferPointer(start: writer.mem, count: writer.size))
        if (icc ?? []).isEmpty && (exif ?? []).isEmpty && (xmp ?? []).isEmpty { return encoded }
        return try addChunks(encoded, icc: icc, exif: exif, xmp: xmp)
    }

    /// The lossy settings tried after VP8's first partition (prediction modes, 512 KB at most)
    /// overflowed: cwebp's advice for its "partition 0 overflow" error, fewer segments and the
    /// largest `partition_limit`. libwebp has already tried `partition_limit` alone on its own (its
    /// i4 budget halved to 0), so the one retry is both: i16 modes only from the first pass (no
    /// halving passes) and 1 segment, which saves the segment map (random 16×16 colour blocks at
    /// quality 80: 5.30 → 4.70 bits of modes per macroblock).
    static let partitionFallbacks: [(partitionLimit: Int, segments: Int)] = [(100, 1)]

    /// libwebp's encoder error in words (`cwebp`'s table of `WebPEncodingError`).
    static func encoderMessage(_ code: WebPEncodingError) -> String {
        switch code {
        case VP8_ENC_ERROR_OUT_OF_MEMORY, VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: "out of memory"
        case VP8_ENC_ERROR_BAD_DIMENSION: "bad picture dimension (WebP sides are at most 16,383 px)"
        case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
            "the prediction modes overflow VP8's 512 KB first partition even with i16 modes only and 1 segment (too many macroblocks of this content for lossy WebP: use fewer pixels, lossless WebP, AVIF or PNG)"
        case VP8_ENC_ERROR_PARTITION_OVERFLOW: "a partition is over 16 MB (too many pixels for lossy WebP)"
        case VP8_ENC_ERROR_FILE_TOO_BIG: "the file would be over 4 GB"
        default: "encoder error \(code.rawValue)"
        }
    }

    /// Wraps a simple WebP in an extended (VP8X) container carrying ICC, EXIF and/or XMP chunks
    /// (libwebpmux sets the VP8X flags).
    private static func addChunks(_ encoded: [UInt8], icc: [UInt8]?, exif: [UInt8]?, xmp: [UInt8]?) throws(DarkroomError) -> [UInt8] {
        guard let mux = WebPMuxNew() else { throw DarkroomError.encoding(.codec(.webp, message: "out of memory")) }
        defer { WebPMuxDelete(mux) }
        func check(_ e: WebPMuxError) throws(DarkroomError) {
            guard e == WEBP_MUX_OK else { throw DarkroomError.encoding(.codec(.webp, message: "mux error \(e.rawValue)")) }
        }
        return try encoded.withUnsafeBufferPointer { (buf) throws(DarkroomError) -> [UInt8] in
            var data = WebPData(bytes: buf.baseAddress, size: buf.count)
            try check(WebPMuxSetImage(mux, &data, 1))
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

/// An animated WebP's frames through libwebp's `WebPAnimDecoder`, which composites each frame
/// (dispose and blend) onto a full RGBA canvas itself. `WebPAnimDecoderGetNext` reports each
/// frame's **end** timestamp in ms, so a frame's duration is the difference from the previous one.
/// libwebp keeps two canvases (current and previous, disposed); this reader copies out one.
final class WebPFrames {
    private let bytes: [UInt8]
    private let decoder: OpaquePointer
    let width: Int
    let height: Int
    /// Frames in the file (`ANMF` chunks), ≥ 1.
    let count: Int
    /// Total plays, 0 = forever: the ANIM chunk's loop count as it is (gif2webp and browsers read
    /// it as plays; RFC 9649 calls 0 infinite).
    let loopCount: Int
    private var lastTimestamp: Int32 = 0

    /// Opens the animation in `bytes`; throws ``DarkroomError/decoding(_:)`` when libwebp refuses it.
    init(_ bytes: [UInt8]) throws(DarkroomError) {
        self.bytes = bytes
        // libwebp keeps a pointer into the data: `bytes` is held for the decoder's lifetime, and an
        // array's storage does not move while the array is not mutated.
        let made: (OpaquePointer, WebPAnimInfo)? = bytes.withUnsafeBufferPointer { buf in
            var data = WebPData(bytes: buf.baseAddress, size: buf.count)
            var options = WebPAnimDecoderOptions()
            guard WebPAnimDecoderOptionsInit(&options) != 0 else { return nil }
            options.color_mode = MODE_RGBA
            options.use_threads = 0
            guard let decoder = WebPAnimDecoderNew(&data, &options) else { return nil }
            var info = WebPAnimInfo()
            guard WebPAnimDecoderGetInfo(decoder, &info) != 0 else { WebPAnimDecoderDelete(decoder); return nil }
            return (decoder, info)
        }
        guard let made else { throw DarkroomError.decoding(.codec(.webp, message: "invalid animation")) }
        decoder = made.0
        width = Int(made.1.canvas_width)
        height = Int(made.1.canvas_height)
        count = max(1, Int(made.1.frame_count))
        loopCount = Int(made.1.loop_count)
    }

    deinit { WebPAnimDecoderDelete(decoder) }

    /// The next frame's canvas (straight RGBA) and its duration in ms (end timestamp minus the
    /// previous one), or nil after the last frame. Throws when libwebp cannot decode a frame.
    func next() throws(DarkroomError) -> (rgba: [UInt8], durationMs: Int)? {
        guard WebPAnimDecoderHasMoreFrames(decoder) != 0 else { return nil }
        var frame: UnsafeMutablePointer<UInt8>?
        var timestamp: Int32 = 0
        guard WebPAnimDecoderGetNext(decoder, &frame, &timestamp) != 0, let frame else {
            throw DarkroomError.decoding(.codec(.webp, message: "cannot decode an animation frame"))
        }
        let duration = Int(timestamp - lastTimestamp)
        lastTimestamp = timestamp
        return (Array(UnsafeBufferPointer(start: frame, count: width * height * 4)), duration)
    }
}
