import ArgumentParser
import Darkroom
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `darkroom prep-refs`: make reference images gateway-ready (upright, sRGB, stripped, ≤ 4 MP).
struct PrepRefsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prep-refs",
        abstract: "Prepare reference images: orient, sRGB, strip metadata, cap at 4 MP, PNG/JPEG/WebP only.",
        discussion: """
            Images already fine (format kept, orientation 1, no ICC/EXIF, within the cap) are copied \
            byte for byte. Others are re-encoded (JPEG and WebP at quality 95). Outputs are written \
            atomically as DIR/<stem>.ref.<ext> (DIR is created if missing); existing files are kept \
            unless --overwrite. An output that would replace one of the inputs, or that another input \
            of the run already wrote, fails that image. Inputs over --max-input-bytes are refused.
            Example: darkroom prep-refs photo.jpg sketch.png --out-dir refs --json
            """)

    @Argument(help: "PNG, JPEG or WebP images, folders of them, quoted patterns, or - for standard input (written as stdin.ref.<ext>).")
    var images: [String] = []

    @Option(parsing: .unconditional, help: "Largest size in megapixels (1 MP = 1,048,576 px), above 0 up to 65536.")
    var maxMp: String = "4"

    @Option(help: "Damaged input: none, truncated or warning (see convert --help).")
    var failOn: FailOn = .truncated

    @Option(parsing: .unconditional, help: "Refuse a JPEG with more scans than this (see convert --help; 1 to 65535).")
    var maxJpegScans: String = String(DecodeOptions.defaultMaxJPEGScans)

    @Option(help: "Output format (keep: the input's).")
    var format: ReferenceFormat = .keep

    @Option(parsing: .unconditional, help: "Output folder (created if missing).")
    var outDir: String = "."

    @Option(parsing: .unconditional, help: "Most images accepted in one request.")
    var maxRefs: String = String(ReferencePrepOptions.defaultMaxReferences)

    @Option(parsing: .unconditional, help: "Threads per image, 1 to 256 (default: the cores; with 2 or more a resized JPEG or PNG is decoded on its own thread while it is resampled).")
    var threads: String?

    @Flag(inversion: .prefixedNo, help: "JPEG: optimised Huffman tables (off for references: 1.7% smaller at quality 95 for a fifth more time).")
    var optimizeCoding = false

    @Flag(help: "Print one JSON object per image on standard output as each finishes (JSON Lines), then a summary object.")
    var json = false

    @OptionGroup(title: "Batches") var batch: BatchFlags

    @OptionGroup var inputLimit: InputLimitFlags
    var maxInputBytes: Int { inputLimit.bytes }

    func validate() throws {
        if images.isEmpty && batch.fromList == nil { throw ValidationError("no input: name images, folders or patterns, or give --from-list FILE") }
        if outDir.isEmpty { throw ValidationError("--out-dir needs a folder name") }
    }

    func run() throws {
        let options: ReferencePrepOptions
        let planned: BatchInputs
        let workers: Int
        do {
            var prep = ReferencePrepOptions(maxPixels: try ValueParser.megapixels(maxMp, name: "max-mp"),
                                            format: format,
                                            maxReferences: try ValueParser.integer(maxRefs, name: "max-refs", in: 1...Int.max))
            prep.failOn = failOn
            prep.maxJPEGScans = try ValueParser.integer(maxJpegScans, name: "max-jpeg-scans", in: 1...Limits.maxJPEGScanLimit)
            prep.optimizeCoding = optimizeCoding
            if images.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
            planned = try batch.inputs(images, maxListBytes: maxInputBytes, outputFolder: outDir)
            let parallel = try batch.workers(for: planned.selected.count)
            workers = parallel.workers
            prep.threads = try threads.map { (t) throws(DarkroomError) in try ValueParser.integer(t, name: "threads", in: 1...Limits.maxThreads) }
                ?? min(parallel.threadsEach, Limits.maxThreads)
            options = prep
            try ReferencePrep.checkCount(planned.selected.count, options: options)
        } catch let error as ValidationError {
            Console.info("darkroom: \(error.message)")
            throw ExitCode(ExitStatus.usage)
        } catch DarkroomError.gateway(.tooManyReferences(let count, let limit)) {
            // One request's references are bounded; a batch of them says so itself.
            Console.info("darkroom: \(count) reference images given, at most \(limit) are accepted (one request's limit; --max-refs \(count) prepares them all)")
            throw ExitCode(ExitStatus.usage)
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        let guardian = OutputGuard(inputs: planned.selected.map { planned.all[$0].path })
        try batch.checkReportOrExit(guardian: guardian, outputs: [])
        let reporter = try batch.startReporter(command: "prep-refs", doneWord: "prepared", json: json, planned: planned,
                                               outputFolder: outDir, sweep: [outDir])
        BatchJobs.forEach(planned.selected, workers: workers) { index in
            let path = planned.all[index].path
            var item = ItemReport(input: path, index: index)
            if batch.dryRun {
                item.status = .planned
                reporter.record(item, line: "\(InputFile.displayName(path)) → \(outDir)/\(PathText.stem(path)).ref.<ext>")
                return
            }
            do {
                let data = try InputFile.read(path, limit: maxInputBytes)
                item.inputBytes = data.count
                let ref = try ReferencePrep.prepare(bytes: data, name: path, options: options)
                // Folder inputs keep their tree under --out-dir, as in convert.
                let relative = planned.all[index].relative
                let folder = relative.contains("/") && !relative.hasPrefix("/") && !relative.split(separator: "/").contains("..")
                    ? PathText.join(outDir, OutputFile.folder(of: relative)) : outDir
                let out = PathText.join(folder, ref.fileName)
                try guardian.claim(out, for: path)
                item.output = out
                if batch.skipExisting && fsExists(out) {
                    item.status = .skipped
                    reporter.record(item, line: "\(InputFile.displayName(path)): skipped (\(out) exists)")
                    return
                }
                if folder != outDir { try OutputFolders.create(folder) }
                try OutputFile.write(ref.bytes, to: out, overwrite: batch.overwrite)
                item.outputBytes = ref.bytes.count
                item.details = ref.json.objectValue ?? [:]
                for warning in ref.warnings {
                    Console.info("darkroom: \(path): \(warning) (prepared anyway: --fail-on \(options.failOn))")
                }
                for warning in ref.metadataWarnings { Console.info("darkroom: \(path): \(warning)") }
                let size = ref.resized ? "\(ref.inputWidth)x\(ref.inputHeight) -> \(ref.width)x\(ref.height)"
                                       : "\(ref.width)x\(ref.height)"
                let how = ref.passedThrough ? "copied" : (ref.resized ? "resized" : "re-encoded")
                reporter.record(item, line: "\(InputFile.displayName(path)) → \(out): \(size), \(how), \(ref.billedMegapixels) MP")
            } catch {
                Console.error(path, error)
                item.status = .failed
                item.error = (error as? DarkroomError)?.message(for: .commandLine) ?? "\(error)"
                reporter.record(item)
            }
        }
        Signals.onInterrupt(nil)
        let status = reporter.finish()
        if status != 0 { throw ExitCode(status) }
    }
}
