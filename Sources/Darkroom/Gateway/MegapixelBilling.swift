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
    /// The largest image count `estimate(references:output:n:…)`
    /// bills; larger counts are clamped to it.
    public static let maxImageCount = 10_000
    /// References with more pixels than this are resized before use.
    public static let referenceMaxPixels = 4_194_304

    /// `ceil(width·height / 1,048,576)`, in integer arithmetic. Negative sides count as 0; a
    /// product beyond `Int` (no decodable image has one) saturates instead of trapping.
    public static func billedMegapixels(width: Int, height: Int) -> Int {
        let (px, overflow) = max(0, width).multipliedReportingOverflow(by: max(0, height))
        if overflow { return Int.max / unit }
        return px / unit + (px % unit == 0 ? 0 : 1)
    }

    /// The size a reference is used at: fitted within `maxPixels` when larger, else unchanged.
    public static func referenceSize(width: Int, height: Int, maxPixels: Int = referenceMaxPixels) -> PixelSize {
        PixelSize(width: width, height: height).fitting(maxPixels: maxPixels)
    }

    /// What one reference costs: at least 1 MP, after its resize.
    public static func referenceCost(width: Int, height: Int, source: String? = nil) -> ReferenceCost {
        let used = referenceSize(width: width, height: height)
        return ReferenceCost(source: source ?? "\(width)x\(height)", width: width, height: height,
                             resizedWidth: used.width, resizedHeight: used.height,
                             billedMegapixels: max(1, billedMegapixels(width: used.width, height: used.height)))
    }

    /// The whole bill for `references` (sizes as given, before any resize), `n` generated images
    /// of `output` size, and optional prices per megapixel.
    ///
    /// `n` is OpenAI's image count (1–10 in its API; the CLI's `--n` refuses anything else). Here it
    /// is clamped to 1…``maxImageCount``, so no count can make the bill negative or overflow.
    public static func estimate(references: [(source: String, size: PixelSize)], output: PixelSize, n: Int = 1,
                                inputPricePerMP: Double? = nil, outputPricePerMP: Double? = nil) -> CostEstimate {
        let refs = references.map { referenceCost(width: $0.size.width, height: $0.size.height, source: $0.source) }
        let count = min(max(n, 1), maxImageCount)
        let (total, overflow) = billedMegapixels(width: output.width, height: output.height).multipliedReportingOverflow(by: count)
        let out = OutputCost(width: output.width, height: output.height, n: count,
                             billedMegapixels: overflow ? Int.max : total)
        return CostEstimate(references: refs, output: out,
                            inputPricePerMP: inputPricePerMP, outputPricePerMP: outputPricePerMP)
    }

    /// Convenience for references without names (named `WxH`).
    public static func estimate(references: [PixelSize], output: PixelSize, n: Int = 1,
                                inputPricePerMP: Double? = nil, outputPricePerMP: Double? = nil) -> CostEstimate {
        estimate(references: references.map { (source: $0.description, size: $0) }, output: output, n: n,
                 inputPricePerMP: inputPricePerMP, outputPricePerMP: outputPricePerMP)
    }
}
