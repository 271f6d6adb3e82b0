import ArgumentParser
import Darkroom
#if canImport(Glibc)
import Glibc
#endif

/// `darkroom inspect`: what each image is, from its header and a walk over its structure
/// (``ImageInspection``), without decoding pixels.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Report format, size, megapixels, depth, alpha, colour, orientation, frames, metadata, provenance and damage.",
        discussion: """
            Headers only: no pixel is decoded. Each file's header is parsed once and its structure \
            (PNG chunks and CRCs, JPEG segments up to EOI, WebP RIFF chunks, AVIF boxes, GIF blocks) \
            is walked to the end of the file, so a file cut short or a chunk with a bad CRC is \
            reported as damage. Damage inside compressed pixel data is only found by decoding.
            Provenance: the IPTC DigitalSourceType of the XMP (trainedAlgorithmicMedia marks an \
            image made by a generative model) and whether a C2PA manifest is embedded.
            Folders are walked recursively in name order; hidden files and folders (a name starting \
            with '.') are skipped there, and symbolic links to folders are not followed. Megapixels \
            are of 1,048,576 px; billed megapixels are the gateway's ceil(w*h / 1,048,576).
            One line per file on standard output; errors (not an image, unreadable, over a limit) as \
            'darkroom: FILE: reason' on standard error. With --json, one JSON object per file per \
            line (JSON Lines: "status" ok, damaged or error) and a final {"summary": ...} line.
            Exit status 0 when every file is an image without damage, 1 otherwise.
            Example: darkroom inspect photos/ --json | grep '"gps":true'
            """)

    @Argument(help: "Image files and folders (- for standard input).")
    var paths: [String]

    @Flag(help: "Print JSON Lines: one object per file, then a summary object.")
    var json = false

    @Option(parsing: .unconditional, help: "Refuse images with more pixels than this (checked on the header; 1 to 2^36).")
    var maxPixels: String = String(DecodeOptions.defaultMaxPixels)

    @OptionGroup var inputLimit: InputLimitFlags

    func run() throws {
        let options: DecodeOptions
        do {
            options = DecodeOptions(maxPixels: try ValueParser.pixelLimit(maxPixels))
            try options.validate()
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }
        var counts = (files: 0, ok: 0, damaged: 0, errors: 0)
        // The batch commands' walk (docs/cli/batches.md): folders recursively, quoted patterns,
        // names as bytes, hidden names skipped, each folder once; every other file is inspected
        // (a non-image is reported as one).
        var walk = InputWalk(recursive: true, memberFilter: { _ in (true, nil) })
        for path in paths { walk.add(argument: path) }
        for input in walk.inputs {
            counts.files += 1
            switch inspect(input.path, options: options) {
            case .ok: counts.ok += 1
            case .damaged: counts.damaged += 1
            case .error: counts.errors += 1
            }
        }
        if json {
            Console.json(["summary": ["files": .int(counts.files), "ok": .int(counts.ok),
                                      "damaged": .int(counts.damaged), "errors": .int(counts.errors)]])
        } else if counts.files > 1 {
            Console.line("\(counts.files) files: \(counts.ok) ok, \(counts.damaged) damaged, \(counts.errors) unreadable or not an image")
        }
        if counts.ok != counts.files { throw ExitCode(ExitStatus.someFailed) }
    }

    private enum Outcome { case ok, damaged, error }

    /// Inspects one file and prints its line (or its error).
    private func inspect(_ path: String, options: DecodeOptions) -> Outcome {
        let report: ImageInspection
        do {
            if let problem = Self.notRegular(path) { throw FileProblem(message: problem) }
            let bytes = try InputFile.read(path, limit: inputLimit.bytes, image: true)
            report = try ImageInspection.inspect(bytes, options: options)
        } catch {
            Console.error(path, error)
            if json {
                let message = (error as? DarkroomError)?.message(for: .commandLine) ?? "\(error)"
                Console.json(["path": .string(path), "status": "error", "error": .string(message)])
            }
            return .error
        }
        if json {
            Console.json(Self.json(report, path: path))
        } else {
            Console.line(Self.line(report, path: path))
        }
        return report.isDamaged ? .damaged : .ok
    }

    /// An error for a named input that is neither a regular file nor standard input.
    private struct FileProblem: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Why `path` cannot be inspected as a file (a FIFO would block, a device never ends), or nil.
    private static func notRegular(_ path: String) -> String? {
        if path == "-" { return nil }
        var st = stat()
        guard fsStat(path, &st) == 0 else { return nil }   // InputFile.read names the error
        let type = st.st_mode & S_IFMT
        return type == S_IFREG || type == S_IFDIR ? nil : "not a regular file"
    }

    /// `photo.jpg: jpeg 4032x3024 (upright 3024x4032, orientation 6), 11.63 MP (billed 12), 8-bit,
    /// no alpha, ICC "Display P3", 1 frame, metadata EXIF GPS ICC` — and the damage, if any.
    static func line(_ r: ImageInspection, path: String) -> String {
        var size = "\(r.storedWidth)x\(r.storedHeight)"
        if r.orientation != .up {
            size += r.orientation.swapsSides
                ? " (upright \(r.uprightWidth)x\(r.uprightHeight), orientation \(r.orientation.rawValue))"
                : " (orientation \(r.orientation.rawValue))"
        }
        var parts = [
            "\(r.format) \(size)",
            "\(Console.fixed(r.megapixels, 3)) MP (billed \(r.billedMegapixels))",
            "\(r.bitDepth)-bit",
            r.hasAlpha ? "alpha" : "no alpha",
            "colour \(r.colour)",
            r.frameCount == 1 ? "1 frame" : "\(r.frameCount) frames" + Self.timing(r),
            "metadata " + (r.metadata.names.isEmpty ? "none" : r.metadata.names.joined(separator: " ")),
        ]
        if r.metadata.gps { parts[parts.count - 1] += " (GPS: location present)" }
        if let label = r.provenance.digitalSourceType { parts.append("provenance \(ValueParser.printable(label))") }
        if let manifest = r.provenance.c2pa { parts.append("\(manifest)") }
        if r.isDamaged { parts.append("DAMAGED: " + r.damage.map(\.description).joined(separator: "; ")) }
        return "\(InputFile.displayName(path)): " + parts.joined(separator: ", ")
    }

    /// ` (1200 ms, loops forever)`: an animation's one-play duration and total plays, when known.
    static func timing(_ r: ImageInspection) -> String {
        guard let ms = r.durationMs, let loop = r.loopCount else { return "" }
        let plays = loop == 0 ? "loops forever" : loop == 1 ? "plays once" : "plays \(loop) times"
        return " (\(ms) ms, \(plays))"
    }

    /// The `--json` object of one image.
    static func json(_ r: ImageInspection, path: String) -> JSONValue {
        var colour: [String: JSONValue] = ["description": .string(r.colour.description)]
        if case let .icc(name) = r.colour { colour["icc"] = name.map(JSONValue.string) ?? .null }
        if case let .gamma(value) = r.colour { colour["gamma"] = .double(value) }
        if let cicp = r.cicp {
            colour["cicp"] = ["primaries": .int(cicp.primaries), "transfer": .int(cicp.transfer),
                              "matrix": .int(cicp.matrix), "full_range": .bool(cicp.fullRange),
                              "video_full_range_flag": .int(cicp.videoFullRangeFlag)]
        }
        return [
            "path": .string(path),
            "status": r.isDamaged ? "damaged" : "ok",
            "format": .string(r.format.rawValue),
            "bytes": .int(r.byteCount),
            "width": .int(r.storedWidth),
            "height": .int(r.storedHeight),
            "upright_width": .int(r.uprightWidth),
            "upright_height": .int(r.uprightHeight),
            "orientation": .int(r.orientation.rawValue),
            "megapixels": .double((r.megapixels * 1000).rounded() / 1000),
            "billed_megapixels": .int(r.billedMegapixels),
            "bit_depth": .int(r.bitDepth),
            "alpha": .bool(r.hasAlpha),
            "colour": .object(colour),
            "frames": .int(r.frameCount),
            "duration_ms": r.durationMs.map(JSONValue.int) ?? .null,
            "loop": r.loopCount.map(JSONValue.int) ?? .null,
            "metadata": ["exif": .bool(r.metadata.exif), "gps": .bool(r.metadata.gps),
                         "xmp": .bool(r.metadata.xmp), "icc": .bool(r.metadata.icc),
                         "iptc": .bool(r.metadata.iptc), "c2pa": .bool(r.metadata.c2pa)],
            "provenance": [
                "digital_source_type": r.provenance.digitalSourceType.map(JSONValue.string) ?? .null,
                "c2pa": r.provenance.c2pa.map { ["container": .string($0.container), "bytes": .int($0.byteCount)] } ?? .null,
            ],
            "damage": .array(r.damage.map(\.json)),
        ]
    }
}
