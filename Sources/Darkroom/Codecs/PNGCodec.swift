import CDarkroom

/// PNG through libpng (via the C shim that owns libpng's longjmp).
enum PNGCodec {
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int, exif: [UInt8]?) {
        var info = darkroom_png_info()
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = bytes.withUnsafeBufferPointer { darkroom_png_read_header($0.baseAddress, $0.count, &info, &err) }
        guard rc == 0 else { throw DarkroomError.decoding(.codec(.png, message: shimMessage(err))) }
        darkroom_free(info.icc)
        return (Int(info.width), Int(info.height), takeCBuffer(info.exif, count: Int(info.exif_len)))
    }

    /// Decodes straight into the image's own buffer, sized from the header. With `failOn` none,
    /// a non-interlaced image whose data ends early keeps the rows read (a truncated warning);
    /// otherwise that is ``ImageDecodingError/damaged(_:warning:failOn:)``.
    static func decode(_ bytes: [UInt8], maxPixels: Int, failOn: FailOn = .truncated) throws(DarkroomError) -> RawDecode {
        let keepTruncated = failOn == .none
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var header = darkroom_png_info()
        let hr = bytes.withUnsafeBufferPointer { darkroom_png_read_header($0.baseAddress, $0.count, &header, &err) }
        guard hr == 0 else { throw DarkroomError.decoding(.codec(.png, message: shimMessage(err))) }
        darkroom_free(header.icc)
        darkroom_free(header.exif)
        try checkPixelLimit(width: Int(header.width), height: Int(header.height), limit: maxPixels)
        let width = Int(header.width), height = Int(header.height)
        var format = PixelFormat(channels: Int(header.channels), bitDepth: Int(header.out_depth))
        var info = darkroom_png_info()
        var rc: Int32 = 0
        var raw: [UInt8] = []
        for _ in 0..<2 {  // a second pass only when the header's layout guess was wrong (-3)
            let count = width * height * format.bytesPerPixel
            raw = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                rc = bytes.withUnsafeBufferPointer {
                    darkroom_png_decode($0.baseAddress, $0.count, UInt64(maxPixels), keepTruncated ? 1 : 0, &info,
                                        buffer.baseAddress, count, &err)
                }
                initialized = rc == 0 ? count : 0
            }
            guard rc == -3 else { break }
            format = PixelFormat(channels: Int(info.channels), bitDepth: Int(info.out_depth))
        }
        if rc == -2 { throw DarkroomError.decoding(.tooManyPixels(width: width, height: height, limit: maxPixels)) }
        if rc == -4 {
            throw DarkroomError.decoding(.damaged(.png, warning: DecodeWarning(kind: .truncated, message: shimMessage(err)),
                                             failOn: failOn))
        }
        guard rc == 0 else { throw DarkroomError.decoding(.codec(.png, message: shimMessage(err))) }
        var metadata = ImageMetadata(sourceFormat: .png, storedWidth: width, storedHeight: height,
                                     storedBitDepth: Int(info.bit_depth))
        metadata.iccProfile = takeCBuffer(info.icc, count: Int(info.icc_len))
        metadata.exif = takeCBuffer(info.exif, count: Int(info.exif_len))
        metadata.frameCount = Int(info.frames)
        metadata.convertedToSRGB = info.gamma_corrected != 0
        metadata.warnings = info.warnings.decodeWarnings
        return RawDecode(image: Image(width: width, height: height, format: format, pixels: raw), metadata: metadata)
    }

    /// zlib settings for a PNG encode.
    struct Compression {
        var level: Int32
        var strategy: Int32
        var filters: Int32
        /// The default: chosen by measurement (see README, "Encoder defaults").
        /// The default, chosen by measurement (README, "Encoder defaults"): zlib level 6 with
        /// libpng's adaptive row filters, and Z_RLE instead of full LZ77 for photographic content
        /// (strategy -1 = decide from the pixels), which is ~5× faster on photos at equal size.
        static let `default` = Compression(level: 6, strategy: -1, filters: -1)
    }

    static func encode(_ image: Image, compression: Compression = .default, icc: [UInt8]?, exif: [UInt8]?) throws(DarkroomError) -> [UInt8] {
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
                                        &out, &size, &err)
                }
            }
        }
        guard rc == 0, let bytes = takeCBuffer(out, count: size) else {
            throw DarkroomError.encoding(.codec(.png, message: shimMessage(err)))
        }
        return bytes
    }
}
