/// Encodes an ``Image`` into any supported format.
public enum ImageEncoder {
    /// Encodes `image`. `metadata` supplies the ICC profile / EXIF kept by ``EncodeOptions/keep``.
    public static func encode(_ image: Image, metadata: ImageMetadata? = nil, options: EncodeOptions) throws -> [UInt8] {
        try options.validateStrictOpenAI(image: image)
        throw DarkroomError.encodeFailed(options.format, message: "not implemented")
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
