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
    /// Test switch: false forces the whole-image path where the streamed one would run, so tests
    /// can compare the two.
    var allowsStreaming = true

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
        if sniffed == .jpeg, let streamed = try convertStreamingJPEG(bytes, outputFormat: outputFormat) {
            return streamed
        }

        var decodeOptions = options.decode
        decodeOptions.minimumSize = nil
        if let header = try? ImageDecoder.readHeader(bytes) {
            // The input first (a decoding error, as the decoder would give), then the plan: the
            // output size, checked before anything is decoded or allocated.
            try checkPixelLimit(width: header.width, height: header.height, limit: options.decode.maxPixels)
            let upright = options.decode.applyOrientation
                ? (width: header.uprightWidth, height: header.uprightHeight) : (width: header.width, height: header.height)
            let target = options.resize?.targetSize(width: upright.width, height: upright.height) ?? upright
            try checkOutput(width: target.width, height: target.height, format: outputFormat)
            // Shrink-on-load: ask the decoder for at least twice the target size (the target with `fast`).
            if options.shrinkOnLoad, options.resize != nil {
                let minimum = options.shrinkOnLoadMinimum(for: target)
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
        return try finish(decoded, orientation: orientation, outputFormat: outputFormat, resized: resized)
    }

    /// The steps after the resize, on the (usually) smaller image: sRGB, orientation, alpha, encode.
    private func finish(_ resizedImage: DecodedImage, orientation: Orientation, outputFormat: ImageFormat,
                        resized: Bool) throws(DarkroomError) -> ConversionResult {
        var decoded = resizedImage
        if options.decode.convertToSRGB { decoded.convertToSRGB() }
        var image = decoded.image.applying(orientation)
        if options.flattenAlpha { image = image.flattened(onto: options.encode.background) }
        let out = try ImageEncoder.encode(image, as: outputFormat, metadata: decoded.metadata, options: options.encode)
        return ConversionResult(bytes: out, format: outputFormat, width: image.width, height: image.height,
                                source: decoded.metadata, resized: resized)
    }

    /// The streamed path for a JPEG that is resized (libvips-style): one header parse plans the
    /// output and the DCT scale, then decoded rows flow straight into the resampler's row ring, so
    /// no full-size source buffer exists (a 24 MP RGB source is 72 MB; the stream holds 16 rows).
    /// Pixels are identical to the whole-image path. Returns nil where it does not apply (no
    /// resize, CMYK or 12-bit data, the nearest filter, no SIMD kernel). With
    /// ``ResizeOptions/threads`` of 2 or more, decoding runs on a second thread ahead of the resampler.
    private func convertStreamingJPEG(_ bytes: [UInt8], outputFormat: ImageFormat) throws(DarkroomError) -> ConversionResult? {
        guard allowsStreaming, let geometry = options.resize, options.resampling.filter != .nearest,
              ResampleKernel.selected != .scalar else { return nil }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> ConversionResult? in
            let stream = try JPEGRowStream(buffer: buffer)
            guard !stream.isCMYK, stream.precision == 8 else { return nil }
            let stored = (width: stream.storedWidth, height: stream.storedHeight)
            try checkPixelLimit(width: stored.width, height: stored.height, limit: options.decode.maxPixels)
            let exif = stream.exif
            let fileOrientation = exif.map(EXIF.orientation(in:)) ?? .up
            let orientation = options.decode.applyOrientation ? fileOrientation : .up
            let upright = orientation.swapsSides ? (width: stored.height, height: stored.width) : stored
            let target = geometry.targetSize(width: upright.width, height: upright.height)
            try checkOutput(width: target.width, height: target.height, format: outputFormat)
            guard target.width != upright.width || target.height != upright.height else { return nil }
            // Resize in stored orientation: the target's sides swap with the orientation.
            let storedTarget = orientation.swapsSides ? (width: target.height, height: target.width) : target
            var denominator = 1
            if options.shrinkOnLoad {
                // Shrink-on-load: the largest DCT scale that leaves at least twice the target (libvips'
                // rule), or the target itself with `fast`.
                let minimum = options.shrinkOnLoadMinimum(for: target)
                denominator = ImageDecoder.jpegScaleDenominator(width: stored.width, height: stored.height,
                                                                orientation: orientation, minimum: minimum)
            }
            // Two or more threads: a producer thread decodes ahead while this one resamples.
            try stream.start(scaleDenominator: denominator, maxPixels: options.decode.maxPixels,
                             background: options.resampling.threads > 1)
            defer { stream.stop() }
            let format: PixelFormat = stream.components == 1 ? .gray8 : .rgb8
            var image = Image(width: storedTarget.width, height: storedTarget.height, format: format)
            image.pixels.withUnsafeMutableBufferPointer { out in
                let dst = out.baseAddress!
                if stream.width == storedTarget.width && stream.height == storedTarget.height {
                    // The DCT scale already gives the target: the rows are the result.
                    let rowBytes = storedTarget.width * format.channels
                    for y in 0..<storedTarget.height {
                        (dst + y * rowBytes).update(from: stream.row(y), count: rowBytes)
                    }
                } else {
                    Resampler(srcWidth: stream.width, srcHeight: stream.height, dstWidth: storedTarget.width,
                              dstHeight: storedTarget.height, format: format, alpha: options.resampling.alpha,
                              kernel: .selected)
                        .resizeU8(streaming: stream, dst: dst, filter: options.resampling.filter)
                }
            }
            let warnings = stream.finish()
            if let failure = stream.failure { throw .decoding(.codec(.jpeg, message: failure)) }
            if let rejected = warnings.first(where: options.decode.failOn.rejects) {
                throw .decoding(.damaged(.jpeg, warning: rejected, failOn: options.decode.failOn))
            }
            var metadata = ImageMetadata(sourceFormat: .jpeg, storedWidth: stored.width, storedHeight: stored.height,
                                         storedBitDepth: stream.precision)
            metadata.orientation = fileOrientation
            metadata.exif = exif
            metadata.iccProfile = stream.iccProfile
            metadata.warnings = warnings
            if let profile = metadata.iccProfile { metadata.iccDescription = ColorManagement.describe(profile) }
            return try finish(DecodedImage(image: image, metadata: metadata), orientation: orientation,
                              outputFormat: outputFormat, resized: true)
        }
    }

    /// Converts the bytes of `data`; see ``convert(_:)-([UInt8])``.
    /// Throws as ``convert(_:)-([UInt8])``.
    public func convert(_ data: Data) throws(DarkroomError) -> ConversionResult {
        try convert([UInt8](data))
    }

    /// Reads the file at `path` (`-` is standard input) under a byte limit
    /// (``InputFile/read(_:limit:image:)``: the size is checked before reading) and converts it.
    /// Throws ``DarkroomError/file(_:)`` for a file that cannot be read or is too large, and as
    /// ``convert(_:)-([UInt8])``.
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
