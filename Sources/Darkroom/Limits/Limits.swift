/// The bounds every value from outside is held to, and the size limits of each output format.
///
/// Every number that reaches pixel arithmetic has passed one of these bounds first (through
/// ``ValueParser`` or an options type's `validate()`), so no later product of sides, pixel
/// counts or byte counts can overflow `Int`.
public enum Limits {
    /// The largest pixel limit a caller may set (`--max-pixels`, ``DecodeOptions/maxPixels``):
    /// 2^36 = 68,719,476,736 px (64 Gpx). With at most 8 bytes per pixel (RGBA16) every buffer size
    /// stays below 2^39 bytes, far from overflow.
    public static let maxPixelLimit = 1 << 36

    /// The default pixel limit: 16,383 × 16,383 = 268,402,689 px, as sharp's `limitInputPixels`.
    /// It bounds what a decode reads (``DecodeOptions/maxPixels``) and what a library call that
    /// allocates an image from a caller's numbers may allocate (``Image/init(width:height:format:maxPixels:)``,
    /// ``Image/resized(width:height:options:maxPixels:)``) unless the caller raises it.
    public static let defaultMaxPixels = 268_402_689
    /// The default JPEG scan limit (``DecodeOptions/maxJPEGScans``): 500, as libjpeg-turbo's fuzz
    /// targets set TurboJPEG's `TJPARAM_SCANLIMIT`.
    public static let defaultMaxJPEGScans = 500
    /// The largest JPEG scan limit accepted: 65,535 (a JPEG cannot usefully hold more; the limit
    /// exists to be low).
    public static let maxJPEGScanLimit = 65_535

    /// The largest side a resize may produce, and the largest side accepted in a geometry, a
    /// `size` or an `aspect_ratio`: 65,536 px (AV1's largest frame side; WebP, GIF and JPEG hold
    /// less, see ``FormatLimits``). The resampler's coefficient tables grow with the output side,
    /// not its area, so a 1×16,777,216 target (16 MP, under the pixel limit) would otherwise
    /// take gigabytes and minutes; a target must also fit the pixel limit.
    public static let maxSide = 65_536

    /// One megapixel as the gateway bills it and every `Nmp` value means it: 1,048,576 px (2^20;
    /// the FLUX.2 gateways' unit, ``MegapixelBilling/unit``).
    public static let megapixel = 1 << 20

    /// The largest megapixel value accepted (`Nmp`, `--max-mp`, `max_mp`): ``maxPixelLimit`` / 1,048,576 = 65,536 MP.
    public static let maxMegapixels = Double(maxPixelLimit / megapixel)

    /// The largest scale factor accepted in a percentage geometry: 100,000 % (1000×).
    public static let maxPercent = 100_000.0

    /// The largest byte count a caller may set (`--max-input-bytes`, `--max-body-bytes`): 2^40 (1 TiB).
    public static let maxByteCount = 1 << 40

    /// The most resampling threads one resize may use.
    public static let maxThreads = 256

    /// Quality, 0–100 with 100 = best (OpenAI's `output_compression`, `--quality`, ``EncodeOptions/quality``).
    public static let quality = 0...100

    /// AVIF encoder speed, 0 (slowest, smallest) to 10 (fastest): libaom's range as libavif exposes it
    /// (``EncodeOptions/speed``, `--speed`).
    public static let avifSpeed = 0...10

    /// The largest XMP packet Darkroom reads or writes: 1 MiB (1,048,576 bytes; a JPEG holds at
    /// most 65,502 bytes of it in one APP1 segment, and extended XMP is not written). A larger
    /// packet is neither kept nor searched for the provenance label: it is dropped with a
    /// ``MetadataWarning``.
    public static let maxXMPBytes = 1 << 20

    /// The largest other metadata block read from a file: 1 MiB (1,048,576 bytes) for IPTC-IIM
    /// records, a PNG text chunk once inflated (`zTXt`, compressed `iTXt`) and the payload of a
    /// PNG `Raw profile type` chunk. A larger one is dropped with a ``MetadataWarning``; nothing
    /// larger is allocated.
    public static let maxMetadataBytes = 1 << 20
}
