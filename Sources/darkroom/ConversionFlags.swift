import ArgumentParser
import Darkroom

/// The encode/resize flags shared by `convert`, `decode` and `prep-refs`. Enumerated values parse
/// as their library enums (``ExpressibleByArgument`` below), so `--help` lists them and an unknown
/// value is a usage error naming the accepted ones; numbers go through ``ValueParser``.
struct ConversionFlags: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "Output format (default: keep the input's).")
    var format: ImageFormat?

    @Option(name: [.customShort("q"), .customLong("quality"), .customLong("compression")], parsing: .unconditional,
            help: "Quality 0-100, 100 = best (OpenAI's output_compression). Default: per-format web default.")
    var quality: String?

    @Option(name: [.customShort("r"), .long], parsing: .unconditional,
            help: "Resize geometry: 800x600, 800x, x600, 800x600^, 800x600!, 800x600>, 50%, 4194304@, 4mp.")
    var resize: String?

    @Option(help: "Resampling filter.")
    var filter: ResampleFilter = .lanczos3

    @Option(parsing: .unconditional, help: "Background colour that JPEG output flattens alpha onto (GIF keeps transparency: alpha below 128 is transparent, the rest opaque): #rrggbb, #rgb or a CSS colour name (white, black, navy, rebeccapurple, …).")
    var background: String = "white"

    @Option(help: ArgumentHelp("Metadata to keep: none, all, or a comma list such as icc,exif,xmp. provenance: only the IPTC DigitalSourceType label that marks AI images (in a minimal XMP packet); exif: without its thumbnail, orientation 1; xmp: the whole packet. A C2PA manifest is never kept; what is dropped is reported.", valueName: "LIST"))
    var keep: MetadataKeep = .default

    @Option(parsing: .unconditional, help: "Refuse inputs and outputs with more pixels than this (checked before decoding; 1 to 2^36).")
    var maxPixels: String = String(DecodeOptions.defaultMaxPixels)

    @Option(help: "Damaged input: none (convert what decodes, warn), truncated (refuse truncated or corrupt files), warning (refuse any decoder warning).")
    var failOn: FailOn = .truncated

    @Option(parsing: .unconditional, help: "Refuse a JPEG with more scans than this (a progressive file has about 10; thousands of tiny scans take minutes to decode; 1 to 65535).")
    var maxJpegScans: String = String(DecodeOptions.defaultMaxJPEGScans)

    @Flag(help: "JPEG: progressive encoding (always with optimised Huffman tables: libjpeg makes them for every scan).")
    var progressive = false

    @Flag(inversion: .prefixedNo, help: "JPEG: optimised Huffman tables (2-5% smaller files for about a sixth more CPU time and the whole image's coefficients in memory). Default: off, as in libvips and Pillow; always on with --max-bytes.")
    var optimizeCoding: Bool?

    @Option(help: "JPEG/AVIF chroma subsampling: auto (4:4:4 for AVIF at quality 90 or more, as libvips; 4:2:0 otherwise), 420 or 444.")
    var chroma: ChromaSubsampling = .auto

    @Flag(help: "WebP: lossless encoding.")
    var lossless = false

    @Option(parsing: .unconditional, help: "AVIF encoder speed 0 (slow, small) to 10 (fast); default 7.")
    var speed: String?

    @Flag(inversion: .prefixedNo, help: "GIF: Floyd–Steinberg dithering onto the palette (default off, as in Pillow and gifsicle: smaller files and higher PSNR; dithering hides banding in smooth gradients).")
    var dither = false

    @Flag(help: "Refuse what the OpenAI API refuses, as the gateway does: compression below 100 with PNG or GIF.")
    var strictOpenai = false

    @Option(parsing: .unconditional, help: "Threads per conversion, 1 to 256 (default: the cores left per parallel conversion; with 2 or more a resized JPEG is decoded on its own thread while it is resampled).")
    var threads: String?

    @Flag(help: "Decode at full size even when the resize shrinks a lot (no JPEG DCT / WebP scaled decoding).")
    var noShrinkOnLoad = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Target file size: the highest quality whose output fits (200k, 1.5M, 2MiB; k/M/G = 1000, KiB/MiB/GiB = 1024), at most 8 encodes of one decoded and resized image (an animation: one quality for every frame, each attempt a pass over the frames). JPEG, WebP and AVIF; PNG, GIF and lossless WebP are only checked.", valueName: "SIZE"))
    var maxBytes: String?

    @Option(parsing: .unconditional, help: "Lowest quality --max-bytes may choose, 0-100 (default 30). When even it does not fit, the smallest attempt is written and reported as unmet (exit 3).")
    var minQuality: String?

    @Flag(help: "With --max-bytes: a file that does not fit even at --min-quality is a failure and is not written.")
    var failOnUnmet = false

    @Flag(help: "Faster and softer: decode JPEG/WebP at the smallest scale that still covers the target (Pillow's draft) instead of twice the target.")
    var fast = false

    /// Validated library options. Throws ``DarkroomError/option(_:)``.
    /// `defaultThreads`: the threads per conversion when `--threads` is not given.
    func convertOptions(defaultThreads: Int = 1) throws(DarkroomError) -> ConvertOptions {
        let threads = try self.threads.map { (t) throws(DarkroomError) in try ValueParser.integer(t, name: "threads", in: 1...Limits.maxThreads) }
            ?? min(max(1, defaultThreads), Limits.maxThreads)
        let quality = try self.quality.map { (q) throws(DarkroomError) in try ValueParser.quality(q) }
        let speed = try self.speed.map { (s) throws(DarkroomError) in try ValueParser.integer(s, name: "speed", in: Limits.avifSpeed) }
        let resize = try self.resize.map { (r) throws(DarkroomError) in try ResizeGeometry(parsing: r) }
        let minQuality = try self.minQuality.map { (q) throws(DarkroomError) in try ValueParser.quality(q, name: "min-quality") }
        if minQuality != nil && maxBytes == nil {
            throw DarkroomError.option(OptionError(name: "min-quality", value: self.minQuality ?? "", expected: "a value together with --max-bytes"))
        }
        if let minQuality, let quality, minQuality > quality {
            throw DarkroomError.option(OptionError(name: "min-quality", value: self.minQuality ?? "",
                                                   expected: "at most the quality cap -q \(quality) (the search runs from -q down to --min-quality)"))
        }
        if failOnUnmet && maxBytes == nil {
            throw DarkroomError.option(OptionError(name: "fail-on-unmet", value: "", expected: "--max-bytes SIZE with it"))
        }
        if optimizeCoding == false && maxBytes != nil {
            throw DarkroomError.option(OptionError(name: "no-optimize-coding", value: "", expected: "no --max-bytes with it: a byte target always uses optimised Huffman tables (the smallest file at each quality)"))
        }
        let target = try maxBytes.map { (text) throws(DarkroomError) in
            TargetSize(maxBytes: try ValueParser.byteSize(text, name: "max-bytes"), minQuality: minQuality ?? TargetSize.defaultMinQuality)
        }
        return ConvertOptions(
            format: format, resize: resize,
            decode: DecodeOptions(maxPixels: try ValueParser.pixelLimit(maxPixels), failOn: failOn,
                                  maxJPEGScans: try ValueParser.integer(maxJpegScans, name: "max-jpeg-scans", in: 1...Limits.maxJPEGScanLimit)),
            encode: EncodeOptions(quality: quality, background: try RGBColor(parsing: background), keep: keep,
                                  progressive: progressive, chroma: chroma, lossless: lossless, speed: speed,
                                  dither: dither, optimizeCoding: optimizeCoding ?? false),
            resampling: ResizeOptions(filter: filter, threads: threads),
            shrinkOnLoad: !noShrinkOnLoad, fast: fast, targetSize: target)
    }

    /// With `--strict-openai`, the gateway's own check (``GatewayRequest/validate(strictOpenAI:)``)
    /// on the request this conversion stands for: `output_format` = the output format,
    /// `output_compression` = `-q`. So the CLI and the gateway give the same answer.
    func checkStrictOpenAI(format: ImageFormat, quality: Int?) throws(DarkroomError) {
        guard strictOpenai else { return }
        var request = GatewayRequest()
        request.outputFormat = format
        request.outputCompression = quality
        try request.validate(strictOpenAI: true)
    }
}

