/// The bill for one reference image.
public struct ReferenceCost: Sendable, Equatable {
    /// A file path or `WxH`.
    public var source: String
    /// Upright size as given.
    public var width: Int
    public var height: Int
    /// Size after the 4 MP cap (equal to the input when not resized).
    public var resizedWidth: Int
    public var resizedHeight: Int
    /// At least 1.
    public var billedMegapixels: Int

    public var resized: Bool { resizedWidth != width || resizedHeight != height }

    public init(source: String, width: Int, height: Int, resizedWidth: Int, resizedHeight: Int, billedMegapixels: Int) {
        self.source = source
        self.width = width
        self.height = height
        self.resizedWidth = resizedWidth
        self.resizedHeight = resizedHeight
        self.billedMegapixels = billedMegapixels
    }

    /// `{"source","width","height","resized_width","resized_height","billed_mp"}`.
    public var json: JSONValue {
        .object(["source": .string(source), "width": .int(width), "height": .int(height),
                 "resized_width": .int(resizedWidth), "resized_height": .int(resizedHeight),
                 "billed_mp": .int(billedMegapixels)])
    }
}
