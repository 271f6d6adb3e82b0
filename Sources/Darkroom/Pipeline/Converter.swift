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
    /// Test switch: false keeps a JPEG with restart markers on the one-band path (see
    /// ``resizeInRestartBands(_:format:target:dst:rowsDone:damaged:)``).
    var allowsRestartBands = true
    /// Test switch: false keeps the whole output image on the streamed JPEG path even where a ring
    /// of rows would do (``resizeStreaming(_:format:plan:)``), so tests can compare the two.
    var allowsRingOutput = true
    /// The smallest decoded sources (pixels) split into restart bands: below it the second thread
    /// and header parse cost more than they save. Tests lower it.
    var restartBandsMinimumPixels = 2_000_000

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
        try convert(bytes, fitFormatLimits: false, keepInput: nil)
    }

    /// The one path from bytes to bytes (``ReferencePrep`` uses it too): sniff once, parse the
    /// header once and plan (``ConversionPlan``), decode at the planned shrink-on-load size —
    /// JPEG and PNG rows streamed straight into the resampler when resizing — then sRGB,
    /// orientation and encode on the (usually) smaller image.
    ///
    /// `fitFormatLimits`: fit within the output format's side limits instead of refusing (see
    /// ``ConversionPlan``). `keepInput`: asked after decoding whether the input bytes can be
    /// returned as they are (reference prep's pass-through); then nothing is encoded.
    func convert(_ bytes: [UInt8], fitFormatLimits: Bool,
                 keepInput: ((ConversionPlan, ImageMetadata) -> Bool)?) throws(DarkroomError) -> ConversionResult {
        try options.validate()
        guard let sourceFormat = ImageFormat.sniff(bytes) else { throw .decoding(.unknownFormat) }
        let outputFormat = options.format ?? sourceFormat
        var decodeOptions = options.decode
        // Colour conversion and orientation run after the resize, on the (usually) smaller image.
        decodeOptions.applyOrientation = false
        decodeOptions.convertToSRGB = false
        // Set by the decoder's callbacks: the plan (always, before any pixel) and what the streamed resize made.
        var planned: ConversionPlan?
        var streamed: StreamedResize?
        func oneBand() throws(DarkroomError) -> ConversionResult {
            var again = self
            again.allowsRestartBands = false
            return try again.convert(bytes, fitFormatLimits: fitFormatLimits, keepInput: keepInput)
        }
        var decoded: DecodedImage
        do {
            decoded = try ImageDecoder.decode(bytes, format: sourceFormat, options: decodeOptions,
                plan: { (header) throws(DarkroomError) -> (width: Int, height: Int)? in
                    let plan = try ConversionPlan(header: header, options: options, outputFormat: outputFormat,
                                                  fitFormatLimits: fitFormatLimits)
                    planned = plan
                    return plan.minimumDecodeSize
                },
                rows: { (decoder, format) throws(DarkroomError) -> Image? in
                    guard let plan = planned, let made = try resizeStreaming(decoder, format: format, plan: plan) else { return nil }
                    streamed = made
                    // Rows that went only to the encoder: a stand-in, never used (the JPEG is the output).
                    return made.image ?? Image(width: 1, height: 1, format: format)
                })
        } catch {
            if streamed?.damagedInBands == true { return try oneBand() }
            throw error
        }
        if streamed?.damagedInBands == true { return try oneBand() }
        guard var plan = planned else { preconditionFailure("every decoder plans before decoding pixels") }
        if decoded.metadata.orientation != plan.header.orientation {
            // A PNG whose eXIf chunk follows the image data: the orientation is known only now.
            var header = plan.header
            header.orientation = decoded.metadata.orientation
            plan = try ConversionPlan(header: header, options: options, outputFormat: outputFormat,
                                      fitFormatLimits: fitFormatLimits)
        }
        if let keepInput, keepInput(plan, decoded.metadata) {
            return ConversionResult(bytes: bytes, format: sourceFormat, width: plan.upright.width,
                                    height: plan.upright.height, source: decoded.metadata, resized: false)
        }
        if let streamed = streamed?.jpeg,
           resizedRowsAreFinal(orientation: plan.orientation, icc: decoded.metadata.iccApplied ? nil : decoded.metadata.iccProfile) {
            let embedded = ImageEncoder.embedded(decoded.metadata, options: options.encode)
            if embedded.icc == streamed.icc && embedded.exif == streamed.exif {
                // Nothing after the resize changes the rows: the JPEG encoded while resizing is the output.
                return ConversionResult(bytes: streamed.bytes, format: outputFormat, width: plan.target.width,
                                        height: plan.target.height, source: decoded.metadata, resized: plan.resizes)
            }
        }
        if let made = streamed, made.image == nil {
            // Only if the source's metadata differed from its header's (it cannot): keep every row.
            var again = self
            again.allowsRingOutput = false
            return try again.convert(bytes, fitFormatLimits: fitFormatLimits, keepInput: keepInput)
        }
        let storedTarget = plan.storedTarget
        if storedTarget.width != decoded.image.width || storedTarget.height != decoded.image.height {
            decoded.image = decoded.image.resized(width: storedTarget.width, height: storedTarget.height,
                                                  options: options.resampling)
        }
        if options.decode.convertToSRGB { decoded.convertToSRGB() }
        var image = decoded.image.applying(plan.orientation)
        if options.flattenAlpha { image = image.flattened(onto: options.encode.background) }
        let out = try ImageEncoder.encode(image, as: outputFormat, metadata: decoded.metadata, options: options.encode)
        return ConversionResult(bytes: out, format: outputFormat, width: image.width, height: image.height,
                                source: decoded.metadata, resized: plan.resizes)
    }

    /// The streamed resize (libvips-style): the decoder's rows flow straight into the resampler's
    /// row ring, so no full-size source buffer exists (a 24 MP RGB source is 72 MB; the stream
    /// holds 16 rows). Pixels are identical to the whole-image path. Returns nil where it does not
    /// apply (no resize, 16-bit rows, the nearest filter, no SIMD kernel). With
    /// ``ResizeOptions/threads`` of 2 or more, decoding runs on a second thread ahead of the resampler.
    ///
    /// When the output is a JPEG and nothing after the resize changes the rows (upright, no colour
    /// conversion, no alpha), the resized rows are also handed to the JPEG encoder as they are
    /// made, so encoding overlaps decoding; ``convert(_:fitFormatLimits:keepInput:)`` uses those bytes
    /// once the final metadata confirms what was embedded.
    ///
    /// When the restart bands met damage the result says so (``StreamedResize/damagedInBands``) and
    /// the caller converts again on the one-band path (which reports the damage as it always does).
    private func resizeStreaming(_ decoder: RowDecoder, format: PixelFormat, plan: ConversionPlan) throws(DarkroomError)
        -> StreamedResize? {
        guard allowsStreaming, plan.resizes, format.bitDepth == 8, options.resampling.filter != .nearest,
              ResampleKernel.selected != .scalar else { return nil }
        let target = plan.storedTarget
        let threads = options.resampling.threads
        let jpeg = decoder as? JPEGRowDecoder
        let tryBands = allowsRestartBands && threads > 1 && jpeg?.restartLayout != nil
            && (decoder.width != target.width || decoder.height != target.height)
        // Decoding starts first (on its own thread with 2+ threads): the encoder, the output buffer
        // and the resampler's tables are set up while the first rows are decoded.
        var stream = tryBands ? nil : RowStream(decoder, background: threads > 1)
        defer { stream?.stop() }
        var encoder: JPEGRowEncoder?
        var embedded: (icc: [UInt8]?, exif: [UInt8]?) = (nil, nil)
        if plan.outputFormat == .jpeg, format == .gray8 || format == .rgb8,
           resizedRowsAreFinal(orientation: plan.orientation, icc: decoder.iccProfile) {
            var header = ImageMetadata(sourceFormat: plan.header.format, storedWidth: plan.header.width,
                                       storedHeight: plan.header.height, storedBitDepth: 8)
            header.iccProfile = decoder.iccProfile
            header.exif = decoder.exif
            embedded = ImageEncoder.embedded(header, options: options.encode)
            let quality = options.encode.quality ?? QualityCurve.webDefault(for: .jpeg)
            encoder = try JPEGRowEncoder(width: target.width, height: target.height, format: format,
                                         quality: QualityCurve.jpegQuality(quality), progressive: options.encode.progressive,
                                         chroma: options.encode.chroma, optimizeCoding: options.encode.optimizeCoding, icc: embedded.icc, exif: embedded.exif)
        }
        var failure: DarkroomError?
        var damagedInBands = false
        // A streamed source's ICC profile and EXIF are all in its header (a JPEG's always; a PNG
        // with eXIf after its pixels is not streamed, and libpng ignores a late iCCP), so the JPEG
        // encoded here is the output: the finished rows need to live only until the encoder has
        // them (a ring of 64 rows instead of a 12.6 MB buffer for a 4 MP output).
        let ringRows = allowsRingOutput && encoder != nil && !tryBands ? 64 : 0
        /// Makes every output row into `dst` (a whole image, or the ring) and hands them to the encoder.
        func resize(into dst: UnsafeMutablePointer<UInt8>) {
            let feed: ((Int) -> Void)? = encoder.map { encoder in
                { done in if done - encoder.rowsWritten >= 16 { encoder.write(from: dst, ringRows: ringRows, upTo: done) } }
            }
            if tryBands, let jpeg,
               resizeInRestartBands(jpeg, format: format, target: target, dst: dst, rowsDone: feed, damaged: &damagedInBands) {
                encoder?.write(from: dst, upTo: target.height)
                return
            }
            let rows = stream ?? RowStream(decoder, background: threads > 1)
            stream = rows
            if rows.width == target.width && rows.height == target.height {
                // The DCT scale already gives the target: the rows are the result.
                let rowBytes = target.width * format.channels
                for y in 0..<target.height {
                    (dst + ringSlot(y, ringRows: ringRows) * rowBytes).update(from: rows.row(y), count: rowBytes)
                    if y % 16 == 15 { encoder?.write(from: dst, ringRows: ringRows, upTo: y + 1) }
                }
            } else {
                Resampler(srcWidth: rows.width, srcHeight: rows.height, dstWidth: target.width,
                          dstHeight: target.height, format: format, alpha: options.resampling.alpha,
                          kernel: .selected)
                    .resizeU8(streaming: rows, dst: dst, dstRingRows: ringRows, filter: options.resampling.filter, rowsDone: feed)
            }
            encoder?.write(from: dst, ringRows: ringRows, upTo: target.height)
            rows.finish()
            failure = rows.failure
        }
        var image: Image?
        if ringRows > 0 {
            let ring = UnsafeMutablePointer<UInt8>.allocate(capacity: ringRows * target.width * format.channels)
            defer { ring.deallocate() }
            resize(into: ring)
            PipelineEvents.count("ring-output")
        } else {
            // Every output row is written (rows the decoder could not decode come in filled), so
            // the buffer is not zeroed first.
            image = Image(width: target.width, height: target.height, format: format, fillingEveryByte: resize(into:))
        }
        if damagedInBands { return StreamedResize(image: image, jpeg: nil, damagedInBands: true) }
        if let failure { throw failure }
        return StreamedResize(image: image, jpeg: try encoder.map { (e) throws(DarkroomError) in (try e.finish(), embedded.icc, embedded.exif) },
                              damagedInBands: false)
    }

    /// True when nothing after the resize changes the rows: upright, and no ICC profile to convert
    /// from (`icc`: the source's profile not yet applied). Then a JPEG encoded from the resized rows
    /// as they are made is the output.
    private func resizedRowsAreFinal(orientation: Orientation, icc: [UInt8]?) -> Bool {
        orientation == .up && !(options.decode.convertToSRGB && icc != nil)
    }

    /// What ``resizeStreaming(_:format:plan:)`` made.
    private struct StreamedResize {
        /// The resized rows: stored orientation, the plan's stored target size; nil when they went
        /// only through a ring into the JPEG encoder (then ``jpeg`` is the output).
        var image: Image?
        /// The JPEG encoded from those rows as they were made, with the ICC profile and EXIF it
        /// embeds; nil when the output is not a JPEG or something after the resize changes the rows.
        var jpeg: (bytes: [UInt8], icc: [UInt8]?, exif: [UInt8]?)?
        /// The restart bands met damage: `image` is not to be used.
        var damagedInBands: Bool
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
}
