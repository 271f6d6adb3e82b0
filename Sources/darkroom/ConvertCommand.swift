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

    @Argument(help: "Input files (`-` for standard input).")
    var inputs: [String]

    @OptionGroup var conversion: ConversionFlags

    @Option(name: .shortAndLong, help: "Output file (`-` for standard output); one input only.")
    var output: String?

    @Option(help: "Folder for the outputs (created if missing).")
    var outDir: String?

    @Option(help: "Text added to each output's name before the extension (no '/' or control characters).")
    var suffix: String = ""

    @Flag(help: "Replace existing output files.")
    var overwrite = false

    @Option(name: .shortAndLong, parsing: .unconditional, help: "Files converted in parallel, 1 to 256 (default: number of cores).")
    var jobs: String?

    @Flag(help: "Print one JSON array describing every input on standard output.")
    var json = false

    @OptionGroup var inputLimit: InputLimitFlags
    var maxInputBytes: Int { inputLimit.bytes }

    func validate() throws {
        if output != nil && inputs.count > 1 { throw ValidationError("-o/--output takes one input; use --out-dir for several") }
        if output != nil && outDir != nil { throw ValidationError("use either -o/--output or --out-dir, not both") }
        if inputs.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        if inputs.contains("-") && output == nil && outDir == nil {
            throw ValidationError("reading standard input needs -o FILE (or -o - for standard output)")
        }
        if output == "-" && json { throw ValidationError("--json cannot share standard output with -o -") }
        if suffix.contains("/") || Console.hasControlCharacters(suffix) {
            throw ValidationError("invalid suffix '\(Console.printable(suffix))': expected text without '/' or control characters")
        }
    }

    func run() throws {
        var options: ConvertOptions
        let workers: Int
        do {
            // Every value parsed once: -j, then the conversion options. Threads per conversion:
            // the cores left over by the parallel conversions.
            let jobCount = try jobs.map { (text) throws(DarkroomError) in try ValueParser.integer(text, name: "jobs", in: 1...Limits.maxThreads) }
            workers = max(1, min(inputs.count, jobCount ?? ProcessInfo.processInfo.activeProcessorCount))
            options = try conversion.convertOptions(defaultThreads: ProcessInfo.processInfo.activeProcessorCount / workers)
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        // Every output path is decided, and checked, before any work.
        let plan: ConvertPlan
        do {
            plan = try ConvertPlan(inputs: inputs, output: output, outDir: outDir, suffix: suffix, format: options.format)
        } catch let error as PlanError {
            Console.info("darkroom: \(error.description)\(error.convertHint)")
            throw ExitCode(ExitStatus.usage)
        }
        // The format follows -o's extension when -f is not given.
        if options.format == nil { options.format = ConvertPlan.extensionFormat(output) }
        // --strict-openai: with a known output format the request is refused once, before any work.
        if let format = options.format {
            do { try conversion.checkStrictOpenAI(format: format, quality: options.encode.quality) } catch {
                Console.error(nil, error)
                throw ExitCode(ExitStatus.usage)
            }
        }
        do {
            if let outDir { try OutputFolders.create(outDir) }
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.someFailed)
        }
        for folder in plan.folders { OutputFile.sweepStaleTemporaries(in: folder) }
        let converter = Converter(options: options)
        let progress = ProgressBar(total: inputs.count, enabled: !json)
        let results = ResultList(count: inputs.count)
        // Each worker takes the next input; results stay in input order.
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let index = next.take(below: inputs.count) {
                results.set(index, convertOne(inputs[index], to: plan.outputs[index], plan: plan, converter: converter))
                progress.advance(inputs[index])
            }
        }
        let all = results.values
        if json { Console.json(.array(all.map(\.json))) }
        if all.contains(where: { $0.error != nil }) { throw ExitCode(ExitStatus.someFailed) }
    }

    private func convertOne(_ input: String, to planned: String?, plan: ConvertPlan, converter: Converter) -> FileResult {
        var result = FileResult(input: input)
        let start = DispatchTime.now()
        do {
            // An output that is already there is refused before the input is read, not after
            // the conversion (the write itself still refuses atomically).
            if let planned, planned != "-" { try OutputFile.checkWritable(planned, overwrite: overwrite) }
            let bytes = try InputOutput.read(input, limit: maxInputBytes)
            if converter.options.format == nil, let format = ImageFormat.sniff(bytes) {
                try conversion.checkStrictOpenAI(format: format, quality: converter.options.encode.quality)
            }
            let converted = try converter.convert(bytes)
            let path = try planned ?? plan.name(for: input, format: converted.format)
            try InputOutput.write(converted.bytes, to: path, overwrite: overwrite)
            result.output = path
            result.conversion = converted
            for warning in converted.warnings {
                Console.info("darkroom: \(InputFile.displayName(input)): \(warning) (converted anyway: --fail-on \(converter.options.decode.failOn))")
            }
            if converted.source.isAnimated && !json {
                Console.info("darkroom: \(InputFile.displayName(input)): animated (\(converted.source.frameCount) frames): only the first frame was converted")
            }
            if !json && path != "-" && (inputs.count == 1 || !InputOutput.stderrIsTerminal) {
                Console.info("\(InputFile.displayName(input)) → \(path == "-" ? "standard output" : path) (\(converted.format), \(converted.width)x\(converted.height), \(converted.bytes.count) bytes)")
            }
        } catch {
            result.error = error
            Console.error(input, error)
        }
        result.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e6
        return result
    }
}

/// What happened to one input.
struct FileResult {
    var input: String
    var output: String?
    var conversion: ConversionResult?
    var error: Error?
    var milliseconds = 0.0

    var json: JSONValue {
        var d: [String: JSONValue] = ["input": .string(input), "ok": .bool(error == nil),
                                      "ms": .double((milliseconds * 10).rounded() / 10)]
        if let output { d["output"] = .string(output) }
        if let c = conversion {
            d["format"] = .string(c.format.rawValue)
            d["width"] = .int(c.width)
            d["height"] = .int(c.height)
            d["bytes"] = .int(c.bytes.count)
            d["source_format"] = .string(c.source.sourceFormat.rawValue)
            d["source_width"] = .int(c.source.storedWidth)
            d["source_height"] = .int(c.source.storedHeight)
            d["orientation"] = .int(c.source.orientation.rawValue)
            d["frames"] = .int(c.source.frameCount)
            d["resized"] = .bool(c.resized)
            if let name = c.source.iccDescription { d["icc"] = .string(name) }
            if !c.warnings.isEmpty { d["warnings"] = .array(c.warnings.map(\.json)) }
        }
        if let error { d["error"] = .string((error as? DarkroomError)?.message(for: .commandLine) ?? "\(error)") }
        return .object(d)
    }
}

/// Thread-safe slots for results, in input order.
final class ResultList: @unchecked Sendable {
    private var slots: [FileResult?]
    private let lock = Lock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: FileResult) { lock.lock(); slots[i] = r; lock.unlock() }
    var values: [FileResult] { lock.lock(); defer { lock.unlock() }; return slots.compactMap { $0 } }
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
