/// The size and format of a file, read from its header without decoding pixels.
public struct ImageHeader: Sendable, Equatable {
    public var format: ImageFormat
    /// Stored size, before orientation: for an AVIF, its clean aperture's (`clap`), which the
    /// decode crops to (the whole coded size without a valid one).
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
    /// One header parse, the pixel limit checked on the declared size, then the pixels at the
    /// smallest size ``DecodeOptions/minimumSize`` allows (shrink-on-load), then sRGB and orientation.
    ///
    /// Throws ``DarkroomError/option(_:)`` for options out of range, and ``DarkroomError/decoding(_:)``:
    /// ``ImageDecodingError/unknownFormat``, ``ImageDecodingError/tooManyPixels(width:height:limit:)``
    /// (checked before any pixel buffer is allocated), ``ImageDecodingError/invalidDimensions(width:height:)``,
    /// ``ImageDecodingError/codec(_:message:)``, ``ImageDecodingError/damaged(_:warning:failOn:)`` when the file is truncated or corrupt and
    /// ``DecodeOptions/failOn`` does not allow it, and ``ImageDecodingError/unsupportedColour(_:cicp:reason:)``
    /// for code points that cannot be converted to sRGB (with ``DecodeOptions/convertToSRGB``).
    /// Allowed warnings are in ``ImageMetadata/warnings``.
    public static func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws(DarkroomError) -> DecodedImage {
        try options.validate()
        guard let format = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        var decoded = try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> DecodedImage in
            let source = try ImageSource(bytes, buffer: buffer, format: format, options: options)
            var scale = DecodeScale.full
            if let minimum = options.minimumSize {
                // The minimum is upright; the decoder's sides are stored.
                let stored = PixelSize(width: minimum.width, height: minimum.height).applying(source.header.orientation)
                scale = DecodeScale.largest(for: format, stored: source.storedSize, minimum: stored)
            }
            return try source.decodeImage(scale: scale)
        }
        if options.convertToSRGB { decoded.convertToSRGB() }
        if options.applyOrientation { decoded.image = decoded.image.applying(decoded.metadata.orientation) }
        return decoded
    }
}

extension DecodedImage {
    /// Converts the pixels to sRGB (once; a no-op when already done or when there is nothing to
    /// convert from): from the code points of ``ImageMetadata/cicp`` when the file's colour is
    /// decided by them (PQ and HLG tone-mapped: docs/formats.md), else from the embedded ICC
    /// profile. Cheaper after a downscale, which is what ``Converter`` does. Code points Darkroom
    /// does not convert are refused before decoding (``ImageDecodingError/unsupportedColour(_:cicp:reason:)``);
    /// here they leave the pixels as they are.
    public mutating func convertToSRGB() {
        guard !metadata.iccApplied else { return }
        if let cicp = metadata.cicp {
            metadata.iccApplied = true
            if let converted = CICPColour.convertToSRGB(image, cicp: cicp) {
                image = converted
                metadata.convertedToSRGB = true
            }
            return
        }
        guard let profile = metadata.iccProfile else { return }
        metadata.iccApplied = true
        if let converted = ColorManagement.convertToSRGB(image, profile: profile) {
            image = converted
            metadata.convertedToSRGB = true
        }
    }
}