// Library enums as command-line values: `--help` lists `allValueStrings`, parsing is the enum's.
extension ImageFormat: ExpressibleByArgument {
    /// Accepts the format names and extensions `ImageFormat(name:)` knows (`jpg`, `JPEG`, …).
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
extension ResampleFilter: ExpressibleByArgument {}
extension MetadataKeep: ExpressibleByArgument {
    /// `none`, `all` or a comma list (``MetadataKeep/init(parsing:name:)``).
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
    public static var allValueStrings: [String] { ["none", "all"] + names.map(\.name) }
}
extension ChromaSubsampling: ExpressibleByArgument {}
extension FailOn: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}
extension AlphaHandling: ExpressibleByArgument {}
extension ReferenceFormat: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// `--max-input-bytes`, shared by `convert`, `decode` and `prep-refs`: checked in `validate()`
/// by ``ValueParser/byteCount(_:name:)`` (1 to 2^40).
struct InputLimitFlags: ParsableArguments {
    @Option(parsing: .unconditional,
            help: "Refuse inputs (files, standard input, response bodies, downloads) larger than this many bytes, 1 to 2^40 (268435456 = 256 MiB).")
    var maxInputBytes: String = String(InputFile.defaultMaxBytes)

    func validate() throws {
        do { _ = try ValueParser.byteCount(maxInputBytes, name: "max-input-bytes") } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The limit in bytes (validated before `run`).
    var bytes: Int { (try? ValueParser.byteCount(maxInputBytes, name: "max-input-bytes")) ?? InputFile.defaultMaxBytes }
}
