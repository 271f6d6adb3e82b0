import ArgumentParser
import Darkroom

/// The encode/resize flags shared by `convert`, `decode` and `prep-refs`.
struct ConversionFlags: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "Output format: png, jpeg, webp, avif or gif (default: keep the input's).")
    var format: String?

    @Option(name: [.customShort("q"), .customLong("quality"), .customLong("compression")],
            help: "Quality 0-100, 100 = best (OpenAI's output_compression). Default: per-format web default.")
    var quality: Int?

    @Option(name: [.customShort("r"), .long],
            help: "Resize geometry: 800x600, 800x, x600, 800x600^, 800x600!, 800x600>, 50%, 4194304@, 4mp.")
    var resize: String?

    @Option(help: "Resampling filter: nearest, box, bilinear, catmull-rom, mitchell, lanczos2, lanczos3.")
    var filter: String = "lanczos3"

    @Option(help: "Background colour for flattening alpha (JPEG): #rrggbb, #rgb, white, black.")
    var background: String = "white"

    @Option(help: "Metadata to keep: none, icc, exif, all. Orientation is always written as 1.")
    var keep: String = "none"

    @Option(help: "Refuse inputs with more pixels than this (checked before decoding).")
    var maxPixels: Int = DecodeOptions.defaultMaxPixels

    @Flag(help: "JPEG: progressive encoding.")
    var progressive = false

    @Option(help: "JPEG/AVIF chroma subsampling: 420 or 444.")
    var chroma: String = "420"

    @Flag(help: "WebP: lossless encoding.")
    var lossless = false

    @Option(help: "AVIF encoder speed 0 (slow, small) to 10 (fast); default 7.")
    var speed: Int?

    @Flag(name: .customLong("no-dither"), help: "GIF: no dithering.")
    var noDither = false

    @Flag(help: "Reject what the OpenAI API rejects (PNG with compression < 100, transparent JPEG).")
    var strictOpenai = false

    @Option(help: "Threads for resampling.")
    var threads: Int = 1

    @Flag(help: "Decode at full size even when the resize shrinks a lot (no JPEG DCT / WebP scaled decoding).")
    var noShrinkOnLoad = false

    /// Validated library options. Throws ``DarkroomError/invalidOption(name:value:expected:)``.
    func convertOptions() throws -> ConvertOptions {
        var format: ImageFormat?
        if let name = self.format {
            guard let f = ImageFormat(name: name) else {
                throw DarkroomError.invalidOption(name: "format", value: name, expected: "png, jpeg, webp, avif or gif")
            }
            format = f
        }
        if let q = quality, !(0...100).contains(q) {
            throw DarkroomError.invalidOption(name: "quality", value: String(q), expected: "an integer 0-100")
        }
        guard let filter = ResampleFilter(rawValue: filter) else {
            throw DarkroomError.invalidOption(name: "filter", value: filter,
                                              expected: ResampleFilter.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let keep = MetadataKeep(rawValue: keep) else {
            throw DarkroomError.invalidOption(name: "keep", value: keep, expected: "none, icc, exif or all")
        }
        guard let chroma = ChromaSubsampling(rawValue: chroma) else {
            throw DarkroomError.invalidOption(name: "chroma", value: chroma, expected: "420 or 444")
        }
        if let s = speed, !(0...10).contains(s) {
            throw DarkroomError.invalidOption(name: "speed", value: String(s), expected: "an integer 0-10")
        }
        guard maxPixels > 0 else {
            throw DarkroomError.invalidOption(name: "max-pixels", value: String(maxPixels), expected: "a positive integer")
        }
        guard threads >= 1 else {
            throw DarkroomError.invalidOption(name: "threads", value: String(threads), expected: "a positive integer")
        }
        var options = ConvertOptions(
            format: format, quality: quality, resize: try resize.map { try ResizeGeometry(parsing: $0) },
            resizeOptions: ResizeOptions(filter: filter, threads: threads),
            background: try RGBColor(parsing: background), keep: keep, maxPixels: maxPixels,
            progressive: progressive, chroma: chroma, lossless: lossless, speed: speed,
            dither: !noDither, strictOpenAI: strictOpenai)
        options.shrinkOnLoad = !noShrinkOnLoad
        return options
    }
}
