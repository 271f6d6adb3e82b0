/// Encodes an ``Image`` into any supported format.
public enum ImageEncoder {
    /// Encodes `image` as `format` and returns the file's bytes. `metadata` supplies the ICC
    /// profile / EXIF kept by ``EncodeOptions/keep``; pixels are always upright, so a kept EXIF
    /// block is written with orientation 1.
    ///
    /// Throws ``DarkroomError/option(_:)`` (quality outside 0–100, speed outside 0–10),
    /// ``ImageEncodingError/formatLimit(_:width:height:maxSide:maxPixels:)`` when the image is larger
    /// than the format can hold (``FormatLimits``, checked before the codec runs) and
    /// ``ImageEncodingError/codec(_:message:)`` from the codec library, both as ``DarkroomError/encoding(_:)``.
    public static func encode(_ image: Image, as format: ImageFormat, metadata: ImageMetadata? = nil,
                              options: EncodeOptions = EncodeOptions()) throws(DarkroomError) -> [UInt8] {
        try options.validate()
        try FormatLimits.check(format, width: image.width, height: image.height)
        return try encodeChecked(image, as: format, metadata: metadata, options: options)
    }

    /// ``encode(_:as:metadata:options:)`` for `options` already validated and a size already
    /// checked against the format's limits (``Converter``'s plan did both). `deadline`
    /// (``ConvertOptions/deadline``): the encoder stops there and throws ``DarkroomError/timeLimit(_:)``
    /// — JPEG, PNG, WebP and GIF during the encode, AVIF only before it starts (libavif cannot be stopped).
    static func encodeChecked(_ image: Image, as format: ImageFormat, metadata: ImageMetadata?,
                              options: EncodeOptions, deadline: Deadline? = nil) throws(DarkroomError) -> [UInt8] {
        try deadline.check(.encoding, format)
        let quality = options.resolvedQuality(for: format)
        let (icc, exif) = embedded(metadata, options: options)
        let image = prepared(image, for: format, options: options)
        switch format {
        case .jpeg:
            return try JPEGCodec.encode(image, settings: JPEGSettings(options), icc: icc, exif: exif, deadline: deadline)
        case .png:
            return try PNGCodec.encode(image, icc: icc, exif: exif, deadline: deadline)
        case .webp:
            return try WebPCodec.encode(image, quality: QualityCurve.webpQuality(quality),
                                        lossless: options.lossless, icc: icc, exif: exif, deadline: deadline)
        case .avif:
            // libavif 0.11 has no progress or abort callback: checked before the encode only.
            try deadline.check(.encoding, .avif)
            return try AVIFCodec.encode(image, quantizer: QualityCurve.avifQuantizer(quality),
                                        alphaQuantizer: QualityCurve.avifAlphaQuantizer(quality),
                                        speed: options.speed ?? QualityCurve.avifDefaultSpeed,
                                        chroma: options.chroma.resolved(for: .avif, quality: quality),
                                        icc: icc, exif: exif)
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

    /// The ICC profile and EXIF block an output carries under ``EncodeOptions/keep``: the source's
    /// profile (sRGB's when the pixels were converted from it) and its EXIF with orientation 1.
    static func embedded(_ metadata: ImageMetadata?, options: EncodeOptions) -> (icc: [UInt8]?, exif: [UInt8]?) {
        var icc: [UInt8]?
        if options.keep.keepsICC, let metadata, metadata.iccProfile != nil {
            // Pixels converted from another profile are sRGB now: say so instead.
            icc = metadata.convertedToSRGB ? ColorManagement.sRGBProfile() : metadata.iccProfile
        }
        let exif = options.keep.keepsEXIF ? metadata?.exif.map(EXIF.resettingOrientation) : nil
        return (icc, exif)
    }
}
