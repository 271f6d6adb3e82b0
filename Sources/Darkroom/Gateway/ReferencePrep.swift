/// Reference-image preparation for an image-edit request: what a FLUX.2 gateway does to each
/// input image before it goes to the provider.
///
/// For each image: accept only PNG, JPEG and WebP; turn it upright (EXIF orientation), convert
/// it to sRGB, strip metadata; resize it with Lanczos-3 when it has more than 4 MP so it fits
/// within 4,194,304 px (``fitted(width:height:maxPixels:)``). An image that needs none of this
/// (format kept, orientation 1, no ICC profile, no EXIF, no other metadata block such as PNG
/// text chunks, XMP or JPEG comments, not animated, small enough) is passed through byte for byte.
/// Every reference goes through ``Converter`` (the one planned pipeline: one header parse plans
/// the output, shrink-on-load, JPEG and PNG rows streamed into the resampler).
///
/// ```swift
/// let ref = try ReferencePrep.prepare(bytes: jpegBytes, name: "photo.jpg")
/// print(ref.width, ref.height, ref.billedMegapixels)   // 2364 1773 4 for a 4000x3000 photo
/// ```
public enum ReferencePrep {
    /// The largest size with the same aspect ratio within `maxPixels` (s = √(maxPixels / (w·h)),
    /// both sides floored); unchanged when already within. ``PixelSize/fitting(maxPixels:)`` computes it.
    /// Throws as ``PixelSize/fitting(maxPixels:)``.
    public static func fitted(width: Int, height: Int, maxPixels: Int = ReferencePrepOptions.defaultMaxPixels) throws(DarkroomError) -> PixelSize {
        try PixelSize(width: width, height: height).fitting(maxPixels: maxPixels)
    }

    /// Throws ``DarkroomError/gateway(_:)`` (``GatewayError/tooManyReferences(count:limit:)``) when `count` is over the limit.
    /// Call it before reading any file.
    public static func checkCount(_ count: Int, options: ReferencePrepOptions = ReferencePrepOptions()) throws(DarkroomError) {
        if count > options.maxReferences { throw DarkroomError.gateway(.tooManyReferences(count: count, limit: options.maxReferences)) }
    }

    /// Prepares one reference image. `name` is used for reports and the output file name.
    /// Throws ``ImageDecodingError/unsupportedFormat(_:accepted:)`` for AVIF and GIF,
    /// ``ImageDecodingError/unknownFormat`` for anything else that is not an image, and decoder errors.
    public static func prepare(bytes: [UInt8], name: String, options: ReferencePrepOptions = ReferencePrepOptions()) throws(DarkroomError) -> PreparedReference {
        try options.validate()
        guard let sourceFormat = ImageFormat.sniff(bytes) else { throw DarkroomError.decoding(.unknownFormat) }
        guard ReferencePrepOptions.acceptedFormats.contains(sourceFormat) else {
            throw DarkroomError.decoding(.unsupportedFormat(sourceFormat, accepted: ReferencePrepOptions.acceptedFormats))
        }
        let outputFormat = options.format.resolve(source: sourceFormat)
        let quality: Int? = switch outputFormat {
        case .jpeg: options.jpegQuality
        case .webp: options.webpQuality
        default: nil
        }
        // The conversion pipeline, planned from one header parse: within what the output format
        // can hold (WebP: 16,383 px a side), then within the megapixel cap (`N@`: s = √(N / (w·h)),
        // both sides floored); shrink-on-load, JPEG and PNG rows streamed into the resampler;
        // upright, sRGB, Lanczos-3 with premultiplied alpha, metadata stripped.
        let converter = Converter(options: ConvertOptions(
            format: outputFormat, quality: quality,
            resize: try ResizeGeometry(maxPixels: options.maxPixels),
            decode: DecodeOptions(maxPixels: options.maxInputPixels, failOn: options.failOn, maxJPEGScans: options.maxJPEGScans),
            encode: EncodeOptions(keep: .none, optimizeCoding: options.optimizeCoding),
            resampling: ResizeOptions(filter: .lanczos3, alpha: .premultiplied, threads: options.threads),
            deadline: options.deadline))
        var passedThrough = false
        let result = try converter.convert(bytes, fitFormatLimits: true) { plan, meta in
            // Nothing to change (format kept, small enough, orientation 1, no ICC profile, no
            // CICP code points, no EXIF, no other metadata block, not animated, no warning): the
            // bytes as they came.
            passedThrough = !plan.resizes && plan.outputFormat == sourceFormat && meta.orientation == .up
                && meta.iccProfile == nil && meta.cicp == nil && meta.exif == nil && !meta.convertedToSRGB && meta.frameCount == 1
                && meta.warnings.isEmpty && EmbeddedMetadata.blocks(in: bytes).isEmpty
            return passedThrough
        }
        let meta = result.source
        let upright = meta.orientation.swapsSides
            ? PixelSize(width: meta.storedHeight, height: meta.storedWidth)
            : PixelSize(width: meta.storedWidth, height: meta.storedHeight)
        var prepared = PreparedReference(
            source: name, fileName: outputName(for: name, format: result.format), bytes: result.bytes,
            format: result.format, sourceFormat: sourceFormat,
            inputWidth: upright.width, inputHeight: upright.height, width: result.width, height: result.height,
            resized: result.resized, passedThrough: passedThrough,
            billedMegapixels: max(1, MegapixelBilling.billed(PixelSize(width: result.width, height: result.height))))
        prepared.warnings = meta.warnings
        // `keep: .none` reports nothing but a C2PA manifest, which is never dropped silently.
        prepared.metadataWarnings = result.metadataWarnings
        return prepared
    }

    /// Prepares several images: checks the count first (throws before any work), then returns
    /// one result per image, in order, so one bad image does not stop the others.
    public static func prepareAll(_ inputs: [(name: String, bytes: [UInt8])],
                                  options: ReferencePrepOptions = ReferencePrepOptions()) throws(DarkroomError) -> [Result<PreparedReference, DarkroomError>] {
        try checkCount(inputs.count, options: options)
        return inputs.map { input in
            Result { () throws(DarkroomError) in try prepare(bytes: input.bytes, name: input.name, options: options) }
        }
    }

    /// `<stem>.ref.<ext>` for an input path or name: `shots/photo.jpeg` → `photo.ref.jpg`.
    public static func outputName(for name: String, format: ImageFormat) -> String {
        "\(PathText.stem(name)).ref.\(format.fileExtension)"
    }
}
