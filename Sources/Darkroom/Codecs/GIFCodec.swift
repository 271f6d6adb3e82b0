import CGIFLib

/// GIF: decoding through ``GIFDecoder`` (the first frame, with transparency); encoding one palette
/// frame through giflib.
enum GIFCodec {
    /// Memory sink handed to giflib's write callback through `UserData`.
    private final class Stream {
        var output: [UInt8] = []
    }

    private static let writeCallback: OutputFunc = { gif, buffer, length in
        guard let gif, let buffer, let user = gif.pointee.UserData else { return 0 }
        let stream = Unmanaged<Stream>.fromOpaque(user).takeUnretainedValue()
        stream.output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: Int(length)))
        return length
    }

    private static func message(_ code: Int32) -> String {
        if let s = GifErrorString(code) { return String(cString: s) }
        return "giflib error \(code)"
    }

    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int) {
        try GIFDecoder.readHeader(bytes)
    }

    /// Decodes the first frame with ``GIFDecoder`` (pure Swift; giflib only encodes), from a file
    /// whose header ``ImageSource`` has read and checked.
    static func decode(_ bytes: [UInt8], maxPixels: Int, deadline: Deadline? = nil) throws(DarkroomError) -> RawDecode {
        let gif = try GIFDecoder.decode(bytes, maxPixels: maxPixels, deadline: deadline)
        var metadata = ImageMetadata(sourceFormat: .gif, storedWidth: gif.width, storedHeight: gif.height, storedBitDepth: 8)
        metadata.frameCount = gif.frameCount
        metadata.loopCount = gif.loopCount
        metadata.durationMs = gif.durationMs
        if gif.truncated {
            metadata.warnings = [DecodeWarning(kind: .truncated,
                                               message: "the first frame's image data ends before its last row")]
        }
        if let cut = gif.cut, !gif.firstFrameCut { metadata.warnings.append(cut) }
        let image = Image(unchecked: gif.width, height: gif.height, format: .rgba8, pixels: gif.rgba)
        return RawDecode(image: gif.isOpaque ? image.droppingAlpha() : image, metadata: metadata)
    }

    /// Encodes `image` (RGBA8) as one palette frame. `deadline`: checked by the quantiser and
    /// dither every few rows and between the rows handed to giflib (``DarkroomError/timeLimit(_:)``).
    static func encode(_ image: Image, dither: Bool, deadline: Deadline? = nil) throws(DarkroomError) -> [UInt8] {
        precondition(image.format == .rgba8)
        let q = try PaletteQuantizer.quantize(image, dither: dither, deadline: deadline)
        var bits: Int32 = 1
        while (1 << bits) < q.palette.count { bits += 1 }
        let stream = Stream()
        let unmanaged = Unmanaged.passRetained(stream)
        defer { unmanaged.release() }
        var error: Int32 = 0
        guard let gif = EGifOpen(unmanaged.toOpaque(), writeCallback, &error) else {
            throw DarkroomError.encoding(.codec(.gif, message: message(error)))
        }
        var closed = false
        defer { if !closed { EGifCloseFile(gif, &error) } }
        var colors = [GifColorType](repeating: GifColorType(), count: 1 << Int(bits))
        for (i, c) in q.palette.enumerated() { colors[i] = GifColorType(Red: c.0, Green: c.1, Blue: c.2) }
        guard let map = GifMakeMapObject(1 << bits, colors) else { throw DarkroomError.encoding(.codec(.gif, message: "out of memory")) }
        defer { GifFreeMapObject(map) }
        EGifSetGifVersion(gif, true)
        func check(_ rc: Int32) throws(DarkroomError) {
            guard rc == GIF_OK else { throw DarkroomError.encoding(.codec(.gif, message: message(gif.pointee.Error))) }
        }
        try check(EGifPutScreenDesc(gif, Int32(image.width), Int32(image.height), bits, 0, map))
        if let t = q.transparentIndex {
            var gce: [GifByteType] = [0x01, 0, 0, GifByteType(t)]
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, &gce))
        }
        try check(EGifPutImageDesc(gif, 0, 0, Int32(image.width), Int32(image.height), false, nil))
        var indices = q.indices
        try indices.withUnsafeMutableBufferPointer { (buf) throws(DarkroomError) in
            for y in 0..<image.height {
                if y % 64 == 0 { try deadline.check(.encoding, .gif) }
                try check(EGifPutLine(gif, buf.baseAddress! + y * image.width, Int32(image.width)))
            }
        }
        closed = true
        guard EGifCloseFile(gif, &error) == GIF_OK else { throw DarkroomError.encoding(.codec(.gif, message: message(error))) }
        return stream.output
    }
}
