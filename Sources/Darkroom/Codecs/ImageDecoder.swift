/// The size and format of a file, read from its header without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    public var format: ImageFormat
    /// Stored size, before orientation.
    public var width: Int
    public var height: Int
    public var orientation: Orientation
    /// Size once the orientation is applied.
    public var uprightWidth: Int { orientation.swapsSides ? height : width }
    public var uprightHeight: Int { orientation.swapsSides ? width : height }
}

/// Decodes any supported format into an upright, sRGB ``Image``.
///
/// The format is sniffed from the bytes. The declared size is checked against
/// ``DecodeOptions/maxPixels`` before any pixel buffer is allocated.
public enum ImageDecoder {
    /// Reads only the header: format, stored size and orientation.
    /// Throws ``DarkroomError/decoding(_:)``: unknown format, or a header the codec refuses.
    public static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> ImageHeader {
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        switch format {
        case .jpeg:
            return try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) in try JPEGRowDecoder(buffer: buffer).header }
        case .png:
            let h = try PNGCodec.readHeader(bytes)
            return ImageHeader(format: format, width: h.width, height: h.height,
                               orientation: EXIF.orientation(of: h.exif))
        case .webp:
            let h = try WebPCodec.readHeader(bytes)
            return ImageHeader(format: format, width: h.features.width, height: h.features.height,
                               orientation: EXIF.orientation(of: h.container.exif))
        case .avif:
            let h = try AVIFCodec.readHeader(bytes)
            return ImageHeader(format: format, width: h.width, height: h.height, orientation: h.orientation)
        case .gif:
            let h = try GIFCodec.readHeader(bytes)
            return ImageHeader(format: format, width: h.width, height: h.height, orientation: .up)
        }
    }

    /// Decodes `bytes` into an upright sRGB image (first frame of an animation).
    ///
    /// Throws ``DarkroomError/option(_:)`` for options out of range, and ``DarkroomError/decoding(_:)``:
    /// ``ImageDecodingError/unknownFormat``, ``ImageDecodingError/tooManyPixels(width:height:limit:)``
    /// (checked before any pixel buffer is allocated), ``ImageDecodingError/invalidDimensions(width:height:)``,
    /// ``ImageDecodingError/codec(_:message:)``, and ``ImageDecodingError/damaged(_:warning:failOn:)`` when the file is truncated or corrupt and
    /// ``DecodeOptions/failOn`` does not allow it. Allowed warnings are in ``ImageMetadata/warnings``.
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(DarkroomError) -> DecodedImage {
        try options.validate()
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        var decoded = try decode(bytes, format: format, options: options) { _ throws(DarkroomError) in options.minimumSize }
        if options.convertToSRGB { decoded.convertToSRGB() }
        if options.applyOrientation { decoded.image = decoded.image.applying(decoded.metadata.orientation) }
        return decoded
    }

    /// The shrink-on-load planner: told the header (parsed once), it checks what it must (pixel
    /// limit, the planned output) and returns the smallest decode size it can use, in upright
    /// pixels, or nil for the full size.
    typealias Planner = (ImageHeader) throws(DarkroomError) -> (width: Int, height: Int)?

    /// Handed a started row decoder (JPEG, or a non-interlaced PNG whose orientation is known
    /// from its header) and its row layout, returns the image it made from the rows (the
    /// converter's streamed resize), or nil to have the whole image read instead. Called before
    /// any row is read.
    typealias RowConsumer = (RowDecoder, PixelFormat) throws(DarkroomError) -> Image?

    /// Decodes `bytes` (already sniffed as `format`) in stored orientation, without colour
    /// conversion: one header parse, then `plan`, then pixels at the size the plan allows
    /// (JPEG DCT scaling, WebP scaled decoding). The pixel limit is checked before `plan` runs.
    /// `rows` may take the rows of a JPEG or PNG instead of a whole-image buffer.
    static func decode(_ bytes: [UInt8], format: ImageFormat, options: DecodeOptions, plan: Planner,
                       rows consume: RowConsumer = { _, _ throws(DarkroomError) in nil }) throws(DarkroomError) -> DecodedImage {
        var raw: RawDecode
        switch format {
        case .jpeg:
            raw = try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> RawDecode in
                let decoder = try JPEGRowDecoder(buffer: buffer)
                try checkPixelLimit(width: decoder.storedWidth, height: decoder.storedHeight, limit: options.maxPixels)
                let header = decoder.header
                let denominator = jpegScaleDenominator(width: header.width, height: header.height,
                                                       orientation: header.orientation, minimum: try plan(header))
                try decoder.start(scaleDenominator: denominator, maxPixels: options.maxPixels)
                if decoder.isCMYK {
                    // CMYK/YCCK: libjpeg's CMYK rows, whole, made sRGB through the embedded profile
                    // (or the naive formula) from the same parse.
                    let cmyk = try decoder.readImage(format: .rgba8)
                    var metadata = decoder.metadata
                    let image = ColorManagement.cmykToSRGB(cmyk.pixels, width: cmyk.width, height: cmyk.height,
                                                           inverted: decoder.adobeInverted, profile: metadata.iccProfile)
                    metadata.convertedToSRGB = true
                    metadata.iccApplied = true
                    return RawDecode(image: image, metadata: metadata)
                }
                let image: Image
                if let streamed = try consume(decoder, decoder.pixelFormat) {
                    image = streamed
                } else {
                    image = try decoder.readImage(format: decoder.pixelFormat)
                }
                return RawDecode(image: image, metadata: decoder.metadata)
            }
        case .png:
            raw = try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> RawDecode in
                let decoder = try PNGRowDecoder(buffer: buffer, maxPixels: options.maxPixels, failOn: options.failOn)
                _ = try plan(decoder.header)
                let streamable = !decoder.isInterlaced && !decoder.exifAfterImage
                let image: Image
                if streamable, let streamed = try consume(decoder, decoder.format) {
                    image = streamed
                } else {
                    image = try decoder.readImage(format: decoder.format)
                }
                var metadata = decoder.finish()
                metadata.orientation = EXIF.orientation(of: metadata.exif)
                return RawDecode(image: image, metadata: metadata)
            }
        case .webp:
            let h = try WebPCodec.readHeader(bytes)
            try checkPixelLimit(width: h.features.width, height: h.features.height, limit: options.maxPixels)
            let orientation = EXIF.orientation(of: h.container.exif)
            let minimum = try plan(ImageHeader(format: .webp, width: h.features.width, height: h.features.height,
                                               orientation: orientation))
            let scaled = webpScaledSize(width: h.features.width, height: h.features.height, orientation: orientation, minimum: minimum)
            raw = try WebPCodec.decode(bytes, header: h, scaledTo: scaled)
            raw.metadata.orientation = orientation
        case .avif:
            raw = try AVIFCodec.decode(bytes, maxPixels: options.maxPixels) { (header) throws(DarkroomError) in _ = try plan(header) }
        case .gif:
            raw = try GIFCodec.decode(bytes, maxPixels: options.maxPixels) { (header) throws(DarkroomError) in _ = try plan(header) }
        }
        if let rejected = raw.metadata.warnings.first(where: options.failOn.rejects) {
            throw DarkroomError.decoding(.damaged(format, warning: rejected, failOn: options.failOn))
        }
        var decoded = DecodedImage(image: raw.image, metadata: raw.metadata)
        if let profile = decoded.metadata.iccProfile { decoded.metadata.iccDescription = ColorManagement.describe(profile) }
        return decoded
    }

    /// The largest libjpeg DCT scale (1/2, 1/4, 1/8) that keeps both sides at least `minimum`.
    static func jpegScaleDenominator(width: Int, height: Int, orientation: Orientation,
                                     minimum: (width: Int, height: Int)?) -> Int {
        guard let minimum else { return 1 }
        let (minW, minH) = orientation.swapsSides ? (minimum.height, minimum.width) : (minimum.width, minimum.height)
        for d in [8, 4, 2] where (width + d - 1) / d >= minW && (height + d - 1) / d >= minH {
            return d
        }
        return 1
    }

    /// A smaller decode size for libwebp's scaled decoding, when the target is under half the size.
    static func webpScaledSize(width: Int, height: Int, orientation: Orientation,
                               minimum: (width: Int, height: Int)?) -> (width: Int, height: Int)? {
        guard let minimum else { return nil }
        let (minW, minH) = orientation.swapsSides ? (minimum.height, minimum.width) : (minimum.width, minimum.height)
        let scale = max(Double(minW) / Double(width), Double(minH) / Double(height))
        guard scale <= 0.5 else { return nil }
        return (max(1, Int((Double(width) * scale).rounded(.up))), max(1, Int((Double(height) * scale).rounded(.up))))
    }
}

extension DecodedImage {
    /// Converts the pixels from the embedded ICC profile to sRGB (once; a no-op without a
    /// usable profile or when already done). Cheaper after a downscale, which is what
    /// ``Converter`` does.
    public mutating func convertToSRGB() {
        guard !metadata.iccApplied, let profile = metadata.iccProfile else { return }
        metadata.iccApplied = true
        if let converted = ColorManagement.convertToSRGB(image, profile: profile) {
            image = converted
            metadata.convertedToSRGB = true
        }
    }
}
