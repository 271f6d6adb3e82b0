/// Encodes an ``Image`` into any supported format.
public enum ImageEncoder {
    /// Encodes `image`. `metadata` supplies the ICC profile / EXIF kept by ``EncodeOptions/keep``;
    /// pixels are always upright, so a kept EXIF block is written with orientation 1.
    ///
    /// Throws ``DarkroomError``: `.invalidOption` (quality outside 0–100, speed outside 0–10),
    /// `.formatLimit` when the image is larger than the format can hold (``FormatLimits``, checked
    /// before the codec runs), `.openAIParity` in strict mode, `.encodeFailed` from the codec.
    public static func encode(_ image: Image, metadata: ImageMetadata? = nil, options: EncodeOptions) throws -> [UInt8] {
        try options.validate()
        try FormatLimits.check(options.format, width: image.width, height: image.height)
        try options.validateStrictOpenAI(image: image)
        let quality = options.quality ?? QualityCurve.webDefault(for: options.format)
        var icc: [UInt8]?
        if options.keep.keepsICC, let metadata, metadata.iccProfile != nil {
            // Pixels converted from another profile are sRGB now: say so instead.
            icc = metadata.convertedToSRGB ? ColorManagement.sRGBProfile() : metadata.iccProfile
        }
        let exif = options.keep.keepsEXIF ? metadata?.exif.map(EXIF.resettingOrientation) : nil
        switch options.format {
        case .jpeg:
            let target: PixelFormat = image.format.isGray ? .gray8 : .rgb8
            return try JPEGCodec.encode(image.converted(to: target, background: options.background),
                                        quality: QualityCurve.jpegQuality(quality), progressive: options.progressive,
                                        chroma: options.chroma, icc: icc, exif: exif)
        case .png:
            return try PNGCodec.encode(image, icc: icc, exif: exif)
        case .webp:
            let target: PixelFormat = image.format.hasAlpha ? .rgba8 : .rgb8
            return try WebPCodec.encode(image.converted(to: target), quality: QualityCurve.webpQuality(quality),
                                        lossless: options.lossless, icc: icc, exif: exif)
        case .avif:
            let target = PixelFormat(channels: image.format.hasAlpha ? 4 : 3, bitDepth: image.format.bitDepth)
            return try AVIFCodec.encode(image.converted(to: target), quantizer: QualityCurve.avifQuantizer(quality),
                                        alphaQuantizer: QualityCurve.avifAlphaQuantizer(quality),
                                        speed: options.speed ?? QualityCurve.avifDefaultSpeed, chroma: options.chroma,
                                        icc: icc, exif: exif)
        case .gif:
            return try GIFCodec.encode(image.converted(to: .rgba8), dither: options.dither)
        }
    }
}

extension EncodeOptions {
    /// Checks the numbers: ``quality`` 0–100, ``speed`` 0–10.
    /// Throws ``DarkroomError/invalidOption(name:value:expected:)``.
    public func validate() throws {
        if let q = quality, !(0...100).contains(q) {
            throw DarkroomError.invalidOption(name: "quality", value: String(q), expected: ValueParser.describe(0...100))
        }
        if let s = speed, !(0...10).contains(s) {
            throw DarkroomError.invalidOption(name: "speed", value: String(s), expected: ValueParser.describe(0...10))
        }
    }

    /// Checks what OpenAI refuses, when ``strictOpenAI`` is on. `image` enables the
    /// transparency check for JPEG.
    public func validateStrictOpenAI(image: Image? = nil) throws {
        guard strictOpenAI else { return }
        if format == .png, let q = quality, q < 100 {
            throw DarkroomError.openAIParity(
                code: "invalid_png_output_compression",
                message: "Compression less than 100 is not supported for PNG output format")
        }
        if format == .jpeg, let image, image.hasTransparency {
            throw DarkroomError.openAIParity(
                code: "invalid_jpeg_transparent_background",
                message: "Transparent background is not supported for JPEG output format")
        }
    }
}
