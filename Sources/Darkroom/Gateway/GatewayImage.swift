/// One encoded image the gateway returns: bytes plus what a response needs to describe it.
public struct GatewayImage: Sendable, Equatable {
    public var bytes: [UInt8]
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// `ceil(w·h / 1 MP)`.
    public var billedMegapixels: Int
    /// The input's stored size in pixels (width × height as decoded, before any resize; 0 when
    /// not known). For metrics: no header has to be read again.
    public var inputPixels: Int
    /// What the decoder warned about and ``DecodeOptions/failOn`` let through (empty for a clean
    /// input): with `fail_on=none` the image may have missing rows, and a caller must be able to tell.
    public var warnings: [DecodeWarning] = []
    /// Frames in the output: 1 for a still image, more for an animation (WebP, GIF, APNG, AVIF).
    public var frameCount: Int = 1
    /// Frames in the input (1 for a still image).
    public var sourceFrameCount: Int = 1
    /// Set when an animated input became its first frame only, without being asked to
    /// (``ConversionResult/framesDropped``): the output format (JPEG) cannot animate.
    public var framesDropped: ConversionResult.FramesDropped?
    /// Metadata of the input the output does not carry (``ConversionResult/metadataWarnings``):
    /// a C2PA manifest, a block the format cannot hold, a mismatched ICC profile.
    public var metadataWarnings: [MetadataWarning] = []
    /// True when the output is lossless WebP (an animated GIF at its own size without a quality,
    /// or ``EncodeOptions/lossless``): the quality asked was not used.
    public var lossless: Bool = false

    public init(bytes: [UInt8], format: ImageFormat, width: Int, height: Int, inputPixels: Int = 0) {
        self.bytes = bytes
        self.format = format
        self.width = width
        self.height = height
        self.inputPixels = inputPixels
        billedMegapixels = MegapixelBilling.billed(PixelSize(width: width, height: height))
    }
}
