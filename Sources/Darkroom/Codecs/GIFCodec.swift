import CGIFLib

/// GIF through giflib: the first frame (with transparency) on decode; one palette frame on encode.
enum GIFCodec {
    /// Memory source/sink handed to giflib's callbacks through `UserData`.
    private final class Stream {
        let input: [UInt8]
        var offset = 0
        var output: [UInt8] = []
        init(input: [UInt8] = []) { self.input = input }
    }

    private static let readCallback: InputFunc = { gif, buffer, length in
        guard let gif, let buffer, let user = gif.pointee.UserData else { return 0 }
        let stream = Unmanaged<Stream>.fromOpaque(user).takeUnretainedValue()
        let n = max(0, min(Int(length), stream.input.count - stream.offset))
        stream.input.withUnsafeBufferPointer { src in
            if n > 0 { buffer.update(from: src.baseAddress! + stream.offset, count: n) }
        }
        stream.offset += n
        return Int32(n)
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

    static func readHeader(_ bytes: [UInt8]) throws -> (width: Int, height: Int) {
        let stream = Stream(input: bytes)
        var error: Int32 = 0
        let unmanaged = Unmanaged.passRetained(stream)
        defer { unmanaged.release() }
        guard let gif = DGifOpen(unmanaged.toOpaque(), readCallback, &error) else {
            throw DarkroomError.decodeFailed(.gif, message: message(error))
        }
        defer { DGifCloseFile(gif, &error) }
        return (Int(gif.pointee.SWidth), Int(gif.pointee.SHeight))
    }

    static func decode(_ bytes: [UInt8], maxPixels: Int) throws -> RawDecode {
        let stream = Stream(input: bytes)
        var error: Int32 = 0
        let unmanaged = Unmanaged.passRetained(stream)
        defer { unmanaged.release() }
        guard let gif = DGifOpen(unmanaged.toOpaque(), readCallback, &error) else {
            throw DarkroomError.decodeFailed(.gif, message: message(error))
        }
        defer { DGifCloseFile(gif, &error) }
        let width = Int(gif.pointee.SWidth), height = Int(gif.pointee.SHeight)
        try checkPixelLimit(width: width, height: height, limit: maxPixels)

        var canvas: [UInt8]?        // RGBA of the first frame on the logical screen
        var transparentIndex = -1
        var firstFrameTransparent = -1
        var frames = 0
        var coversCanvas = false
        loop: while true {
            var record = UNDEFINED_RECORD_TYPE
            guard DGifGetRecordType(gif, &record) == GIF_OK else {
                if canvas != nil { break loop }   // trailing garbage after a good first frame
                throw DarkroomError.decodeFailed(.gif, message: message(gif.pointee.Error))
            }
            switch record {
            case IMAGE_DESC_RECORD_TYPE:
                guard DGifGetImageDesc(gif) == GIF_OK else {
                    if canvas != nil { break loop }
                    throw DarkroomError.decodeFailed(.gif, message: message(gif.pointee.Error))
                }
                frames += 1
                let desc = gif.pointee.Image
                if canvas == nil {
                    firstFrameTransparent = transparentIndex
                    canvas = try decodeFrame(gif, desc: desc, width: width, height: height,
                                             transparent: transparentIndex, maxPixels: maxPixels)
                    coversCanvas = desc.Left == 0 && desc.Top == 0 && Int(desc.Width) >= width && Int(desc.Height) >= height
                } else {
                    // Later frames are counted, not decoded: skip their compressed data.
                    var codeSize: Int32 = 0
                    var block: UnsafeMutablePointer<GifByteType>?
                    guard DGifGetCode(gif, &codeSize, &block) == GIF_OK else { break loop }
                    while block != nil {
                        guard DGifGetCodeNext(gif, &block) == GIF_OK else { break loop }
                    }
                }
                transparentIndex = -1
            case EXTENSION_RECORD_TYPE:
                var code: Int32 = 0
                var ext: UnsafeMutablePointer<GifByteType>?
                guard DGifGetExtension(gif, &code, &ext) == GIF_OK else {
                    if canvas != nil { break loop }
                    throw DarkroomError.decodeFailed(.gif, message: message(gif.pointee.Error))
                }
                if code == GRAPHICS_EXT_FUNC_CODE, let e = ext, e[0] >= 4, (e[1] & 1) != 0 {
                    transparentIndex = Int(e[4])
                }
                while ext != nil {
                    guard DGifGetExtensionNext(gif, &ext) == GIF_OK else {
                        if canvas != nil { break loop }
                        throw DarkroomError.decodeFailed(.gif, message: message(gif.pointee.Error))
                    }
                }
            case TERMINATE_RECORD_TYPE:
                break loop
            default:
                break loop
            }
        }
        guard let rgba = canvas else { throw DarkroomError.decodeFailed(.gif, message: "no image in the file") }
        var metadata = ImageMetadata(sourceFormat: .gif, storedWidth: width, storedHeight: height, storedBitDepth: 8)
        metadata.frameCount = max(1, frames)
        let image = Image(width: width, height: height, format: .rgba8, pixels: rgba)
        if firstFrameTransparent < 0 && coversCanvas {
            return RawDecode(image: image.droppingAlpha(), metadata: metadata)
        }
        return RawDecode(image: image, metadata: metadata)
    }

    private static func decodeFrame(_ gif: UnsafeMutablePointer<GifFileType>, desc: GifImageDesc, width: Int, height: Int,
                                    transparent: Int, maxPixels: Int) throws -> [UInt8] {
        let fw = Int(desc.Width), fh = Int(desc.Height), left = Int(desc.Left), top = Int(desc.Top)
        guard fw > 0, fh > 0 else { throw DarkroomError.decodeFailed(.gif, message: "frame has a zero side") }
        // Frame extents beyond the canvas are clipped; only one frame row is ever allocated.
        let map = desc.ColorMap ?? gif.pointee.SColorMap
        var palette = [UInt8](repeating: 0, count: 256 * 3)
        if let map, let colors = map.pointee.Colors {
            for i in 0..<min(256, Int(map.pointee.ColorCount)) {
                palette[i * 3] = colors[i].Red; palette[i * 3 + 1] = colors[i].Green; palette[i * 3 + 2] = colors[i].Blue
            }
        } else {
            for i in 0..<256 { palette[i * 3] = UInt8(i); palette[i * 3 + 1] = UInt8(i); palette[i * 3 + 2] = UInt8(i) }
        }
        var canvas = [UInt8](repeating: 0, count: width * height * 4)
        var line = [GifPixelType](repeating: 0, count: fw)
        // Interlaced rows arrive in four passes.
        var order: [Int] = []
        if desc.Interlace {
            for (start, step) in [(0, 8), (4, 8), (2, 4), (1, 2)] { order.append(contentsOf: stride(from: start, to: fh, by: step)) }
        }
        for i in 0..<fh {
            let ok = line.withUnsafeMutableBufferPointer { DGifGetLine(gif, $0.baseAddress, Int32(fw)) }
            guard ok == GIF_OK else {
                if i > 0 { break }  // truncated: keep the rows we have
                throw DarkroomError.decodeFailed(.gif, message: message(gif.pointee.Error))
            }
            let y = top + (desc.Interlace ? order[i] : i)
            guard y < height else { continue }
            for x in 0..<fw {
                let cx = left + x
                guard cx < width else { break }
                let index = Int(line[x])
                if index == transparent { continue }
                let o = (y * width + cx) * 4
                canvas[o] = palette[index * 3]; canvas[o + 1] = palette[index * 3 + 1]
                canvas[o + 2] = palette[index * 3 + 2]; canvas[o + 3] = 255
            }
        }
        return canvas
    }

    static func encode(_ image: Image, dither: Bool) throws -> [UInt8] {
        precondition(image.format == .rgba8)
        let q = PaletteQuantizer.quantize(image, dither: dither)
        var bits: Int32 = 1
        while (1 << bits) < q.palette.count { bits += 1 }
        let stream = Stream()
        let unmanaged = Unmanaged.passRetained(stream)
        defer { unmanaged.release() }
        var error: Int32 = 0
        guard let gif = EGifOpen(unmanaged.toOpaque(), writeCallback, &error) else {
            throw DarkroomError.encodeFailed(.gif, message: message(error))
        }
        var closed = false
        defer { if !closed { EGifCloseFile(gif, &error) } }
        var colors = [GifColorType](repeating: GifColorType(), count: 1 << Int(bits))
        for (i, c) in q.palette.enumerated() { colors[i] = GifColorType(Red: c.0, Green: c.1, Blue: c.2) }
        guard let map = GifMakeMapObject(1 << bits, colors) else { throw DarkroomError.encodeFailed(.gif, message: "out of memory") }
        defer { GifFreeMapObject(map) }
        EGifSetGifVersion(gif, true)
        func check(_ rc: Int32) throws {
            guard rc == GIF_OK else { throw DarkroomError.encodeFailed(.gif, message: message(gif.pointee.Error)) }
        }
        try check(EGifPutScreenDesc(gif, Int32(image.width), Int32(image.height), bits, 0, map))
        if let t = q.transparentIndex {
            var gce: [GifByteType] = [0x01, 0, 0, GifByteType(t)]
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, &gce))
        }
        try check(EGifPutImageDesc(gif, 0, 0, Int32(image.width), Int32(image.height), false, nil))
        var indices = q.indices
        try indices.withUnsafeMutableBufferPointer { buf in
            for y in 0..<image.height {
                try check(EGifPutLine(gif, buf.baseAddress! + y * image.width, Int32(image.width)))
            }
        }
        closed = true
        guard EGifCloseFile(gif, &error) == GIF_OK else { throw DarkroomError.encodeFailed(.gif, message: message(error)) }
        return stream.output
    }
}
