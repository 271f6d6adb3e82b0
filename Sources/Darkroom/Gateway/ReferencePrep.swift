/// Reference-image preparation for an image-edit request: what a FLUX.2 gateway does to each
/// input image before it goes to the provider.
///
/// For each image: accept only PNG, JPEG and WebP; turn it upright (EXIF orientation), convert
/// it to sRGB, strip metadata; resize it with Lanczos-3 when it has more than 4 MP so it fits
/// within 4,194,304 px (``fitted(width:height:maxPixels:)``). An image that needs none of this
/// (format kept, orientation 1, no ICC profile, no EXIF, no other metadata block such as PNG
/// text chunks, XMP or JPEG comments, not animated, small enough) is passed through byte for byte.
/// A reference that is resized goes through ``Converter`` (the one planned pipeline: header-only
/// plan, shrink-on-load, a JPEG streamed into the resampler).
///
/// ```swift
/// let ref = try ReferencePrep.prepare(bytes: jpegBytes, name: "photo.jpg")
/// print(ref.width, ref.height, ref.billedMegapixels)   // 2364 1773 4 for a 4000x3000 photo
/// ```
public enum ReferencePrep {
    /// The largest size with the same aspect ratio within `maxPixels`; delegates to ``fitWithin(width:height:maxPixels:)``
    /// (s = √(maxPixels / (w·h)), both sides floored). Unchanged when already within.
    public static func fitted(width: Int, height: Int, maxPixels: Int = ReferencePrepOptions.defaultMaxPixels) -> PixelSize {
        let fit = fitWithin(width: width, height: height, maxPixels: maxPixels)
        return PixelSize(width: fit.width, height: fit.height)
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

        // Size first (header only), so a large JPEG/WebP can be shrunk while decoding.
        let header = try ImageDecoder.readHeader(bytes)
        // Within what the output format can hold (WebP: 16,383 px a side) and within the megapixel cap.
        let fit = FormatLimits.of(outputFormat).fitting(width: header.uprightWidth, height: header.uprightHeight)
        let target = fitted(width: fit.width, height: fit.height, maxPixels: options.maxPixels)
        let needsResize = target.width != header.uprightWidth || target.height != header.uprightHeight
        let quality: Int? = switch outputFormat {
        case .jpeg: options.jpegQuality
        case .webp: options.webpQuality
        default: nil
        }
        let fileName = outputName(for: name, format: outputFormat)
        let decodeOptions = DecodeOptions(maxPixels: options.maxInputPixels, failOn: options.failOn)
        if needsResize {
            // The conversion pipeline: planned from the header, shrink-on-load, a JPEG streamed into
            // the resampler; upright, sRGB, Lanczos-3 with premultiplied alpha, metadata stripped.
            let converter = Converter(options: ConvertOptions(
                format: outputFormat, quality: quality,
                resize: try ResizeGeometry(parsing: "\(target.width)x\(target.height)!"),
                decode: decodeOptions, encode: EncodeOptions(keep: .none),
                resampling: ResizeOptions(filter: .lanczos3, alpha: .premultiplied)))
            let result = try converter.convert(bytes)
            let meta = result.source
            let upright = meta.orientation.swapsSides
                ? PixelSize(width: meta.storedHeight, height: meta.storedWidth)
                : PixelSize(width: meta.storedWidth, height: meta.storedHeight)
            var prepared = PreparedReference(
                source: name, fileName: fileName, bytes: result.bytes, format: outputFormat, sourceFormat: sourceFormat,
                inputWidth: upright.width, inputHeight: upright.height, width: result.width, height: result.height,
                resized: true, passedThrough: false,
                billedMegapixels: max(1, MegapixelBilling.billedMegapixels(width: result.width, height: result.height)))
            prepared.warnings = meta.warnings
            return prepared
        }
        let decoded = try ImageDecoder.decode(bytes, options: decodeOptions)
        let meta = decoded.metadata
        let upright = meta.orientation.swapsSides
            ? PixelSize(width: meta.storedHeight, height: meta.storedWidth)
            : PixelSize(width: meta.storedWidth, height: meta.storedHeight)

        let untouched = outputFormat == sourceFormat && meta.orientation == .up
            && meta.iccProfile == nil && meta.exif == nil && !meta.convertedToSRGB && meta.frameCount == 1
            && EmbeddedMetadata.blocks(in: bytes).isEmpty && meta.warnings.isEmpty
        if untouched {
            return PreparedReference(
                source: name, fileName: fileName, bytes: bytes, format: sourceFormat, sourceFormat: sourceFormat,
                inputWidth: upright.width, inputHeight: upright.height, width: upright.width, height: upright.height,
                resized: false, passedThrough: true,
                billedMegapixels: max(1, MegapixelBilling.billedMegapixels(width: upright.width, height: upright.height)))
        }

        // Small enough, but something must change (format, orientation, profile, metadata): re-encode.
        let image = decoded.image
        let out = try ImageEncoder.encode(image, as: outputFormat, options: EncodeOptions(quality: quality, keep: .none))
        var prepared = PreparedReference(
            source: name, fileName: fileName, bytes: out, format: outputFormat, sourceFormat: sourceFormat,
            inputWidth: upright.width, inputHeight: upright.height, width: image.width, height: image.height,
            resized: false, passedThrough: false,
            billedMegapixels: max(1, MegapixelBilling.billedMegapixels(width: image.width, height: image.height)))
        prepared.warnings = meta.warnings
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
        let base = name.split(separator: "/").last.map(String.init) ?? name
        var stem = base
        if let dot = base.lastIndex(of: "."), dot != base.startIndex { stem = String(base[..<dot]) }
        if stem.isEmpty || stem == "-" { stem = "stdin" }
        return "\(stem).ref.\(format.fileExtension)"
    }
}
