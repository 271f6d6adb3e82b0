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
    /// Frames in the output: 1 for a still image, the frames kept (``ConvertOptions/frames``)
    /// for an animation.
    public var frameCount: Int = 1
    /// True when the output is lossless WebP: ``EncodeOptions/lossless`` was set, or an animated
    /// GIF became an animated WebP at its own size without a quality (gif2webp's default).
    public var lossless: Bool = false
    /// What the decoder warned about and ``DecodeOptions/failOn`` allowed (empty for a clean file).
    public var warnings: [DecodeWarning] { source.warnings }
    /// With ``ConvertOptions/targetSize``: whether the output fits, the quality chosen and every
    /// encode tried; `nil` without a target size (or for reference prep's pass-through).
    public var targetSize: TargetSize.Outcome?
    /// Set when an animated input became a still image without being asked to: the output
    /// format cannot animate, or the input's kind is not read frame by frame, and
    /// ``ConvertOptions/frames`` was ``FrameSelection/automatic``. `nil` otherwise (a still input,
    /// every frame kept, or frames chosen explicitly). The CLI prints it on standard error and in
    /// `--json`, the HTTP sidecar in `Darkroom-Warning` and its JSON.
    public var framesDropped: FramesDropped?
    /// Metadata of the input that the output does not carry although ``EncodeOptions/keep`` asks
    /// for it (a block the format cannot hold, an ICC profile that does not match the pixels, a
    /// block too large or damaged, the provenance label left out of a `keep` list), and a C2PA
    /// manifest, which is never carried over: empty when nothing was dropped that way. The CLI
    /// prints them on standard error and in `--json` (kind `metadata`), the HTTP sidecar in
    /// `Darkroom-Warning` and its JSON.
    public var metadataWarnings: [MetadataWarning] = []

    /// An animation converted to its first frame only (``ConversionResult/framesDropped``).
    public struct FramesDropped: Sendable, Hashable, CustomStringConvertible {
        /// Frames in the input (2 or more).
        public var sourceFrames: Int
        /// The input's format.
        public var sourceFormat: ImageFormat
        /// The output's format.
        public var outputFormat: ImageFormat

        public init(sourceFrames: Int, sourceFormat: ImageFormat, outputFormat: ImageFormat) {
            (self.sourceFrames, self.sourceFormat, self.outputFormat) = (sourceFrames, sourceFormat, outputFormat)
        }

        /// Why: `"jpeg cannot animate; webp, gif, png and avif can"`.
        public var reason: String { "\(outputFormat) cannot animate; \(ImageFormat.animatableList) can" }

        /// `animated (12 frames): only the first frame was converted (jpeg cannot animate; webp, gif, png and avif can)`.
        public var description: String {
            "animated (\(sourceFrames) frames): only the first frame was converted (\(reason))"
        }
    }

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
    /// Test switches: routes the plan may not take, so tests can compare them
    /// (``ConversionPlan/Switches``).
    var switches = ConversionPlan.Switches()

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
    /// ``DecodeOptions/failOn``, refused by the codec, colour code points that cannot be converted
    /// to sRGB: ``ImageDecodingError/unsupportedColour(_:cicp:reason:)``), ``DarkroomError/encoding(_:)`` for an
    /// output over the limits or refused by the encoder, ``DarkroomError/timeLimit(_:)`` when
    /// ``ConvertOptions/deadline`` passed (the conversion was stopped; nothing is returned).
    public func convert(_ bytes: [UInt8]) throws(DarkroomError) -> ConversionResult {
        var result = try convert(bytes, fitFormatLimits: false, keepInput: nil)
        if result.source.isAnimated && result.frameCount == 1 && options.frames == .automatic {
            result.framesDropped = .init(sourceFrames: result.source.frameCount, sourceFormat: result.source.sourceFormat,
                                         outputFormat: result.format)
        }
        return result
    }

    /// The one path from bytes to bytes (``ReferencePrep`` uses it too), in four steps that run
    /// in order, each once:
    ///
    /// 1. open: the format sniffed and the header parsed once (``ImageSource``), the input's
    ///    declared size checked against the pixel limit;
    /// 2. plan: every decision (``ConversionPlan``), before any pixel is decoded;
    /// 3. decode at the planned shrink-on-load scale — JPEG and PNG rows streamed straight into
    ///    the resampler (``StreamedResize``) where the plan says so, else the whole image, resized;
    /// 4. sRGB, orientation, alpha and encode, on the (usually) smaller image — or, where the
    ///    plan encoded the resized rows as they came, those bytes. Under a
    ///    ``ConvertOptions/targetSize`` the one image is encoded at each quality the search tries.
    ///
    /// `fitFormatLimits`: fit within the output format's side limits instead of refusing (see
    /// ``ConversionPlan``). `keepInput`: asked after decoding whether the input bytes can be
    /// returned as they are (reference prep's pass-through); then nothing is encoded.
    func convert(_ bytes: [UInt8], fitFormatLimits: Bool,
                 keepInput: ((ConversionPlan, ImageMetadata) -> Bool)?) throws(DarkroomError) -> ConversionResult {
        try options.validate()
        guard let sourceFormat = ImageFormat.sniff(bytes) else { throw .decoding(.unknownFormat) }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) -> ConversionResult in
            // 1. Open.
            let deadline = options.deadline
            let source = try ImageSource(bytes, buffer: buffer, format: sourceFormat, options: options.decode,
                                         deadline: deadline)
            try deadline.check(.decoding, sourceFormat)
            // 2. Plan.
            let plan = try ConversionPlan(source: source, options: options, fitFormatLimits: fitFormatLimits,
                                          switches: switches)
            // An animation with more than its first frame kept (or an APNG whose first frame is not
            // its IDAT image): frame by frame.
            if keepInput == nil, let kept = try Self.framesKept(source: source, plan: plan, options: options) {
                return try convertAnimation(bytes, plan: plan, kept: kept)
            }
            // The metadata blocks the output carries, decided once for the output's pixels.
            func embedding(_ metadata: ImageMetadata, pixels: PixelFormat) -> OutputMetadata {
                ImageEncoder.outputMetadata(pixels, width: plan.target.width, height: plan.target.height, as: plan.outputFormat,
                                            metadata: metadata, keep: options.encode.keep)
            }
            var embedded = OutputMetadata.none
            // An APNG converted as a still (its IDAT image): the damage of its animation chunks is
            // the conversion's as it is for an animated output (and for a GIF cut short), refused
            // under `failOn` before any pixel is decoded. The still decode itself reports only the
            // IDAT image's own damage (ImageDecoder, ImageCheck).
            let animationDamage = source.apng?.damage ?? []
            if let rejected = animationDamage.first(where: options.decode.failOn.rejects) {
                throw .decoding(.damaged(.png, warning: rejected, failOn: options.decode.failOn))
            }
            // 3. Decode (and resize, when the rows are streamed).
            var image: Image?
            var metadata: ImageMetadata
            var encoded: [UInt8]?
            var recorded: (stage: PlanarResize, planes: ResizedPlanes)?
            switch plan.route {
            case let .rows(route):
                if route.encodeRows { embedded = embedding(source.headerMetadata, pixels: route.format) }
                let made = try StreamedResize(plan: plan, route: route, options: options, embedding: embedded).run(source)
                metadata = try source.finishRows()
                (image, encoded) = (made.image, made.jpeg)
            case .planes:
                embedded = embedding(source.headerMetadata, pixels: source.rowFormat ?? .rgb8)
                let stage = PlanarResize(plan: plan, options: options, embedding: embedded)
                if options.targetSize != nil {
                    // The resized planes once, encoded below at each quality the search tries: the
                    // quality found gives the file `-q` with it gives.
                    recorded = (stage, try stage.record(source))
                } else {
                    encoded = try stage.run(source)
                }
                var planar = try source.finishRows()
                // An sRGB profile was looked at (and left as it is), as the RGB routes' conversion does.
                if options.decode.convertToSRGB && planar.iccProfile != nil { planar.iccApplied = true }
                metadata = planar
            case .whole:
                let decoded = try source.decodeImage(scale: plan.decodeScale)
                (image, metadata) = (decoded.image, decoded.metadata)
            }
            metadata.warnings += animationDamage
            if let keepInput, keepInput(plan, metadata) {
                return ConversionResult(bytes: bytes, format: sourceFormat, width: plan.upright.width,
                                        height: plan.upright.height, source: metadata, resized: false)
            }
            if let (stage, planes) = recorded, let targetSize = options.targetSize {
                let found = try TargetSizeSearch(targetSize, format: .jpeg, encode: options.encode).run { (quality) throws(DarkroomError) in
                    var attempt = options.encode
                    attempt.quality = quality
                    attempt.optimizeCoding = true   // as Self.encode(_:as:embedding:options:within:deadline:)
                    PipelineEvents.count("target-size-encode")
                    return try planes.encode(with: stage.makeEncoder(planes: planes.layout.planes.count, encode: attempt))
                }
                return ConversionResult(bytes: found.bytes, format: .jpeg, width: plan.target.width, height: plan.target.height,
                                        source: metadata, resized: plan.resizes,
                                        targetSize: TargetSize.Outcome(met: found.met, quality: found.quality,
                                                                       attempts: found.attempts, target: targetSize),
                                        metadataWarnings: embedded.warnings)
            }
            if let encoded {
                // The plan made sure nothing after the resize changes the rows: the JPEG is the output.
                return ConversionResult(bytes: encoded, format: plan.outputFormat, width: plan.target.width,
                                        height: plan.target.height, source: metadata, resized: plan.resizes,
                                        metadataWarnings: embedded.warnings)
            }
            // Rows that went only through the ring always went into the JPEG returned above.
            guard let image else { preconditionFailure("a route without an output image encodes its rows") }
            var decoded = DecodedImage(image: image, metadata: metadata)
            let storedTarget = plan.storedTarget
            if storedTarget.width != decoded.image.width || storedTarget.height != decoded.image.height {
                guard let resized = decoded.image.resizedUnlessStopped(width: storedTarget.width, height: storedTarget.height,
                                                                       options: options.resampling, kernel: .selected,
                                                                       deadline: deadline) else {
                    throw .timeLimit(TimeLimitError(stage: .resizing))
                }
                decoded.image = resized
            }
            // 4. Colour, orientation, alpha, encode.
            if options.decode.convertToSRGB { decoded.convertToSRGB() }
            try deadline.check(.resizing)
            var upright = decoded.image.applying(plan.orientation)
            if options.flattenAlpha { upright = upright.flattened(onto: options.encode.background) }
            embedded = embedding(decoded.metadata, pixels: upright.format)
            guard let targetSize = options.targetSize else {
                let out = try ImageEncoder.encodeChecked(upright, as: plan.outputFormat, embedding: embedded,
                                                         options: options.encode, deadline: deadline)
                return ConversionResult(bytes: out, format: plan.outputFormat, width: upright.width,
                                        height: upright.height, source: decoded.metadata, resized: plan.resizes,
                                        metadataWarnings: embedded.warnings)
            }
            let (out, outcome) = try Self.encode(upright, as: plan.outputFormat, embedding: embedded,
                                                 options: options.encode, within: targetSize, deadline: deadline)
            return ConversionResult(bytes: out, format: plan.outputFormat, width: upright.width, height: upright.height,
                                    source: decoded.metadata, resized: plan.resizes, targetSize: outcome,
                                    metadataWarnings: embedded.warnings)
        }
    }

    /// The frames a conversion keeps of an animated GIF, WebP, PNG (APNG) or AVIF (sequence)
    /// when that is more than its first, or when its first frame is not what the still decode
    /// gives (an APNG whose `IDAT` image is not a frame); nil: the still path, which decodes the
    /// first image. Throws ``DarkroomError/option(_:)`` for ``FrameSelection/all`` into a format
    /// that cannot animate and a range past the last frame.
    static func framesKept(source: ImageSource, plan: ConversionPlan,
                           options: ConvertOptions) throws(DarkroomError) -> ClosedRange<Int>? {
        let firstFrameIsStill: Bool
        switch source.format {
        case .gif, .webp: firstFrameIsStill = true
        case .png:
            guard let apng = source.apng, apng.animates else { return nil }
            firstFrameIsStill = apng.defaultImageIsFrame
        case .avif:
            guard source.headerMetadata.frameCount > 1 else { return nil }
            firstFrameIsStill = true
        case .jpeg: return nil
        }
        let count = source.headerMetadata.frameCount
        let animates = AnimationWriter.canAnimate(plan.outputFormat)
        if options.frames == .all && !animates && count > 1 {
            throw .option(OptionError(name: "frames", value: "all",
                                      expected: "an output format that can animate (\(ImageFormat.animatableList)):"
                                          + " \(plan.outputFormat) holds one frame of the \(count) (ask for the first frame)"))
        }
        guard let kept = options.frames.frames(of: count, animates: animates) else {
            throw .option(OptionError(name: "frames", value: options.frames.description,
                                      expected: "frames from 0 to \(count - 1) (the file has \(count) frame\(count == 1 ? "" : "s"))"))
        }
        if kept == 0...0 && firstFrameIsStill { return nil }
        if kept.count > 1 && !animates {
            throw .option(OptionError(name: "frames", value: options.frames.description,
                                      expected: "one frame: \(plan.outputFormat) cannot animate (\(ImageFormat.animatableList) can)"))
        }
        return kept
    }

    /// Converts the frames `kept` of an animation one at a time: each composited
    /// canvas is resized to the planned size on its own (never a strip of frames), made sRGB,
    /// turned upright and handed to the encoder — an animation (``AnimationWriter``) for two or
    /// more frames, a still image for one. The frames decoded (up to the last kept) times the
    /// canvas, and the frames kept times the output, count against ``DecodeOptions/maxPixels``
    /// before any pixel is decoded. A GIF to WebP is lossless unless a quality is given
    /// (``EncodeOptions/quality``) or the frames are resized, as gif2webp's default is: palette
    /// frames grow when encoded lossy, while resized frames (smooth colours) grow when lossless.
    /// ``ConvertOptions/deadline`` is checked after each frame is decoded, resized and encoded,
    /// and inside each frame's resize.
    private func convertAnimation(_ bytes: [UInt8], plan: ConversionPlan,
                                  kept: ClosedRange<Int>) throws(DarkroomError) -> ConversionResult {
        let target = plan.target
        let deadline = options.deadline
        if kept.count == 1 {
            // One frame chosen (`--frames N`): a still image, encoded as the still path encodes.
            let (still, made) = try runFrames(bytes, plan: plan, kept: kept, writing: nil)
            let converted = made.metadata
            guard let still else { preconditionFailure("the kept frame is within the file's frames") }
            let embedded = ImageEncoder.outputMetadata(still.format, width: still.width, height: still.height, as: plan.outputFormat,
                                                       metadata: converted, keep: options.encode.keep)
            guard let targetSize = options.targetSize else {
                let out = try ImageEncoder.encodeChecked(still, as: plan.outputFormat, embedding: embedded,
                                                         options: options.encode, deadline: deadline)
                return ConversionResult(bytes: out, format: plan.outputFormat, width: target.width, height: target.height,
                                        source: converted, resized: plan.resizes, frameCount: 1,
                                        lossless: plan.outputFormat == .webp && options.encode.lossless,
                                        metadataWarnings: embedded.warnings)
            }
            let (out, outcome) = try Self.encode(still, as: plan.outputFormat, embedding: embedded, options: options.encode,
                                                 within: targetSize, deadline: deadline)
            return ConversionResult(bytes: out, format: plan.outputFormat, width: target.width, height: target.height,
                                    source: converted, resized: plan.resizes, frameCount: 1,
                                    lossless: plan.outputFormat == .webp && options.encode.lossless, targetSize: outcome,
                                    metadataWarnings: embedded.warnings)
        }
        var encode = options.encode
        // gif2webp's default for palette frames; resized frames have many colours, and lossy suits them.
        if ImageFormat.sniff(bytes) == .gif && encode.quality == nil && !plan.resizes { encode.lossless = true }
        let lossless = plan.outputFormat == .webp && encode.lossless
        func result(_ out: [UInt8], _ converted: ImageMetadata, _ outcome: TargetSize.Outcome?) -> ConversionResult {
            // The blocks the writer embedded (every frame is RGBA): the same decision, for the warnings.
            let embedded = ImageEncoder.outputMetadata(.rgba8, width: target.width, height: target.height, as: plan.outputFormat,
                                                       metadata: converted, keep: encode.keep)
            return ConversionResult(bytes: out, format: plan.outputFormat, width: target.width, height: target.height,
                                    source: converted, resized: plan.resizes, frameCount: kept.count, lossless: lossless,
                                    targetSize: outcome, metadataWarnings: embedded.warnings)
        }
        guard let targetSize = options.targetSize else {
            let (_, made) = try runFrames(bytes, plan: plan, kept: kept, writing: encode)
            return result(made.bytes, made.metadata, nil)
        }
        // One quality for every frame (`--max-bytes`): the lossy formats are searched as a still
        // image is (``TargetSizeSearch``), each attempt running the frames again (memory stays a
        // few frames; time is the attempts times one conversion). GIF and lossless WebP: one encode.
        guard plan.outputFormat == .avif || (plan.outputFormat == .webp && !encode.lossless) else {
            PipelineEvents.count("target-size-encode")
            let (_, made) = try runFrames(bytes, plan: plan, kept: kept, writing: encode)
            let attempt = TargetSize.Attempt(quality: nil, bytes: made.bytes.count)
            return result(made.bytes, made.metadata, TargetSize.Outcome(met: made.bytes.count <= targetSize.maxBytes, quality: nil,
                                                                        attempts: [attempt], target: targetSize))
        }
        var converted = ImageMetadata(sourceFormat: plan.header.format, storedWidth: 0, storedHeight: 0, storedBitDepth: 8)
        let found = try TargetSizeSearch(targetSize, format: plan.outputFormat, encode: encode).run { (quality) throws(DarkroomError) in
            var attempt = encode
            attempt.quality = quality
            PipelineEvents.count("target-size-encode")
            let (_, made) = try runFrames(bytes, plan: plan, kept: kept, writing: attempt)
            converted = made.metadata
            return made.bytes
        }
        return result(found.bytes, converted, TargetSize.Outcome(met: found.met, quality: found.quality,
                                                                 attempts: found.attempts, target: targetSize))
    }

    /// Runs the frames `kept` once: each composited canvas resized to the planned size on its own,
    /// made sRGB, turned upright and flattened as asked, then either handed to an
    /// ``AnimationWriter`` encoding with `writing` (the animation's bytes are returned) or, with
    /// `writing` nil, kept as the still image returned (the last frame kept). The frames decoded
    /// times the canvas and the frames kept times the output count against
    /// ``DecodeOptions/maxPixels`` before any pixel is decoded; ``ConvertOptions/deadline`` is
    /// checked after each frame's decode, resize and encode, and inside its resize. The metadata
    /// returned carries the reader's warnings, checked against ``DecodeOptions/failOn``.
    private func runFrames(_ bytes: [UInt8], plan: ConversionPlan, kept: ClosedRange<Int>, writing: EncodeOptions?)
        throws(DarkroomError) -> (still: Image?, made: (bytes: [UInt8], metadata: ImageMetadata)) {
        let deadline = options.deadline
        var decode = options.decode
        decode.applyOrientation = false
        decode.convertToSRGB = false
        let reader = try AnimationReader(bytes, options: decode, framesDecoded: kept.upperBound + 1)
        let target = plan.target
        try AnimationSource.checkFramePixels(width: target.width, height: target.height, frames: kept.count,
                                             limit: options.decode.maxPixels, output: true)
        var metadata = reader.metadata
        metadata.orientation = plan.header.orientation
        let writer = try writing.map { (encode) throws(DarkroomError) in
            try AnimationWriter(format: plan.outputFormat, width: target.width, height: target.height,
                                loopCount: reader.loopCount, options: encode, lossless: encode.lossless,
                                embedding: ImageEncoder.outputMetadata(.rgba8, width: target.width, height: target.height,
                                                                       as: plan.outputFormat, metadata: metadata, keep: encode.keep))
        }
        var still: Image?
        var converted = metadata
        while let frame = try reader.next() {
            if frame.index < kept.lowerBound { continue }
            var decoded = DecodedImage(image: frame.image, metadata: metadata)
            let stored = plan.storedTarget
            try deadline.check(.decoding, reader.format)
            if stored.width != decoded.image.width || stored.height != decoded.image.height {
                guard let resized = decoded.image.resizedUnlessStopped(width: stored.width, height: stored.height,
                                                                       options: options.resampling, kernel: .selected,
                                                                       deadline: deadline) else {
                    throw .timeLimit(TimeLimitError(stage: .resizing))
                }
                decoded.image = resized
            }
            if options.decode.convertToSRGB { decoded.convertToSRGB() }
            try deadline.check(.resizing)
            var upright = decoded.image.applying(plan.orientation)
            if options.flattenAlpha { upright = upright.flattened(onto: options.encode.background) }
            converted = decoded.metadata
            if let writer {
                try writer.add(upright, durationMs: frame.durationMs)
                try deadline.check(.encoding, plan.outputFormat)
            } else {
                still = upright
            }
            if frame.index >= kept.upperBound { break }
        }
        converted.warnings = reader.warnings
        converted = try ImageSource.checked(converted, format: reader.format, failOn: options.decode.failOn)
        guard let writer else { return (still, ([], converted)) }
        let out = try writer.finish()
        try deadline.check(.encoding, plan.outputFormat)
        return (nil, (out, converted))
    }

    /// Encodes `image` under a target size: the quality search of ``TargetSizeSearch`` for JPEG,
    /// lossy WebP and AVIF, on the image converted once to the encoder's layout; one encode for
    /// PNG, GIF and lossless WebP. Throws the encoder's ``DarkroomError/encoding(_:)``, or
    /// ``DarkroomError/timeLimit(_:)`` once `deadline` passed (in an encode, or between two).
    static func encode(_ image: Image, as format: ImageFormat, embedding: OutputMetadata, options: EncodeOptions,
                       within target: TargetSize, deadline: Deadline? = nil) throws(DarkroomError) -> (bytes: [UInt8], outcome: TargetSize.Outcome) {
        let searched = format == .jpeg || format == .avif || (format == .webp && !options.lossless)
        guard searched else {
            PipelineEvents.count("target-size-encode")
            let out = try ImageEncoder.encodeChecked(image, as: format, embedding: embedding, options: options, deadline: deadline)
            let attempt = TargetSize.Attempt(quality: nil, bytes: out.count)
            return (out, TargetSize.Outcome(met: out.count <= target.maxBytes, quality: nil, attempts: [attempt],
                                            target: target))
        }
        let prepared = ImageEncoder.prepared(image, for: format, options: options)
        let found = try TargetSizeSearch(target, format: format, encode: options).run { (quality) throws(DarkroomError) in
            var options = options
            options.quality = quality
            // The smallest file at each quality: a byte target always gets optimised Huffman tables.
            options.optimizeCoding = true
            PipelineEvents.count("target-size-encode")
            return try ImageEncoder.encodeChecked(prepared, as: format, embedding: embedding, options: options, deadline: deadline)
        }
        return (found.bytes, TargetSize.Outcome(met: found.met, quality: found.quality, attempts: found.attempts,
                                                target: target))
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
