import ArgumentParser
import Darkroom
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#endif

/// `darkroom decode`: turn an OpenAI / gateway images response into image files.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Write the images of an OpenAI/gateway images response (JSON) to files.",
        discussion: """
            Every data[].b64_json item is decoded, its real format sniffed from the bytes, optionally \
            converted (when any conversion flag is given) and written atomically. url items are listed, \
            or fetched with --download. Bad items are reported as 'darkroom: FILE: item N: reason'; the \
            others are still written. Exit status 1 when any item failed. A streamed response \
            (server-sent events) is read too: each *.completed event is one image.
            Name placeholders: {created} (unix time; the response file's stem when missing), {index} \
            (from 0), {n} (from 1), {ext} (png, jpg, webp, avif, gif), {format}, {stem} (response file \
            name without extension, 'stdin' for -).
            The output folder is created if missing. A file name that would replace the response \
            file, or that an earlier item of the run already used, fails that item. The response is \
            refused when it is larger than --max-input-bytes.
            Example: curl ... | darkroom decode - -o out --sidecar -f webp -q 80
            """)

    @Argument(help: "Response JSON file, or - for standard input.")
    var response: String

    @Option(name: [.customShort("o"), .customLong("out-dir")], help: "Output folder (created if missing).")
    var outDir: String = "."

    @Option(help: "File name template.")
    var name: String = OutputNameTemplate.defaultTemplate

    @Flag(help: "Also write <name>.json per image with revised_prompt and usage.")
    var sidecar = false

    @Flag(help: "Fetch url items (otherwise they are only listed).")
    var download = false

    @Flag(help: "Replace existing files.")
    var overwrite = false

    @Flag(help: "Print a JSON array with one object per item.")
    var json = false

    @OptionGroup var inputLimit: InputLimitFlags
    var maxInputBytes: Int { inputLimit.bytes }

    @OptionGroup(title: "Conversion (any of these converts the images)")
    var conversion: ConversionFlags

    /// True when the conversion flags ask for a conversion: `options` differ from what no flag
    /// gives (threads aside: they change no output), or --strict-openai or an explicit
    /// --[no-]optimize-coding is given. The defaults come from the flags themselves, not a copy.
    func wantsConversion(_ options: ConvertOptions) throws -> Bool {
        var defaults = try ConversionFlags.parse([]).convertOptions(defaultThreads: options.resampling.threads)
        defaults.resampling.threads = options.resampling.threads
        return options != defaults || conversion.strictOpenai || conversion.optimizeCoding != nil
    }

    func run() throws {
        let template: OutputNameTemplate
        var converter: Converter?
        let decodeOptions: DecodeOptions
        do {
            template = try OutputNameTemplate(name)
            let options = try conversion.convertOptions(defaultThreads: ProcessInfo.processInfo.activeProcessorCount)
            decodeOptions = options.decode
            if try wantsConversion(options) { converter = Converter(options: options) }
            if let format = options.format { try conversion.checkStrictOpenAI(format: format, quality: options.encode.quality) }
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }

        let parsed: ImagesResponse
        do {
            let body = try InputFile.read(response, limit: maxInputBytes, image: false)
            parsed = try ImagesResponse(parsing: Data(body))
        } catch {
            Console.error(response, error)
            if json { Console.json([["source": .string(response), "error": .string(describe(error))]]) }
            throw ExitCode(ExitStatus.someFailed)
        }

        try OutputFolders.prepareOrExit(outDir)
        let guardian = OutputGuard(inputs: [response])
        let stem = PathText.stem(response)
        var report: [JSONValue] = []
        var failed = false
        for (index, content) in parsed.contents().enumerated() {
            var entry: [String: JSONValue] = ["index": .int(index)]
            do {
                var bytes: [UInt8]
                switch try content.get() {
                case let .image(b, _):
                    bytes = b
                case let .url(url):
                    entry["url"] = .string(url)
                    guard download else {
                        entry["status"] = "listed"
                        if !json { Console.line("item \(index): \(url) (not downloaded; use --download)") }
                        report.append(.object(entry))
                        continue
                    }
                    bytes = try Self.fetch(url, index: index, limit: maxInputBytes)
                    guard ImageFormat.sniff(bytes) != nil else {
                        throw GatewayError.badItem(index: index, reason: "\(url) is not a PNG, JPEG, WebP, AVIF or GIF image")
                    }
                }
                let format: ImageFormat, width: Int, height: Int, warnings: [DecodeWarning]
                if let converter {
                    let r: ConversionResult
                    do {
                        if converter.options.format == nil, let format = ImageFormat.sniff(bytes) {
                            try conversion.checkStrictOpenAI(format: format, quality: converter.options.encode.quality)
                        }
                        r = try converter.convert(bytes)
                    } catch { throw GatewayError.badItem(index: index, reason: describe(error)) }
                    (bytes, format, width, height, warnings) = (r.bytes, r.format, r.width, r.height, r.warnings)
                } else {
                    let decoded: DecodedImage
                    do { decoded = try ImageDecoder.decode(bytes, options: decodeOptions) } catch {
                        throw GatewayError.badItem(index: index, reason: describe(error))
                    }
                    (format, width, height) = (decoded.metadata.sourceFormat, decoded.image.width, decoded.image.height)
                    warnings = decoded.metadata.warnings
                }
                for warning in warnings {
                    Console.info("darkroom: \(response): item \(index): \(warning) (written anyway: --fail-on \(decodeOptions.failOn))")
                }
                if !warnings.isEmpty { entry["warnings"] = .array(warnings.map(\.json)) }
                let fileName = template.render(created: parsed.created, index: index, format: format, stem: stem)
                let path = PathText.join(outDir, fileName)
                let sidecarPath = PathText.deletingExtension(path) + ".json"
                try guardian.claim(path, for: "item \(index)")
                if sidecar { try guardian.claim(sidecarPath, for: "item \(index) (sidecar)") }
                try OutputFile.write(bytes, to: path, overwrite: overwrite)
                entry.merge(["status": "written", "path": .string(path), "format": .string(format.rawValue), "width": .int(width),
                             "height": .int(height), "bytes": .int(bytes.count)]) { $1 }
                if sidecar {
                    var meta: [String: JSONValue] = ["index": .int(index), "file": .string(fileName),
                                                     "format": .string(format.rawValue), "width": .int(width), "height": .int(height)]
                    if let created = parsed.created { meta["created"] = .int(created) }
                    if let prompt = parsed.data[index].revisedPrompt { meta["revised_prompt"] = .string(prompt) }
                    if let usage = parsed.usage { meta["usage"] = usage }
                    if let size = parsed.size { meta["size"] = .string(size) }
                    if let of = parsed.outputFormat { meta["output_format"] = .string(of) }
                    try OutputFile.write([UInt8](JSONValue.object(meta).jsonData()) + [0x0A], to: sidecarPath, overwrite: overwrite)
                    entry["sidecar"] = .string(sidecarPath)
                }
                if !json { Console.line("item \(index): \(path) (\(format), \(width)x\(height))") }
            } catch {
                Console.error(response, GatewayError.badItem(index: index, reason: describe(error)))
                entry["status"] = "error"
                entry["error"] = .string(describe(error))
                failed = true
            }
            report.append(.object(entry))
        }
        if json { Console.json(.array(report)) }
        if failed { throw ExitCode(ExitStatus.someFailed) }
    }

    private func describe(_ error: Error) -> String {
        if let e = error as? GatewayError, case let .badItem(_, reason) = e { return reason }
        if let e = error as? DarkroomError, case let .gateway(.badItem(_, reason)) = e { return reason }
        if let e = error as? DarkroomError { return e.message(for: .commandLine) }
        return "\(error)"
    }

    /// Fetches a URL synchronously; errors become ``GatewayError/badItem(index:reason:)``.
    /// A file:// URL is read with ``InputFile`` under `limit` bytes; an http(s) URL through
    /// ``Download`` (the system `curl`), also under `limit` bytes and time-limited.
    static func fetch(_ text: String, index: Int, limit: Int = InputFile.defaultMaxBytes) throws -> [UInt8] {
        if Console.hasControlCharacters(text) {
            // (A NUL would end the URL where curl reads it: another resource than the one named.)
            throw GatewayError.badItem(index: index, reason: "the URL holds control characters")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https", "file"].contains(scheme) else {
            throw GatewayError.badItem(index: index, reason: "'\(text)' is not an http(s) URL")
        }
        if scheme == "file" {
            // Only a regular file: opening a FIFO would wait for a writer forever, a device never ends.
            var st = stat()
            if stat(url.path, &st) == 0 && st.st_mode & S_IFMT != S_IFREG {
                throw GatewayError.badItem(index: index, reason: "\(url.path) is not a regular file")
            }
            do {
                // As an image: the first 32 bytes are sniffed before the rest is read, so an endless
                // stream that is no image (file:///dev/zero) is refused at once.
                return try InputFile.read(url.path, limit: limit, image: true)
            } catch {
                if case let .file(.io(path, message)) = error {
                    throw GatewayError.badItem(index: index, reason: "cannot read \(path): \(message)")
                }
                throw GatewayError.badItem(index: index, reason: error.message(for: .commandLine))
            }
        }
        // http(s): the system curl in a child process (no libcurl/FoundationNetworking in this binary).
        return try Download.fetch(text, index: index, limit: limit)
    }
}
