import CDarkroom

/// JPEG through libjpeg-turbo (via the C shim that owns libjpeg's longjmp).
enum JPEGCodec {
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int, exif: [UInt8]?) {
        var info = darkroom_jpeg_info()
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        let rc = bytes.withUnsafeBufferPointer { darkroom_jpeg_read_header($0.baseAddress, $0.count, 1, &info, &err) }
        guard rc == 0 else { throw DarkroomError.decoding(.codec(.jpeg, message: shimMessage(err))) }
        darkroom_free(info.icc)
        let exif = takeCBuffer(info.exif, count: Int(info.exif_len))
        return (Int(info.stored_width), Int(info.stored_height), exif)
    }

    /// Decodes, optionally with DCT scaling (`scaleDenominator` 1, 2, 4 or 8), straight into the
    /// image's own buffer.
    static func decode(_ bytes: [UInt8], maxPixels: Int, scaleDenominator: Int) throws(DarkroomError) -> RawDecode {
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var header = darkroom_jpeg_info()
        let hr = bytes.withUnsafeBufferPointer { darkroom_jpeg_read_header($0.baseAddress, $0.count, Int32(scaleDenominator), &header, &err) }
        guard hr == 0 else { throw DarkroomError.decoding(.codec(.jpeg, message: shimMessage(err))) }
        darkroom_free(header.icc)
        darkroom_free(header.exif)
        try checkPixelLimit(width: Int(header.stored_width), height: Int(header.stored_height), limit: maxPixels)
        let count = Int(header.width) * Int(header.height) * Int(header.components)
        var info = darkroom_jpeg_info()
        var rc: Int32 = 0
        let raw = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            rc = bytes.withUnsafeBufferPointer {
                darkroom_jpeg_decode($0.baseAddress, $0.count, Int32(scaleDenominator), UInt64(maxPixels), &info,
                                     buffer.baseAddress, count, &err)
            }
            if rc == 0 { initialized = count } else { initialized = 0 }
        }
        if rc == -2 {
            throw DarkroomError.decoding(.tooManyPixels(width: Int(info.stored_width), height: Int(info.stored_height), limit: maxPixels))
        }
        guard rc == 0 else { throw DarkroomError.decoding(.codec(.jpeg, message: shimMessage(err))) }
        let width = Int(info.width), height = Int(info.height), components = Int(info.components)
        var metadata = ImageMetadata(sourceFormat: .jpeg, storedWidth: Int(info.stored_width),
                                     storedHeight: Int(info.stored_height), storedBitDepth: Int(info.precision))
        metadata.iccProfile = takeCBuffer(info.icc, count: Int(info.icc_len))
        metadata.exif = takeCBuffer(info.exif, count: Int(info.exif_len))
        metadata.warnings = info.warnings.decodeWarnings
        let image: Image
        if info.is_cmyk != 0 {
            image = ColorManagement.cmykToSRGB(raw, width: width, height: height,
                                               inverted: info.adobe_inverted != 0, profile: metadata.iccProfile)
            metadata.convertedToSRGB = true
            metadata.iccApplied = true
        } else {
            image = Image(width: width, height: height, format: components == 1 ? .gray8 : .rgb8, pixels: raw)
        }
        return RawDecode(image: image, metadata: metadata)
    }

    static func encode(_ image: Image, quality: Int, progressive: Bool, chroma: ChromaSubsampling,
                       icc: [UInt8]?, exif: [UInt8]?) throws(DarkroomError) -> [UInt8] {
        precondition(image.format == .gray8 || image.format == .rgb8)
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var out: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let icc = icc ?? [], exif = exif ?? []
        let rc = image.pixels.withUnsafeBufferPointer { px in
            icc.withUnsafeBufferPointer { iccPtr in
                exif.withUnsafeBufferPointer { exifPtr in
                    darkroom_jpeg_encode(px.baseAddress, Int32(image.width), Int32(image.height),
                                         Int32(image.format.channels), Int32(quality), progressive ? 1 : 0,
                                         chroma == .yuv444 ? 1 : 0,
                                         iccPtr.baseAddress, UInt32(icc.count), exifPtr.baseAddress, UInt32(exif.count),
                                         &out, &size, &err)
                }
            }
        }
        guard rc == 0, let bytes = takeCBuffer(out, count: Int(size)) else {
            throw DarkroomError.encoding(.codec(.jpeg, message: shimMessage(err)))
        }
        return bytes
    }
}
