import ArgumentParser
import Darkroom
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert images between PNG, JPEG, WebP, AVIF and GIF, optionally resizing them.",
        discussion: """
            Outputs are written to a temporary file and renamed, so a failure or an interruption \
            never leaves a partial file; an existing output is kept unless --overwrite is given, and a \
            folder, FIFO or device is never replaced. `-` reads standard input or writes standard output. \
            Without -o or --out-dir each output goes next to its input.
            Output format: -f, else -o's extension, else the input's (sniffed from its bytes). Every \
            output path is decided before any work: two inputs with one output path, an output that is \
            an input, or an -o extension that is unknown or disagrees with -f is a usage error (exit 2). \
            When the default name would be the input itself, `.out` is added: photo.jpg -> photo.out.jpg.
            Examples:
              darkroom convert photo.jpg -f webp -q 80
              darkroom convert *.png -f avif --out-dir out/ --resize 4mp
              cat in.png | darkroom convert - -f jpeg -o - > out.jpg
            """)

    @Argument(help: "Input files, folders (their images; subfolders with --recursive) and quoted patterns ('shots/**/*.jpg'); `-` for standard input. After `--`, every argument is an input, even one that starts with '-'.")
    var inputs: [String] = []

    @OptionGroup var conversion: ConversionFlags

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Output file (`-` for standard output); one input only.")
    var output: String?

    @Option(parsing: .unconditional, help: "Folder for the outputs (created if missing); folder inputs keep their tree under it.")
    var outDir: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Output path under --out-dir (or the input's folder): {stem} {ext} {dir} {w} {h} {q} {index}, e.g. '{dir}/{stem}-{w}x{h}.{ext}'.", valueName: "TEMPLATE"))
    var name: String?

    @Option(parsing: .unconditional, help: "Text added to each output's name before the extension (no '/' or control characters; may start with '-').")
    var suffix: String = ""

    @Option(parsing: .unconditional, help: ArgumentHelp("Frames of an animated input (GIF, WebP, APNG, AVIF sequence): all, first, N or A-B (numbered from 0). Default: all when the output can animate (\(ImageFormat.animatableList)), else the first, with a warning.", valueName: "FRAMES"))
    var frames: String?

    @Flag(help: "Print one JSON object per input on standard output as each finishes (JSON Lines), then a summary object.")
    var json = false

    @OptionGroup(title: "Batches") var batch: BatchFlags

    @OptionGroup var inputLimit: InputLimitFlags
    var maxInputBytes: Int { inputLimit.bytes }

    func validate() throws {
        if inputs.isEmpty && batch.fromList == nil { throw ValidationError("no input: name files, folders or patterns, or give --from-list FILE") }
        if output != nil && outDir != nil { throw ValidationError("use either -o/--output or --out-dir, not both") }
        if output == "" { throw ValidationError("-o/--output needs a file name (or - for standard output)") }
        if outDir == "" { throw ValidationError("--out-dir needs a folder name") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        if inputs.contains("-") && output == nil && outDir == nil {
            throw ValidationError("reading standard input needs -o FILE (or -o - for standard output)")
        }
        if output == "-" && json { throw ValidationError("--json cannot share standard output with -o -") }
        if output != nil && name != nil { throw ValidationError("use either -o/--output or --name, not both") }
        if !suffix.isEmpty && output != nil { throw ValidationError("--suffix names outputs that Darkroom names; with -o/--output the name is yours") }
        if !suffix.isEmpty && name != nil { throw ValidationError("--suffix and --name both shape the name: put the text in the template instead") }
        if suffix.contains("/") || Console.hasControlCharacters(suffix) {
            throw ValidationError("invalid suffix '\(Console.printable(suffix))': expected text without '/' or control characters")
        }
    }

    func run() throws {
        var options: ConvertOptions
        let template: NameTemplate?
        let planned: BatchInputs
        do {
            template = try name.map { (t) throws(DarkroomError) in try NameTemplate(parsing: t) }
            planned = try batch.inputs(inputs, maxListBytes: maxInputBytes, outputFolder: outDir)
            if output != nil && planned.all.count > 1 {
                throw ValidationError("-o/--output takes one input (these arguments name \(planned.all.count)); use --out-dir for several")
            }
        } catch let error as ValidationError {
            Console.info("darkroom: \(error.message)")
            throw ExitCode(ExitStatus.usage)
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        let count = planned.selected.count
        let workers: Int
        do {
            // Every value parsed once: -j, then the conversion options. Threads per conversion:
            // the cores left over by the parallel conversions.
            let parallel = try batch.workers(for: count)
            workers = parallel.workers
            options = try conversion.convertOptions(defaultThreads: parallel.threadsEach)
            if let frames { options.frames = try FrameSelection(parsing: frames) }
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        // Every output path is decided, and checked, before any work.
        let plan: ConvertPlan
        do {
            plan = try ConvertPlan(inputs: planned, output: output, outDir: outDir, suffix: suffix, template: template,
                                   format: options.format)
        } catch let error as PlanError {
            if case let .collisions(groups, replaced) = error {
                // One line per collision; each line escaped on its own (names cannot add lines).
                for line in PlanError.lines(groups, replaced) { Console.info(line) }
            } else {
                Console.info("darkroom: \(error.description)\(error.convertHint)")
            }
            throw ExitCode(ExitStatus.usage)
        }
        try batch.checkReportOrExit(guardian: plan.guardian, outputs: plan.outputs)
        // The format follows -o's extension when -f is not given.
        if options.format == nil { options.format = ConvertPlan.extensionFormat(output) }
        if options.frames == .all, let format = options.format, !format.canAnimate {
            Console.info("darkroom: --frames all needs an output format that can animate (\(ImageFormat.animatableList)); \(format) holds one frame (use --frames first)")
            throw ExitCode(ExitStatus.usage)
        }
        // --strict-openai: with a known output format the request is refused once, before any work.
        if let format = options.format {
            do { try conversion.checkStrictOpenAI(format: format, quality: options.encode.quality) } catch {
                Console.error(nil, error)
                throw ExitCode(ExitStatus.usage)
            }
        }
        // --skip-existing with an existing --report: the inputs it records as done are skipped too.
        var doneBefore: [String: String] = [:]
        if batch.skipExisting, let path = batch.report, fsExists(path) {
            do { doneBefore = ReportFile.doneInputs(try ReportFile.read(path, limit: Limits.maxByteCount)) } catch {
                Console.error(nil, error)
                throw ExitCode(ExitStatus.someFailed)
            }
        }
        let reporter = try batch.startReporter(command: "convert", doneWord: "converted", json: json, planned: planned,
                                               outputFolder: outDir, sweep: plan.folders)
        let done = doneBefore
        let converter = Converter(options: options)
        // Each worker takes the next input; a large image holds up only its own worker.
        BatchJobs.forEach(Array(0..<count), workers: workers) { k in
            let index = planned.selected[k]
            let input = planned.all[index]
            let (item, line) = convertOne(input, index: index, planned: plan.outputs[k], plan: plan, converter: converter,
                                          alreadyDone: done[input.path].map { recorded in
                                              fsExists(recorded) && (plan.outputs[k] == nil || plan.outputs[k] == recorded)
                                          } ?? false)
            reporter.record(item, line: line)
        }
        Signals.onInterrupt(nil)
        let status = reporter.finish()
        if status != 0 { throw ExitCode(status) }
    }

    /// The quality an output was encoded with, as `{q}` and the report show it.
    private func qualityText(_ format: ImageFormat, options: ConvertOptions) -> String {
        switch format {
        case .png, .gif: return "none"
        case .webp where options.encode.lossless: return "lossless"
        default: return String(options.encode.quality ?? QualityCurve.webDefault(for: format))
        }
    }

    private func convertOne(_ input: BatchInput, index: Int, planned: String?, plan: ConvertPlan, converter: Converter,
                            alreadyDone: Bool) -> (ItemReport, String?) {
        var item = ItemReport(input: input.path, index: index)
        item.output = planned
        let shown = InputFile.displayName(input.path)
        if batch.dryRun {
            item.status = .planned
            if let planned, planned != "-", fsExists(planned) {
                item.status = batch.overwrite ? .planned : .skipped
                item.details["exists"] = true
            }
            return (item, "\(shown) → \(planned ?? "(named after conversion)")" + (item.details["exists"] != nil ? " (exists)" : ""))
        }
        if alreadyDone {
            item.status = .skipped
            item.details["reason"] = "done in the report"
            return (item, "\(shown): skipped (done in the report)")
        }
        let start = DispatchTime.now()
        do {
            // An output that is already there is refused (or skipped) before the input is read,
            // not after the conversion (the write itself still refuses atomically).
            if let planned, planned != "-" {
                if batch.skipExisting && fsExists(planned) {
                    item.status = .skipped
                    item.details["reason"] = "output exists"
                    return (item, "\(shown): skipped (\(planned) exists)")
                }
                try OutputFile.checkWritable(planned, overwrite: batch.overwrite)
            }
            let bytes = try InputOutput.read(input.path, limit: maxInputBytes)
            item.inputBytes = bytes.count
            if converter.options.format == nil, let format = ImageFormat.sniff(bytes) {
                try conversion.checkStrictOpenAI(format: format, quality: converter.options.encode.quality)
            }
            let converted = try converter.convert(bytes)
            var quality = converted.lossless ? "lossless" : qualityText(converted.format, options: converter.options)
            if let outcome = converted.targetSize {
                if let q = outcome.quality { quality = String(q) }
                item.details["target_bytes"] = .int(outcome.target.maxBytes)
                item.details["attempts"] = .int(outcome.attempts.count)
                item.details["target_met"] = .bool(outcome.met)
                if !outcome.met && conversion.failOnUnmet {
                    throw UnmetTargetError(maxBytes: outcome.target.maxBytes, quality: outcome.quality,
                                           smallest: converted.bytes.count)
                }
            }
            let path = try planned ?? plan.name(for: input, index: index, format: converted.format,
                                                width: converted.width, height: converted.height, quality: quality)
            if planned == nil && batch.skipExisting && fsExists(path) {
                item.status = .skipped
                item.output = path
                item.details["reason"] = "output exists"
                return (item, "\(shown): skipped (\(path) exists)")
            }
            // Folder inputs keep their tree under --out-dir: the output's own folder may be new.
            if outDir != nil && path != "-" { try OutputFolders.create(OutputFile.folder(of: path)) }
            try InputOutput.write(converted.bytes, to: path, overwrite: batch.overwrite)
            item.output = path
            item.outputBytes = converted.bytes.count
            item.details.merge(Self.details(converted, quality: quality)) { $1 }
            if let outcome = converted.targetSize, !outcome.met {
                item.status = .unmet
                Console.info("darkroom: \(shown): \(converted.bytes.count) bytes, over --max-bytes \(outcome.target.maxBytes) even at quality \(quality) (the smallest attempt was written)")
            }
            for warning in converted.warnings {
                Console.info("darkroom: \(shown): \(warning) (converted anyway: --fail-on \(converter.options.decode.failOn))")
            }
            // Metadata not carried over (a C2PA manifest, a block the output cannot hold): said on
            // standard error and, through details(), in the JSON record.
            for warning in converted.metadataWarnings { Console.info("darkroom: \(shown): \(warning)") }
            if let dropped = converted.framesDropped {
                // The output is the first frame only: said on standard error and in the JSON record.
                let hint = dropped.outputFormat.canAnimate ? "" : ", --frames first says this is meant"
                let message = "animated (\(dropped.sourceFrames) frames): only the first frame was converted (\(dropped.reason)\(hint))"
                if json {
                    var warnings: [JSONValue] = []
                    if case let .array(list)? = item.details["warnings"] { warnings = list }
                    warnings.append(.object(["kind": .string("animation"), "message": .string(message), "count": .int(1)]))
                    item.details["warnings"] = .array(warnings)
                }
                Console.info("darkroom: \(shown): \(message)")
            }
            item.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            let target = path == "-" ? "standard output" : path
            return (item, "\(shown) → \(target) (\(converted.format), \(converted.width)x\(converted.height), \(converted.bytes.count) bytes)")
        } catch {
            item.status = .failed
            item.error = (error as? DarkroomError)?.message(for: .commandLine) ?? "\(error)"
            item.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
            Console.error(input.path, error)
            return (item, nil)
        }
    }

    /// The report's keys for a conversion.
    static func details(_ c: ConversionResult, quality: String) -> [String: JSONValue] {
        var d: [String: JSONValue] = [
            "format": .string(c.format.rawValue), "width": .int(c.width), "height": .int(c.height),
            "source_format": .string(c.source.sourceFormat.rawValue),
            "source_width": .int(c.source.storedWidth), "source_height": .int(c.source.storedHeight),
            "orientation": .int(c.source.orientation.rawValue), "frames": .int(c.source.frameCount),
            "resized": .bool(c.resized), "quality": .string(quality), "output_frames": .int(c.frameCount),
        ]
        if let loop = c.source.loopCount { d["loop"] = .int(loop) }
        if let ms = c.source.durationMs { d["duration_ms"] = .int(ms) }
        if let name = c.source.iccDescription { d["icc"] = .string(name) }
        if !c.warnings.isEmpty || !c.metadataWarnings.isEmpty {
            d["warnings"] = .array(c.warnings.map(\.json) + c.metadataWarnings.map(\.json))
        }
        return d
    }
}

/// A shared work index.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = Lock()
    func take(below limit: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// `--fail-on-unmet`: even the smallest attempt is over `--max-bytes`, so nothing is written.
struct UnmetTargetError: Error, CustomStringConvertible {
    let maxBytes: Int
    /// The quality of the smallest attempt (nil for formats without one: PNG, GIF).
    let quality: Int?
    let smallest: Int

    var description: String {
        let attempt = quality.map { "the smallest attempt (quality \($0))" } ?? "the output"
        return "over --max-bytes \(maxBytes): \(attempt) is \(smallest) bytes; nothing written (--fail-on-unmet)"
    }
}
