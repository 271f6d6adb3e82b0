/// How `output_compression` (0–100, 100 = best quality, largest file) maps onto each encoder.
///
/// | format | mapping of Q | web default (CLI) |
/// |---|---|---|
/// | JPEG | libjpeg quality = max(1, Q), scaling mozjpeg's MS-SSIM-tuned luma table and JPEG Annex K's chroma table (all ones at Q 100); 4:2:0 unless `chroma: .yuv444` | 85 |
/// | WebP | libwebp lossy quality = Q, method 4 (`lossless: true` ignores Q) | 80 |
/// | AVIF | aom quantizer = round(63·(100−Q)/100) for Q ≤ 80 (libavif 1.x's curve), then 8 + round(0.23·(100−Q)): Q 100 → 8 (visually lossless, never the lossless 0), Q 60 → 25, Q 0 → 63; alpha quantizer = half of it | 60 |
/// | PNG, GIF | ignored (lossless / palette); strict OpenAI mode rejects PNG with Q < 100 | — |
public enum QualityCurve {
    /// OpenAI's default `output_compression`.
    public static let openAIDefault = 100

    /// The quality used when none is given (CLI and library; the gateway mode uses 100).
    public static func webDefault(for format: ImageFormat) -> Int {
        switch format {
        case .jpeg: 85
        case .webp: 80
        case .avif: 60
        case .png, .gif: 100
        }
    }

    /// libjpeg-turbo quality (1–100).
    public static func jpegQuality(_ q: Int) -> Int { max(1, min(100, q)) }

    /// libwebp quality (0–100).
    public static func webpQuality(_ q: Int) -> Int { max(0, min(100, q)) }

    /// AV1 quantizer 8…63 for colour (lower = better): libavif 1.x's own curve
    /// round(63·(100−Q)/100) up to Q 80, then a straight line down to 8 at Q 100, so that
    /// Q 100 is visually lossless instead of libavif's mathematically lossless (and huge) 0.
    public static func avifQuantizer(_ q: Int) -> Int {
        let q = max(0, min(100, q))
        return q <= 80 ? (63 * (100 - q) + 50) / 100 : 8 + (23 * (100 - q) + 50) / 100
    }

    /// AV1 quantizer for the alpha plane.
    public static func avifAlphaQuantizer(_ q: Int) -> Int { avifQuantizer(q) / 2 }

    /// Default AVIF encoder speed (aom): chosen by measurement, see docs/performance.md.
    public static let avifDefaultSpeed = 7
}
