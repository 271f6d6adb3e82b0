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
            Example: curl ... | darkroom decode - --out-dir out --sidecar -f webp -q 80
            """)

    @Argument(help: "Response JSON files, folders of them (*.json and files that start with '{' or an event stream), quoted patterns, or - for standard input.")
    var responses: [String] = []

    @Option(parsing: .unconditional, help: "Output folder (created if missing).")
    var outDir: String = "."

    /// The folder, under its old short name: `-o` names an output file in `convert`.
    @Option(name: .customShort("o"), parsing: .unconditional, help: .hidden)
    var oldOutDir: String?

    @Option(help: "File name template.")
    var name: String = OutputNameTemplate.defaultTemplate

    @Flag(help: "Also write <name>.json per image with revised_prompt and usage.")
    var sidecar = false

    @Flag(help: "Fetch url items (otherwise they are only listed).")
    var download = false

    @Flag(name: .customLong("allow-file-urls"), help: "With --download, also read file:// url items (local files; refused otherwise).")
    var allowFileURLs = false

    @Flag(help: "Print one JSON object per response file on standard output as each finishes (JSON Lines; its items inside), then a summary object.")
    var json = false

    @OptionGroup(title: "Batches") var batch: BatchFlags

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

    func validate() throws {
        if responses.isEmpty && batch.fromList == nil { throw ValidationError("no response: name files, folders or patterns, - for standard input, or give --from-list FILE") }
        if outDir.isEmpty || oldOutDir == "" { throw ValidationError("--out-dir needs a folder name") }
    }

    /// A folder member is a response when it is named *.json or starts (after spaces) with '{'
    /// or an event-stream field.
    static func responseFilter(_ path: String) -> (accept: Bool, format: ImageFormat?) {
        if PathText.pathExtension(path).lowercased() == "json" { return (true, nil) }
        // The first 64 bytes only: a folder walk looks at every file.
        let fd = fsOpen(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return (false, nil) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, 64)
        guard n > 0 else { return (false, nil) }
        let head = buffer.prefix(n)
        let text = String(decoding: head.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }), as: UTF8.self)
        return (text.hasPrefix("{") || text.hasPrefix("event:") || text.hasPrefix("data:"), nil)
    }

    func run() throws {
        let template: OutputNameTemplate
        var converterIfAny: Converter?
        let decodeOptions: DecodeOptions
        let planned: BatchInputs
        let workers: Int
        let folder = oldOutDir ?? outDir
        if oldOutDir != nil { Console.info("darkroom: decode: -o is the old name of --out-dir (in every other command -o names one output file)") }
        do {
            template = try OutputNameTemplate(name)
            planned = try batch.inputs(responses, maxListBytes: maxInputBytes, memberFilter: Self.responseFilter, outputFolder: folder)
            let parallel = try batch.workers(for: planned.selected.count)
            workers = parallel.workers
            let options = try conversion.convertOptions(defaultThreads: parallel.threadsEach)
            decodeOptions = options.decode
            if try wantsConversion(options) { converterIfAny = Converter(options: options) }
            if let format = options.format { try conversion.checkStrictOpenAI(format: format, quality: options.encode.quality) }
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        let guardian = OutputGuard(inputs: planned.selected.map { planned.all[$0].path })
        try batch.checkReportOrExit(guardian: guardian, outputs: [])
        let reporter = try batch.startReporter(command: "decode", doneWord: "written", json: json, planned: planned,
                                               outputFolder: folder, sweep: [folder])
        let converter = converterIfAny
        BatchJobs.forEach(planned.selected, workers: workers) { index in
            let response = planned.all[index].path
            var item = ItemReport(input: response, index: index)
            if batch.dryRun {
                item.status = .planned
                reporter.record(item, line: "\(InputFile.displayName(response)): to be decoded into \(folder)")
                return
            }
            let (entries, bytesRead) = decodeResponse(response, folder: folder, template: template, converter: converter,
                                         decodeOptions: decodeOptions, guardian: guardian, singleResponse: planned.selected.count == 1)
            item.details["items"] = .array(entries.map { .object($0) })
            let statuses = entries.compactMap { $0["status"]?.stringValue }
            if entries.isEmpty {
                // A response whose `data` holds no image: said, not only counted.
                item.status = .failed
                item.error = "the response holds no image (its data list is empty)"
                Console.info("darkroom: \(InputFile.displayName(response)): \(item.error!)")
            } else if statuses.contains("error") {
                item.status = .failed
                item.error = entries.first(where: { $0["status"]?.stringValue == "error" })?["error"]?.stringValue ?? "no item written"
            } else if !statuses.contains("written") && !statuses.contains("listed") && statuses.contains("skipped") {
                item.status = .skipped
            }
            item.inputBytes = bytesRead
            item.outputBytes = entries.compactMap { $0["bytes"]?.intValue }.reduce(0, +)
            let written = entries.filter { $0["status"]?.stringValue == "written" }.count
            let line = "\(InputFile.displayName(response)): \(written) of \(entries.count) image\(entries.count == 1 ? "" : "s") written"
            reporter.record(item, line: planned.selected.count == 1 ? nil : line)
        }
        Signals.onInterrupt(nil)
        let status = reporter.finish()
        if status != 0 { throw ExitCode(status) }
    }

    /// Decodes one response file; one entry per item (`status`: written, listed, skipped or error).
    ///
    /// The response is read as a stream (``ImagesResponseReader``): each item's `b64_json` is
    /// decoded while it is read and the item is written before the next one is read. Without a
    /// conversion, the decoded bytes go straight to a pending output file (``SpooledImage``), which
    /// is checked from the file a few rows at a time (``ImageDecoder/check(fileDescriptor:name:options:)``)
    /// and then given its name, so memory holds neither the document nor the image nor its
    /// pixels; with a conversion, the item's bytes are held for the converter. `usage`, `size` and
    /// `output_format` follow `data` in OpenAI's responses: the sidecars are written once the
    /// document ends. Items wait for `created` only when the name template uses it and the
    /// document has not given it yet (their pending files wait with them).
    private func decodeResponse(_ response: String, folder outDir: String, template: OutputNameTemplate, converter: Converter?,
                                decodeOptions: DecodeOptions, guardian: OutputGuard, singleResponse: Bool) -> (entries: [[String: JSONValue]], bytesRead: Int) {
        let reader: ImagesResponseReader
        do {
            reader = try ImagesResponseReader(path: response, maxBytes: maxInputBytes)
        } catch {
            Console.error(response, error)
            return ([["index": -1, "status": "error", "error": .string(describe(error))]], 0)
        }
        let stem = PathText.stem(response)
        var report: [[String: JSONValue]] = []
        var sidecars: [(path: String, meta: [String: JSONValue])] = []
        var held: [(Int, ResponseItem, SpooledImage?)] = []
        let needsCreated = template.template.contains("{created}")
        // The item being read's image, when its b64_json streams into a pending file.
        var spooling: SpooledImage?
        if converter == nil {
            reader.imageSink = { _ in
                let spool = SpooledImage(folder: outDir)
                spooling = spool
                return spool
            }
        }
        func process(_ index: Int, _ item: ResponseItem, _ spooled: SpooledImage?) {
            let image: ItemImage
            if let spooled, item.streamedByteCount != nil {
                image = .spooled(spooled, problem: item.problem)
            } else {
                image = .content(Result { () throws(DarkroomError) in try item.content(index: index) })
            }
            let (entry, sidecarFile) = decodeItem(index: index, image: image,
                                                  revisedPrompt: item.revisedPrompt, created: reader.created, response: response,
                                                  stem: stem, outDir: outDir, template: template, converter: converter,
                                                  decodeOptions: decodeOptions, guardian: guardian, singleResponse: singleResponse)
            spooled?.discard()   // published or failed: no pending file stays open
            report.append(entry)
            if let sidecarFile { sidecars.append(sidecarFile) }
        }
        var index = 0
        do {
            while let item = try reader.next() {
                let spooled = spooling
                spooling = nil
                if needsCreated && reader.created == nil {
                    held.append((index, item, spooled))
                } else {
                    for (i, waiting, s) in held { process(i, waiting, s) }
                    held.removeAll()
                    process(index, item, spooled)
                }
                index += 1
            }
            for (i, waiting, s) in held { process(i, waiting, s) }
        } catch {
            spooling?.discard()   // the item the document broke in
            for (i, waiting, s) in held { process(i, waiting, s) }
            Console.error(response, error)
            report.append(["index": .int(index), "status": "error", "error": .string(describe(error))])
        }
        for (path, var meta) in sidecars {
            if let usage = reader.usage { meta["usage"] = usage }
            if let size = reader.size { meta["size"] = .string(size) }
            if let of = reader.outputFormat { meta["output_format"] = .string(of) }
            do {
                try OutputFile.write([UInt8](JSONValue.object(meta).jsonData()) + [0x0A], to: path, overwrite: batch.overwrite)
            } catch {
                Console.error(response, error)
                report.append(["index": meta["index"] ?? .null, "status": "error", "error": .string(describe(error))])
            }
        }
        return (report, reader.bytesRead)
    }

    /// Where an item's image is: its content (bytes in memory, or a link), or a pending file its
    /// `b64_json` was decoded into (with the item's problem, if it has one).
    private enum ItemImage {
        case content(Result<ResponseItemContent, DarkroomError>)
        case spooled(SpooledImage, problem: String?)
    }

    /// One item: fetched or decoded, converted when asked, checked, written; its report entry and
    /// the sidecar to write once the response ends.
    private func decodeItem(index: Int, image: ItemImage, revisedPrompt: String?, created: Int?,
                            response: String, stem: String, outDir: String, template: OutputNameTemplate, converter: Converter?,
                            decodeOptions: DecodeOptions, guardian: OutputGuard,
                            singleResponse: Bool) -> ([String: JSONValue], (path: String, meta: [String: JSONValue])?) {
        var sidecarFile: (path: String, meta: [String: JSONValue])?
            var entry: [String: JSONValue] = ["index": .int(index)]
            do {
                var bytes: [UInt8] = []
                // The image's pending file, when it is in one (else it is `bytes`).
                var pending: OutputFile.Pending?
                let content: ResponseItemContent
                switch image {
                case let .content(result):
                    content = try result.get()
                case let .spooled(spooled, problem):
                    // The checks of `ResponseItem.content(index:)`, in its order.
                    if let problem { throw GatewayError.badItem(index: index, reason: problem) }
                    if let failure = spooled.failure { throw failure }
                    guard let format = ImageFormat.sniff(spooled.head) else {
                        throw GatewayError.badItem(index: index, reason: "b64_json does not hold a PNG, JPEG, WebP, AVIF or GIF image")
                    }
                    pending = spooled.file
                    content = .image(bytes: spooled.memory ?? [], format: format)
                }
                switch content {
                case let .image(b, _):
                    bytes = b
                case let .url(url):
                    entry["url"] = .string(url)
                    guard download else {
                        entry["status"] = "listed"
                        if !json && !batch.quiet && (batch.verbose || singleResponse) {
                            Console.info("\(InputFile.displayName(response)): item \(index): \(url) (not downloaded; use --download)")
                        }
                        return (entry, nil)
                    }
                    bytes = try Self.fetch(url, index: index, limit: maxInputBytes, allowFileURLs: allowFileURLs)
                    guard ImageFormat.sniff(bytes) != nil else {
                        throw GatewayError.badItem(index: index, reason: "\(url) is not a PNG, JPEG, WebP, AVIF or GIF image")
                    }
                }
                let format: ImageFormat, width: Int, height: Int, warnings: [DecodeWarning]
                var metadataWarnings: [MetadataWarning] = []
                if let converter {
                    let r: ConversionResult
                    do {
                        if converter.options.format == nil, let format = ImageFormat.sniff(bytes) {
                            try conversion.checkStrictOpenAI(format: format, quality: converter.options.encode.quality)
                        }
                        r = try converter.convert(bytes)
                    } catch { throw GatewayError.badItem(index: index, reason: describe(error)) }
                    (bytes, format, width, height, warnings) = (r.bytes, r.format, r.width, r.height, r.warnings)
                    metadataWarnings = r.metadataWarnings
                } else {
                    // Every pixel decoded as ImageDecoder.decode would (same errors, same warnings),
                    // none kept: a PNG or JPEG a few rows at a time, from the pending file when
                    // there is one.
                    let checked: ImageCheck
                    do {
                        if let pending {
                            checked = try ImageDecoder.check(fileDescriptor: pending.fileDescriptor,
                                                             name: "a temporary file in \(pending.folder)", options: decodeOptions)
                        } else {
                            checked = try ImageDecoder.check(bytes, options: decodeOptions)
                        }
                    } catch {
                        throw GatewayError.badItem(index: index, reason: describe(error))
                    }
                    (format, width, height) = (checked.format, checked.width, checked.height)
                    warnings = checked.metadata.warnings
                }
                for warning in warnings {
                    Console.info("darkroom: \(response): item \(index): \(warning) (written anyway: --fail-on \(decodeOptions.failOn))")
                }
                for warning in metadataWarnings { Console.info("darkroom: \(response): item \(index): \(warning)") }
                if !warnings.isEmpty || !metadataWarnings.isEmpty {
                    entry["warnings"] = .array(warnings.map(\.json) + metadataWarnings.map(\.json))
                }
                let fileName = template.render(created: created, index: index, format: format, stem: stem)
                let path = PathText.join(outDir, fileName)
                let sidecarPath = PathText.deletingExtension(path) + ".json"
                // The line already names the response; with several, the other claimant needs its own.
                let claimant = singleResponse ? "item \(index)" : "\(response) item \(index)"
                try guardian.claim(path, for: claimant)
                if sidecar { try guardian.claim(sidecarPath, for: claimant + " (sidecar)") }
                if batch.skipExisting && fsExists(path) {
                    entry.merge(["status": "skipped", "path": .string(path)]) { $1 }
                    return (entry, nil)
                }
                let byteCount: Int
                if let pending {
                    byteCount = pending.byteCount
                    try pending.publish(to: path, overwrite: batch.overwrite)
                } else {
                    byteCount = bytes.count
                    try OutputFile.write(bytes, to: path, overwrite: batch.overwrite)
                }
                entry.merge(["status": "written", "path": .string(path), "format": .string(format.rawValue), "width": .int(width),
                             "height": .int(height), "bytes": .int(byteCount)]) { $1 }
                if sidecar {
                    var meta: [String: JSONValue] = ["index": .int(index), "file": .string(fileName),
                                                     "format": .string(format.rawValue), "width": .int(width), "height": .int(height)]
                    if let created { meta["created"] = .int(created) }
                    if let prompt = revisedPrompt { meta["revised_prompt"] = .string(prompt) }
                    sidecarFile = (sidecarPath, meta)
                    entry["sidecar"] = .string(sidecarPath)
                }
                if !json && !batch.quiet && (batch.verbose || singleResponse) {
                    Console.info("\(InputFile.displayName(response)): item \(index) → \(path) (\(format), \(width)x\(height))")
                }
            } catch {
                // A plan error names its claimant ("item 0: the output … would replace …"): said once.
                var reason = describe(error)
                if reason.hasPrefix("item \(index): ") { reason.removeFirst("item \(index): ".count) }
                Console.error(response, GatewayError.badItem(index: index, reason: reason))
                entry["status"] = "error"
                entry["error"] = .string(reason)
            }
            return (entry, sidecarFile)
    }

    private func describe(_ error: Error) -> String {
        if let e = error as? GatewayError, case let .badItem(_, reason) = e { return reason }
        if let e = error as? DarkroomError, case let .gateway(.badItem(_, reason)) = e { return reason }
        if let e = error as? DarkroomError { return e.message(for: .commandLine) }
        return "\(error)"
    }

    /// Fetches a URL synchronously; errors become ``GatewayError/badItem(index:reason:)``.
    /// A file:// URL is read with ``InputFile`` under `limit` bytes, only when `allowFileURLs`
    /// (--allow-file-urls); an http(s) URL through ``Download`` (DarkroomFetch), also under
    /// `limit` bytes, time-limited, and never to a private, loopback or metadata address.
    static func fetch(_ text: String, index: Int, limit: Int = InputFile.defaultMaxBytes, allowFileURLs: Bool = false) throws -> [UInt8] {
        if Console.hasControlCharacters(text) {
            // (A NUL would end the URL where curl reads it: another resource than the one named.)
            throw GatewayError.badItem(index: index, reason: "the URL holds control characters")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https", "file"].contains(scheme) else {
            throw GatewayError.badItem(index: index, reason: "'\(text)' is not an http(s) URL")
        }
        if scheme == "file" {
            guard allowFileURLs else {
                throw GatewayError.badItem(index: index, reason: "\(text): refused: file:// URLs (local files) are read only with --allow-file-urls")
            }
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
        // http(s): DarkroomFetch (libcurl, loaded only now).
        return try Download.fetch(text, index: index, limit: limit)
    }
}
