/// Megapixel billing as FLUX.2 gateways do it (Lumenfall pricing notes):
///
/// - 1 MP = 1,048,576 px; an image is billed `ceil(w·h / 1,048,576)` MP (integer arithmetic);
/// - every reference image is billed at least 1 MP;
/// - a reference over 4 MP (4,194,304 px) is first resized to fit within 4 MP
///   (s = √(4,194,304 / (w·h)), both sides floored), so it is billed 4 MP;
/// - the generated image is billed once per image (`n`).
public enum MegapixelBilling {
    /// One billing megapixel.
    public static let unit = Limits.megapixel
    /// The largest image count `estimate(references:output:n:…)` bills; a larger count is an error.
    public static let maxImageCount = 10_000
    /// References with more pixels than this are resized before use.
    public static let referenceMaxPixels = 4_194_304

    /// `ceil(width·height / 1,048,576)`, in integer arithmetic.
    ///
    /// Throws ``DarkroomError/option(_:)`` for a size that is no image (a side below 1, more than
    /// ``Limits/maxPixelLimit`` px in all): a caller's mistake is an error, never 0 MP.
    public static func billedMegapixels(width: Int, height: Int) throws(DarkroomError) -> Int {
        let size = PixelSize(width: width, height: height)
        try size.checkedAsImageSize()
        return billed(size)
    }

    /// ``billedMegapixels(width:height:)`` of a size the library checked (a decoded or encoded image).
    static func billed(_ size: PixelSize) -> Int {
        let (px, overflow) = max(0, size.width).multipliedReportingOverflow(by: max(0, size.height))
        if overflow { return Int.max / unit }
        return px / unit + (px % unit == 0 ? 0 : 1)
    }

    /// The size a reference is used at: fitted within `maxPixels` when larger, else unchanged.
    /// Throws as ``PixelSize/fitting(maxPixels:)``.
    public static func referenceSize(width: Int, height: Int, maxPixels: Int = referenceMaxPixels) throws(DarkroomError) -> PixelSize {
        try PixelSize(width: width, height: height).fitting(maxPixels: maxPixels)
    }

    /// What one reference costs: at least 1 MP, after its resize.
    /// Throws as ``PixelSize/fitting(maxPixels:)``.
    public static func referenceCost(width: Int, height: Int, source: String? = nil) throws(DarkroomError) -> ReferenceCost {
        let used = try referenceSize(width: width, height: height)
        return ReferenceCost(source: source ?? "\(width)x\(height)", width: width, height: height,
                             resizedWidth: used.width, resizedHeight: used.height,
                             billedMegapixels: max(1, billed(used)))
    }

    /// The whole bill for `references` (sizes as given, before any resize), `n` generated images
    /// of `output` size, and optional prices per megapixel.
    ///
    /// Throws ``DarkroomError/option(_:)`` for a size that is no image and for `n` outside
    /// 1…``maxImageCount`` (OpenAI's API takes 1–10; the CLI's `--n` too).
    public static func estimate(references: [(source: String, size: PixelSize)], output: PixelSize, n: Int = 1,
                                inputPricePerMP: Double? = nil, outputPricePerMP: Double? = nil) throws(DarkroomError) -> CostEstimate {
        try ValueParser.check(n, name: "n", in: 1...maxImageCount)
        var refs: [ReferenceCost] = []
        for reference in references {
            refs.append(try referenceCost(width: reference.size.width, height: reference.size.height, source: reference.source))
        }
        // At most 2^36 px = 65,536 MP per image, times at most 10,000 images: no overflow.
        let out = OutputCost(width: output.width, height: output.height, n: n,
                             billedMegapixels: try billedMegapixels(width: output.width, height: output.height) * n)
        return CostEstimate(references: refs, output: out,
                            inputPricePerMP: inputPricePerMP, outputPricePerMP: outputPricePerMP)
    }

    /// Convenience for references without names (named `WxH`). Throws as
    /// the named-references `estimate`.
    public static func estimate(references: [PixelSize], output: PixelSize, n: Int = 1,
                                inputPricePerMP: Double? = nil, outputPricePerMP: Double? = nil) throws(DarkroomError) -> CostEstimate {
        try estimate(references: references.map { (source: $0.description, size: $0) }, output: output, n: n,
                 inputPricePerMP: inputPricePerMP, outputPricePerMP: outputPricePerMP)
    }
}
