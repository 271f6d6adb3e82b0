/// The bill for the generated image(s).
public struct OutputCost: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var n: Int
    /// `ceil(w·h / 1 MP) · n`.
    public var billedMegapixels: Int

    public init(width: Int, height: Int, n: Int, billedMegapixels: Int) {
        self.width = width
        self.height = height
        self.n = n
        self.billedMegapixels = billedMegapixels
    }

    /// `{"width","height","n","billed_mp"}`.
    public var json: JSONValue {
        .object(["width": .int(width), "height": .int(height), "n": .int(n), "billed_mp": .int(billedMegapixels)])
    }
}
