#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The result of one conversion.
public struct ConversionResult: Sendable {
    /// The encoded output file.
    public var bytes: [UInt8]
    /// The output format (``ConvertOptions/format``, or the input's).
    public var format: ImageFormat
    /// The output size in pixels (upright).
    public var width: Int
    public var height: Int
    /// What the decoder found in the input: format, stored size, orientation, ICC profile,
    /// EXIF, frame count, warnings.
    public var source: ImageMetadata
    /// True when the resize geometry changed the size.
    public var resized: Bool
    /// What the decoder warned about and ``DecodeOptions/failOn`` allowed (empty for a clean file).
    public var warnings: [DecodeWarning] { source.warnings }

    /// Writes ``bytes`` to `path` atomically (``OutputFile/write(_:to:overwrite:)``): never a
    /// partial file. Throws ``DarkroomError/file(_:)``.
    public func write(to path: String, overwrite: Bool = false) throws(DarkroomError) {
        try OutputFile.write(bytes, to: path, overwrite: overwrite)
    }
}

/// The conversion stage: bytes + options in, bytes + metadata out.
///
/// `Converter` is a `Sendable` value with no shared mutable state: call it from as many tasks
/// or threads at once as you like (each call allocates its own buffers; the resampler's
/// coefficient tables are computed per call).
///
/// ```swift
/// let converter = Converter(options: ConvertOptions(format: .webp, quality: 80,
///                                                    resize: try ResizeGeometry(parsing: "4mp")))
/// let result = try converter.convert(pngBytes)          // [UInt8], Data, a path or a descriptor
/// try result.write(to: "out.webp")
/// ```
public struct Converter: Sendable {
    public var options: ConvertOptions

    public init(options: ConvertOptions = ConvertOptions()) {
        self.options = options
    }

    /// Decodes `bytes`, turns the image upright, converts it to sRGB, resizes it and encodes it.
    ///
    /// The output size is planned from the header and checked before any pixel buffer is
    /// allocated: against ``DecodeOptions/maxPixels`` (``ImageEncodingError/tooManyPixels(width:height:limit:)``)
    /// and against the output format's ``FormatLimits`` (``ImageEncodingError/formatLimit(_:width:height:maxSide:maxPixels:)``).
    ///
    /// Throws ``DarkroomError``: ``DarkroomError/option(_:)`` for options out of range (and a resize
    /// whose output would have a side over ``Limits/maxSide``), ``DarkroomError/decoding(_:)``
    /// for input that is not a usable image (unknown format, over the pixel limit, damaged under
    /// ``DecodeOptions/failOn``, refused by the codec), ``DarkroomError/encoding(_:)`` for an
    /// output over the limits or refused by the encoder.
    public func convert(_ bytes: [UInt8]) throws(DarkroomError) -> ConversionResult {
        try options.validate()
        let sniffed = ImageFormat.sniff(bytes)
        let outputFormat = options.format ?? sniffed ?? .png

        var decodeOptions = options.decode
        decodeOptions.minimumSize = nil
        if let header = try? ImageDecoder.readHeader(bytes) {
            // The plan: the output size, checked before anything is decoded or allocated.
            let upright = options.decode.applyOrientation
                ? (width: header.uprightWidth, height: header.uprightHeight) : (width: header.width, height: header.height)
            let target = options.resize?.targetSize(width: upright.width, height: upright.height) ?? upright
            try checkOutput(width: target.width, height: target.height, format: outputFormat)
            // Shrink-on-load: ask the decoder for at least twice the target size.
            if options.shrinkOnLoad, options.resize != nil {
                let minimum = (width: min(target.width * 2, Limits.maxSide), height: min(target.height * 2, Limits.maxSide))
                // minimumSize is in upright orientation; without orientation the stored sides are meant.
                decodeOptions.minimumSize = options.decode.applyOrientation || !header.orientation.swapsSides
                    ? minimum : (minimum.height, minimum.width)
            }
        }
        // Colour conversion and orientation run after the resize, on the (usually) smaller image.
        decodeOptions.applyOrientation = false
        decodeOptions.convertToSRGB = false
        var decoded = try ImageDecoder.decode(bytes, options: decodeOptions)
        let orientation = options.decode.applyOrientation ? decoded.metadata.orientation : .up
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
                decoded.image = decoded.image.resized(width: storedTarget.0, height: storedTarget.1, options: options.resampling)
            }
            resized = target.width != upright.0 || target.height != upright.1
        }
        if options.decode.convertToSRGB { decoded.convertToSRGB() }
        var image = decoded.image.applying(orientation)
        if options.flattenAlpha { image = image.flattened(onto: options.encode.background) }
        let out = try ImageEncoder.encode(image, as: outputFormat, metadata: decoded.metadata, options: options.encode)
        return ConversionResult(bytes: out, format: outputFormat, width: image.width, height: image.height,
                                source: decoded.metadata, resized: resized)
    }

    /// Converts the bytes of `data`; see ``convert(_:)-(([UInt8]))``.
    /// Throws as ``convert(_:)-(([UInt8]))``.
    public func convert(_ data: Data) throws(DarkroomError) -> ConversionResult {
        try convert([UInt8](data))
    }

    /// Reads the file at `path` (`-` is standard input) under a byte limit
    /// (``InputFile/read(_:limit:image:)``: the size is checked before reading) and converts it.
    /// Throws ``DarkroomError/file(_:)`` for a file that cannot be read or is too large, and as
    /// ``convert(_:)-(([UInt8]))``.
    public func convert(contentsOf path: String, maxInputBytes: Int = InputFile.defaultMaxBytes) throws(DarkroomError) -> ConversionResult {
        try convert(InputFile.read(path, limit: maxInputBytes))
    }

    /// Reads an open descriptor (file, pipe, socket) to its end under a byte limit and converts
    /// what it held; the descriptor is not closed. `name` is used in errors.
    public func convert(fileDescriptor: CInt, name: String = "input",
                        maxInputBytes: Int = InputFile.defaultMaxBytes) throws(DarkroomError) -> ConversionResult {
        try convert(InputFile.read(fileDescriptor: fileDescriptor, name: name, limit: maxInputBytes))
    }

    /// The output must have sides up to ``Limits/maxSide`` and fit the pixel limit and the output format.
    private func checkOutput(width: Int, height: Int, format: ImageFormat) throws(DarkroomError) {
        if width > Limits.maxSide || height > Limits.maxSide, let geometry = options.resize {
            throw .option(OptionError(name: "resize", value: geometry.text,
                                      expected: "an output with sides up to \(Limits.maxSide) px (it gives \(width)x\(height))"))
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > options.decode.maxPixels {
            throw .encoding(.tooManyPixels(width: width, height: height, limit: options.decode.maxPixels))
        }
        try FormatLimits.check(format, width: width, height: height)
    }
}
