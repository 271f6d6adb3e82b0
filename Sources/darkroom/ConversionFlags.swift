import ArgumentParser
import Darkroom

/// The encode/resize flags shared by `convert`, `decode` and `prep-refs`.
struct ConversionFlags: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "Output format: png, jpeg, webp, avif or gif (default: keep the input's).")
    var format: String?

    @Option(name: [.customShort("q"), .customLong("quality"), .customLong("compression")], parsing: .unconditional,
            help: "Quality 0-100, 100 = best (OpenAI's output_compression). Default: per-format web default.")
    var quality: String?

    @Option(name: [.customShort("r"), .long],
            help: "Resize geometry: 800x600, 800x, x600, 800x600^, 800x600!, 800x600>, 50%, 4194304@, 4mp.")
    var resize: String?

    @Option(help: "Resampling filter: nearest, box, bilinear, catmull-rom, mitchell, lanczos2, lanczos3.")
    var filter: String = "lanczos3"

    @Option(help: "Background colour for flattening alpha (JPEG): #rrggbb, #rgb, white, black.")
    var background: String = "white"

    @Option(help: "Metadata to keep: none, icc, exif, all. Orientation is always written as 1.")
    var keep: String = "none"

    @Option(parsing: .unconditional, help: "Refuse inputs and outputs with more pixels than this (checked before decoding; 1 to 2^36).")
    var maxPixels: String = String(DecodeOptions.defaultMaxPixels)

    @Option(help: "Damaged input: none (convert what decodes, warn), truncated (refuse truncated or corrupt files), warning (refuse any decoder warning).")
    var failOn: String = FailOn.truncated.rawValue

    @Flag(help: "JPEG: progressive encoding.")
    var progressive = false

    @Option(help: "JPEG/AVIF chroma subsampling: 420 or 444.")
    var chroma: String = "420"

    @Flag(help: "WebP: lossless encoding.")
    var lossless = false

    @Option(parsing: .unconditional, help: "AVIF encoder speed 0 (slow, small) to 10 (fast); default 7.")
    var speed: String?

    @Flag(name: .customLong("no-dither"), help: "GIF: no dithering.")
    var noDither = false

    @Flag(help: "Reject what the OpenAI API rejects (PNG with compression < 100, transparent JPEG).")
    var strictOpenai = false

    @Option(parsing: .unconditional, help: "Threads for resampling (1 to 256).")
    var threads: String = "1"

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
        let quality = try self.quality.map { try ValueParser.quality($0) }
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
        let speed = try self.speed.map { try ValueParser.integer($0, name: "speed", in: 0...10) }
        let maxPixels = try ValueParser.pixelLimit(self.maxPixels)
        let threads = try ValueParser.integer(self.threads, name: "threads", in: 1...Limits.maxThreads)
        let failOn = try FailOn(parsing: self.failOn)
        var options = ConvertOptions(
            format: format, quality: quality, resize: try resize.map { try ResizeGeometry(parsing: $0) },
            resizeOptions: ResizeOptions(filter: filter, threads: threads),
            background: try RGBColor(parsing: background), keep: keep, maxPixels: maxPixels,
            progressive: progressive, chroma: chroma, lossless: lossless, speed: speed,
            dither: !noDither, strictOpenAI: strictOpenai)
        options.shrinkOnLoad = !noShrinkOnLoad
        options.failOn = failOn
        return options
    }
}

/// `--max-input-bytes`, shared by `convert`, `decode` and `prep-refs`: checked in `validate()`
/// by ``ValueParser/byteCount(_:name:)`` (1 to 2^40).
struct InputLimitFlags: ParsableArguments {
    @Option(parsing: .unconditional,
            help: "Refuse inputs (files, standard input, response bodies, downloads) larger than this many bytes, 1 to 2^40 (268435456 = 256 MiB).")
    var maxInputBytes: String = String(InputReader.defaultMaxBytes)

    func validate() throws {
        do { _ = try ValueParser.byteCount(maxInputBytes, name: "max-input-bytes") } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The limit in bytes (validated before `run`).
    var bytes: Int { (try? ValueParser.byteCount(maxInputBytes, name: "max-input-bytes")) ?? InputReader.defaultMaxBytes }
}
