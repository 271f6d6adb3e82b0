/// Options for ``ReferencePrep``. The defaults are the FLUX.2 gateway rules: at most 10 images,
/// each at most 4 MP (4,194,304 px), PNG/JPEG/WebP kept as they are.
public struct ReferencePrepOptions: Sendable, Hashable {
    /// Images with more pixels than this are resized (Lanczos-3) to fit within it.
    public var maxPixels: Int
    /// Output format; `.keep` keeps the input's.
    public var format: ReferenceFormat
    /// Most images per request; more is an error before any image is read.
    public var maxReferences: Int
    /// Quality when a reference has to be re-encoded as JPEG / WebP.
    public var jpegQuality: Int
    public var webpQuality: Int
    /// Decoder pixel limit (decompression-bomb guard), checked before decoding.
    public var maxInputPixels: Int
    /// How much damage the decoder tolerates; default: a truncated or corrupt reference is an error.
    public var failOn: FailOn = .truncated
    /// Most scans a JPEG reference may have (``DecodeOptions/maxJPEGScans``), 1...``Limits/maxJPEGScanLimit``;
    /// more is ``ImageDecodingError/tooManyScans(limit:)`` before any row is decoded.
    public var maxJPEGScans: Int = DecodeOptions.defaultMaxJPEGScans
    /// Threads per reference, 1...``Limits/maxThreads`` (as ``ResizeOptions/threads``): with 2 or
    /// more, a resized JPEG or PNG is decoded on its own thread while it is resampled.
    public var threads: Int = 1
    /// JPEG: optimised Huffman tables (``EncodeOptions/optimizeCoding``). Off for references: at
    /// quality 95 they save 1.7 % of the bytes for 22 % of the conversion time (docs/performance.md, "Encoder
    /// defaults"), and a gateway waits for its references.
    public var optimizeCoding = false
    /// The moment a preparation must stop by (``ConvertOptions/deadline``); `nil`: no limit. Past
    /// it ``ReferencePrep/prepare(bytes:name:options:)`` throws ``DarkroomError/timeLimit(_:)``.
    public var deadline: Deadline?

    public static let defaultMaxPixels = MegapixelBilling.referenceMaxPixels
    public static let defaultMaxReferences = 10
    /// The input formats references may have.
    public static let acceptedFormats: [ImageFormat] = [.png, .jpeg, .webp]

    public init(maxPixels: Int = ReferencePrepOptions.defaultMaxPixels, format: ReferenceFormat = .keep,
                maxReferences: Int = ReferencePrepOptions.defaultMaxReferences, jpegQuality: Int = 95,
                webpQuality: Int = 95, maxInputPixels: Int = DecodeOptions.defaultMaxPixels) {
        self.maxPixels = maxPixels
        self.format = format
        self.maxReferences = maxReferences
        self.jpegQuality = jpegQuality
        self.webpQuality = webpQuality
        self.maxInputPixels = maxInputPixels
    }

    /// Checks every number: ``maxPixels`` and ``maxInputPixels`` in 1...``Limits/maxPixelLimit``,
    /// ``maxReferences`` at least 1, qualities 0–100, ``threads`` 1...``Limits/maxThreads``, ``maxJPEGScans`` 1...``Limits/maxJPEGScanLimit``. ``ReferencePrep/prepare(bytes:name:options:)``
    /// calls it first. Throws ``DarkroomError/option(_:)``.
    public func validate() throws(DarkroomError) {
        try ValueParser.check(maxPixels, name: "max-pixels", in: 1...Limits.maxPixelLimit)
        try ValueParser.check(maxInputPixels, name: "max-input-pixels", in: 1...Limits.maxPixelLimit)
        try ValueParser.check(maxReferences, name: "max-refs", in: 1...Int.max)
        try ValueParser.check(jpegQuality, name: "jpeg quality", in: Limits.quality)
        try ValueParser.check(webpQuality, name: "webp quality", in: Limits.quality)
        try ValueParser.check(threads, name: "threads", in: 1...Limits.maxThreads)
        try ValueParser.check(maxJPEGScans, name: "max-jpeg-scans", in: 1...Limits.maxJPEGScanLimit)
    }
}
