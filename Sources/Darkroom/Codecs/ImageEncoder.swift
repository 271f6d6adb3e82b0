/// Encodes an ``Image`` into any supported format.
public enum ImageEncoder {
    /// Encodes `image`. `metadata` supplies the ICC profile / EXIF kept by ``EncodeOptions/keep``;
    /// pixels are always upright, so a kept EXIF block is written with orientation 1.
    public static func encode(_ image: Image, metadata: ImageMetadata? = nil, options: EncodeOptions) throws -> [UInt8] {
        try options.validateStrictOpenAI(image: image)
        if let q = options.quality, !(0...100).contains(q) {
            throw DarkroomError.invalidOption(name: "quality", value: String(q), expected: "an integer 0-100")
        }
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
