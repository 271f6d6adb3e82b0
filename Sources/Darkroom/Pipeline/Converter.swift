/// The result of one conversion.
public struct ConversionResult: Sendable {
    /// The encoded output file.
    public var bytes: [UInt8]
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// What the decoder found in the input (format, stored size, orientation, profile, frames).
    public var source: ImageMetadata
    /// True when the resize geometry changed the size.
    public var resized: Bool
}

/// The conversion stage: bytes + options in, bytes + metadata out.
///
/// `Converter` is a `Sendable` value with no shared mutable state: call it from as many tasks
/// at once as you like.
///
/// ```swift
/// let converter = Converter(options: ConvertOptions(format: .webp, quality: 80,
///                                                    resize: try ResizeGeometry(parsing: "4mp")))
/// let result = try converter.convert(pngBytes)
/// ```
public struct Converter: Sendable {
    public var options: ConvertOptions

    public init(options: ConvertOptions) {
        self.options = options
    }

    /// Decodes `bytes`, turns the image upright, converts it to sRGB, resizes it and encodes it.
    public func convert(_ bytes: [UInt8]) throws -> ConversionResult {
        let sniffed = ImageFormat.sniff(bytes)
        let outputFormat = options.format ?? sniffed ?? .png
        let encodeOptions = options.encodeOptions(for: outputFormat)
        try encodeOptions.validateStrictOpenAI()

        // Shrink-on-load: ask the decoder for at least twice the target size.
        var decodeOptions = DecodeOptions(maxPixels: options.maxPixels)
        if options.shrinkOnLoad, let geometry = options.resize, let header = try? ImageDecoder.readHeader(bytes) {
            let target = geometry.targetSize(width: header.uprightWidth, height: header.uprightHeight)
            decodeOptions.minimumSize = (target.width * 2, target.height * 2)
        }
        // Colour conversion and orientation run after the resize, on the (usually) smaller image.
        decodeOptions.applyOrientation = false
        decodeOptions.convertToSRGB = false
        var decoded = try ImageDecoder.decode(bytes, options: decodeOptions)
        let orientation = decoded.metadata.orientation
        var resized = false
        if let geometry = options.resize {
            // Geometry is relative to the real (upright) input, not the shrunk-on-load buffer.
            let stored = (decoded.metadata.storedWidth, decoded.metadata.storedHeight)
            let upright = orientation.swapsSides ? (stored.1, stored.0) : stored
            let target = geometry.targetSize(width: upright.0, height: upright.1)
            // Resize in stored orientation: the target's sides swap with the orientation.
            let storedTarget = orientation.swapsSides ? (target.height, target.width) : (target.width, target.height)
            if storedTarget.0 != decoded.image.width || storedTarget.1 != decoded.image.height {
                decoded.image = decoded.image.resized(width: storedTarget.0, height: storedTarget.1, options: options.resizeOptions)
            }
            resized = target.width != upright.0 || target.height != upright.1
        }
        decoded.convertToSRGB()
        var image = decoded.image.applying(orientation)
        if options.flattenAlpha { image = image.flattened(onto: options.background) }
        let out = try ImageEncoder.encode(image, metadata: decoded.metadata, options: encodeOptions)
        return ConversionResult(bytes: out, format: outputFormat, width: image.width, height: image.height,
                                source: decoded.metadata, resized: resized)
    }
}
