/// A ceiling on the output file's size (`--max-bytes`): ``Converter`` searches the quality of a
/// lossy output for the highest that fits, reusing the one decoded and resized image for every
/// encode.
///
/// - JPEG, lossy WebP and AVIF: the quality (0–100, ``EncodeOptions/quality``) is searched
///   between ``minQuality`` and a cap: ``EncodeOptions/quality`` when it is set, else 100. The
///   search starts at the cap, then interpolates the logarithm of the sizes seen along each
///   codec's quantiser scale, and is bounded so that it always ends within ``maxAttempts``
///   encodes with a quality Q that fits while Q + 1 does not (or Q is the cap): the highest that
///   fits wherever the size grows with quality, as it does but for rare steps of a few bytes. A
///   cap below ``minQuality`` makes the cap the only quality tried.
///   JPEG attempts always use optimised Huffman tables (``EncodeOptions/optimizeCoding``), the
///   smallest file at each quality.
/// - PNG, GIF and lossless WebP: one encode, met when it fits. Lossless WebP is not searched on
///   its effort, which changes the size by a few per cent at most.
///
/// When even the lowest quality tried does not fit, the output is the smallest attempt and
/// ``Outcome/met`` is false: the caller decides whether that is a failure (`--fail-on-unmet`).
public struct TargetSize: Sendable, Hashable {
    /// The largest output accepted, in bytes: 1 to ``Limits/maxByteCount`` (2^40), e.g. from
    /// ``ValueParser/byteSize(_:name:)``.
    public var maxBytes: Int
    /// The lowest quality the search may choose, 0–100 (``Limits/quality``); default 30
    /// (``defaultMinQuality``).
    public var minQuality: Int

    /// `--min-quality`'s default: 30.
    public static let defaultMinQuality = 30

    /// The most encodes one conversion makes under a target size: 8. The quality search keeps
    /// the qualities still possible within what the encodes left can settle by halving, so it
    /// always ends in time (at most 102 answers: unmet or a quality 0–100, and 2^8 = 256).
    public static let maxAttempts = 8

    /// `maxBytes` in bytes (1 to 2^40), `minQuality` 0–100. Checked by ``validate()``, which
    /// ``ConvertOptions/validate()`` calls.
    public init(maxBytes: Int, minQuality: Int = TargetSize.defaultMinQuality) {
        self.maxBytes = maxBytes
        self.minQuality = minQuality
    }

    /// Checks ``maxBytes`` (1 to ``Limits/maxByteCount``) and ``minQuality`` (``Limits/quality``).
    /// Throws ``DarkroomError/option(_:)`` naming `max-bytes` or `min-quality`.
    public func validate() throws(DarkroomError) {
        try ValueParser.check(maxBytes, name: "max-bytes", in: 1...Limits.maxByteCount)
        try ValueParser.check(minQuality, name: "min-quality", in: Limits.quality)
    }

    /// One encode of the search: its quality and its size.
    public struct Attempt: Sendable, Hashable {
        /// The quality encoded at (0–100); nil for a format without one (PNG, GIF, lossless WebP).
        public var quality: Int?
        /// The encoded size in bytes.
        public var bytes: Int

        public init(quality: Int?, bytes: Int) {
            self.quality = quality
            self.bytes = bytes
        }
    }

    /// What the search did (``ConversionResult/targetSize``).
    public struct Outcome: Sendable, Hashable {
        /// True when the output is at most ``TargetSize/maxBytes`` bytes.
        public var met: Bool
        /// The output's quality (0–100): the highest that fits, or when unmet the smallest
        /// attempt's; nil for PNG, GIF and lossless WebP.
        public var quality: Int?
        /// Every encode made, in order (1 to ``TargetSize/maxAttempts``).
        public var attempts: [Attempt]
        /// The target searched for.
        public var target: TargetSize

        public init(met: Bool, quality: Int?, attempts: [Attempt], target: TargetSize) {
            self.met = met
            self.quality = quality
            self.attempts = attempts
            self.target = target
        }
    }
}
