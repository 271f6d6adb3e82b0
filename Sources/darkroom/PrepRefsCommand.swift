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

    @Argument(help: "PNG, JPEG or WebP images (- for standard input, written as stdin.ref.<ext>).")
    var images: [String]

    @Option(parsing: .unconditional, help: "Largest size in megapixels (1 MP = 1,048,576 px), above 0 up to 65536.")
    var maxMp: String = "4"

    @Option(help: "Damaged input: none, truncated or warning (see convert --help).")
    var failOn: FailOn = .truncated

    @Option(help: "Output format (keep: the input's).")
    var format: ReferenceFormat = .keep

    @Option(help: "Output folder (created if missing).")
    var outDir: String = "."

    @Option(parsing: .unconditional, help: "Most images accepted in one request.")
    var maxRefs: String = String(ReferencePrepOptions.defaultMaxReferences)

    @Option(parsing: .unconditional, help: "Threads per image, 1 to 256 (default: the cores; with 2 or more a resized JPEG or PNG is decoded on its own thread while it is resampled).")
    var threads: String?

    @Flag(inversion: .prefixedNo, help: "JPEG: optimised Huffman tables (off for references: 1.7% smaller at quality 95 for a fifth more time).")
    var optimizeCoding = false

    @Flag(help: "Replace existing output files.")
    var overwrite = false

    @Flag(help: "Print a JSON array with one object per image.")
    var json = false

    @OptionGroup var inputLimit: InputLimitFlags
    var maxInputBytes: Int { inputLimit.bytes }

    func run() throws {
        let options: ReferencePrepOptions
        do {
            var prep = ReferencePrepOptions(maxPixels: try ValueParser.megapixels(maxMp, name: "max-mp"),
                                            format: format,
                                            maxReferences: try ValueParser.integer(maxRefs, name: "max-refs", in: 1...Int.max))
            prep.failOn = failOn
            prep.optimizeCoding = optimizeCoding
            prep.threads = try threads.map { (t) throws(DarkroomError) in try ValueParser.integer(t, name: "threads", in: 1...Limits.maxThreads) }
                ?? min(max(1, ProcessInfo.processInfo.activeProcessorCount), Limits.maxThreads)
            options = prep
            try ReferencePrep.checkCount(images.count, options: options)
            if images.filter({ $0 == "-" }).count > 1 { throw ValidationError("standard input (-) can be read only once") }
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        try OutputFolders.prepareOrExit(outDir)
        let guardian = OutputGuard(inputs: images)

        var report: [JSONValue] = []
        var failed = false
        for path in images {
            do {
                let data = try InputFile.read(path, limit: maxInputBytes)
                let ref = try ReferencePrep.prepare(bytes: data, name: path, options: options)
                let out = PathText.join(outDir, ref.fileName)
                try guardian.claim(out, for: path)
                try OutputFile.write(ref.bytes, to: out, overwrite: overwrite)
                var entry = ref.json.objectValue ?? [:]
                entry["output"] = .string(out)
                report.append(.object(entry))
                for warning in ref.warnings {
                    Console.info("darkroom: \(path): \(warning) (prepared anyway: --fail-on \(options.failOn))")
                }
                if !json {
                    let size = ref.resized ? "\(ref.inputWidth)x\(ref.inputHeight) -> \(ref.width)x\(ref.height)"
                                           : "\(ref.width)x\(ref.height)"
                    let how = ref.passedThrough ? "copied" : (ref.resized ? "resized" : "re-encoded")
                    Console.line("\(path) -> \(out): \(size), \(how), \(ref.billedMegapixels) MP")
                }
            } catch {
                Console.error(path, error)
                report.append(["source": .string(path), "error": .string("\(error)")])
                failed = true
            }
        }
        if json { Console.json(.array(report)) }
        if failed { throw ExitCode(ExitStatus.someFailed) }
    }
}
