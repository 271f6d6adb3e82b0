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

    public init(bytes: [UInt8], format: ImageFormat, width: Int, height: Int, inputPixels: Int = 0) {
        self.bytes = bytes
        self.format = format
        self.width = width
        self.height = height
        self.inputPixels = inputPixels
        billedMegapixels = MegapixelBilling.billed(PixelSize(width: width, height: height))
    }
}
