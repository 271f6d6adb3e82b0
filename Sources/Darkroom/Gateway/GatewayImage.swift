/// One encoded image the gateway returns: bytes plus what a response needs to describe it.
public struct GatewayImage: Sendable, Equatable {
    public var bytes: [UInt8]
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// `ceil(w·h / 1 MP)`.
    public var billedMegapixels: Int

    public init(bytes: [UInt8], format: ImageFormat, width: Int, height: Int) {
        self.bytes = bytes
        self.format = format
        self.width = width
        self.height = height
        billedMegapixels = MegapixelBilling.billedMegapixels(width: width, height: height)
    }
}
