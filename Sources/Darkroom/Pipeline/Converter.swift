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
    /// What the decoder warned about and ``ConvertOptions/failOn`` allowed (empty for a clean file).
    public var warnings: [DecodeWarning] { source.warnings }
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
    ///
    /// The output size is planned from the header and checked before any pixel buffer is
    /// allocated: against ``ConvertOptions/maxPixels`` (the same limit and the same
    /// ``DarkroomError/tooManyPixels(width:height:limit:)`` as the input) and against the output
    /// format's ``FormatLimits``.
    ///
    /// Throws ``DarkroomError``: `.invalidOption` for options out of range, every decoder error
    /// (`.unknownFormat`, `.tooManyPixels`, `.decodeFailed`, `.damagedInput`, …), `.formatLimit`,
    /// `.openAIParity` in strict mode and `.encodeFailed`.
    public func convert(_ bytes: [UInt8]) throws -> ConversionResult {
        try options.validate()
        let sniffed = ImageFormat.sniff(bytes)
        let outputFormat = options.format ?? sniffed ?? .png
        let encodeOptions = options.encodeOptions(for: outputFormat)
        try encodeOptions.validateStrictOpenAI()

        var decodeOptions = DecodeOptions(maxPixels: options.maxPixels, failOn: options.failOn)
        if let header = try? ImageDecoder.readHeader(bytes) {
            // The plan: the output size, checked before anything is decoded or allocated.
            let target = options.resize?.targetSize(width: header.uprightWidth, height: header.uprightHeight)
                ?? (width: header.uprightWidth, height: header.uprightHeight)
            try checkOutput(width: target.width, height: target.height, format: outputFormat)
            // Shrink-on-load: ask the decoder for at least twice the target size.
            if options.shrinkOnLoad, options.resize != nil {
                decodeOptions.minimumSize = (min(target.width * 2, Limits.maxSide), min(target.height * 2, Limits.maxSide))
            }
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
            try checkOutput(width: target.width, height: target.height, format: outputFormat)
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

    /// The output must have sides up to ``Limits/maxSide`` and fit the pixel limit and the output format.
    private func checkOutput(width: Int, height: Int, format: ImageFormat) throws {
        if width > Limits.maxSide || height > Limits.maxSide, let geometry = options.resize {
            throw DarkroomError.invalidOption(name: "resize", value: geometry.text,
                                              expected: "an output with sides up to \(Limits.maxSide) px (it gives \(width)x\(height))")
        }
        try checkPixelLimit(width: width, height: height, limit: options.maxPixels)
        try FormatLimits.check(format, width: width, height: height)
    }
}
