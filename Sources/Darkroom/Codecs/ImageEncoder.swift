/// Encodes an ``Image`` into any supported format.
public enum ImageEncoder {
    /// Encodes `image` as `format` and returns the file's bytes. `metadata` supplies the blocks
    /// ``EncodeOptions/keep`` keeps (``MetadataKeep``): the ICC profile, EXIF (no thumbnail,
    /// orientation 1: pixels are always upright), XMP, IPTC, or by default only the provenance
    /// label. A block the output cannot carry is dropped (an ICC profile whose colour space does
    /// not match the pixels, a block `format` cannot hold); ``Converter`` reports each in
    /// ``ConversionResult/metadataWarnings``, as ``metadataWarnings(_:as:metadata:options:)`` tells here.
    ///
    /// Throws ``DarkroomError/option(_:)`` (quality outside 0–100, speed outside 0–10),
    /// ``ImageEncodingError/formatLimit(_:width:height:maxSide:maxPixels:)`` when the image is larger
    /// than the format can hold (``FormatLimits``, checked before the codec runs) and
    /// ``ImageEncodingError/codec(_:message:)`` from the codec library, both as ``DarkroomError/encoding(_:)``.
    public static func encode(_ image: Image, as format: ImageFormat, metadata: ImageMetadata? = nil,
                              options: EncodeOptions = EncodeOptions()) throws(DarkroomError) -> [UInt8] {
        try options.validate()
        try FormatLimits.check(format, width: image.width, height: image.height)
        let embedding = outputMetadata(image.format, width: image.width, height: image.height, as: format,
                                       metadata: metadata, keep: options.keep)
        return try encodeChecked(image, as: format, embedding: embedding, options: options)
    }

    /// What ``encode(_:as:metadata:options:)`` of `image` leaves out of `metadata` although
    /// ``EncodeOptions/keep`` asks for it, or must never carry over (a C2PA manifest): empty when
    /// every block asked for is written.
    public static func metadataWarnings(_ image: Image, as format: ImageFormat, metadata: ImageMetadata?,
                                        options: EncodeOptions = EncodeOptions()) -> [MetadataWarning] {
        outputMetadata(image.format, width: image.width, height: image.height, as: format, metadata: metadata,
                       keep: options.keep).warnings
    }

    /// The blocks a `format` output of `width` × `height` pixels in `pixelFormat` carries
    /// (``OutputMetadata``): the output is gray when the pixels are and the format keeps them so
    /// (JPEG, PNG; WebP, AVIF and GIF are RGB).
    static func outputMetadata(_ pixelFormat: PixelFormat, width: Int, height: Int, as format: ImageFormat,
                               metadata: ImageMetadata?, keep: MetadataKeep) -> OutputMetadata {
        let gray = pixelFormat.isGray && (format == .jpeg || format == .png)
        return OutputMetadata(source: metadata, keep: keep, format: format, width: width, height: height, gray: gray)
    }

    /// ``encode(_:as:metadata:options:)`` for `options` already validated and a size already
    /// checked against the format's limits (``Converter``'s plan did both), with the blocks
    /// decided (`embedding`). `deadline` (``ConvertOptions/deadline``): the encoder stops there and
    /// throws ``DarkroomError/timeLimit(_:)`` — JPEG, PNG, WebP and GIF during the encode, AVIF
    /// only before it starts (libavif cannot be stopped).
    static func encodeChecked(_ image: Image, as format: ImageFormat, embedding: OutputMetadata,
                              options: EncodeOptions, deadline: Deadline? = nil) throws(DarkroomError) -> [UInt8] {
        try deadline.check(.encoding, format)
        let quality = options.resolvedQuality(for: format)
        let (icc, exif, xmp, iptc) = (embedding.icc, embedding.exif, embedding.xmp, embedding.iptc)
        let image = prepared(image, for: format, options: options)
        switch format {
        case .jpeg:
            return try JPEGCodec.encode(image, settings: JPEGSettings(options), icc: icc, exif: exif, xmp: xmp, iptc: iptc,
                                        deadline: deadline)
        case .png:
            return try PNGCodec.encode(image, icc: icc, exif: exif, xmp: xmp, iptc: iptc, deadline: deadline)
        case .webp:
            return try WebPCodec.encode(image, quality: QualityCurve.webpQuality(quality),
                                        lossless: options.lossless, icc: icc, exif: exif, xmp: xmp, deadline: deadline)
        case .avif:
            // libavif 0.11 has no progress or abort callback: checked before the encode only.
            try deadline.check(.encoding, .avif)
            return try AVIFCodec.encode(image, quantizer: QualityCurve.avifQuantizer(quality),
                                        alphaQuantizer: QualityCurve.avifAlphaQuantizer(quality),
                                        speed: options.speed ?? QualityCurve.avifDefaultSpeed,
                                        chroma: options.chroma.resolved(for: .avif, quality: quality),
                                        icc: icc, exif: exif, xmp: xmp)
        case .gif:
            return try GIFCodec.encode(image, dither: options.dither, deadline: deadline)
        }
    }

    /// `image` in the layout the `format`'s encoder takes (JPEG: gray or RGB, alpha composited onto
    /// ``EncodeOptions/background``; WebP: 8-bit RGB or RGBA; AVIF: RGB or RGBA at the image's depth;
    /// GIF: RGBA; PNG: as it is). Converting once lets a caller encode it at many qualities; an
    /// image already in that layout is returned as it is.
    static func prepared(_ image: Image, for format: ImageFormat, options: EncodeOptions) -> Image {
        switch format {
        case .jpeg: image.converted(to: image.format.isGray ? .gray8 : .rgb8, background: options.background)
        case .png: image
        case .webp: image.converted(to: image.format.hasAlpha ? .rgba8 : .rgb8)
        case .avif: image.converted(to: PixelFormat(channels: image.format.hasAlpha ? 4 : 3, bitDepth: image.format.bitDepth))
        case .gif: image.converted(to: .rgba8)
        }
    }
}
