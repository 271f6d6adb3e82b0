import ArgumentParser
import Darkroom
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Why a run's outputs cannot be written as asked. Found before any work in `convert` (exit 2);
/// per item in `decode` and `prep-refs`, whose names depend on the content (exit 1).
enum PlanError: Error, Equatable, CustomStringConvertible {
    /// Two inputs of one run would be written to the same file.
    case duplicateOutput(path: String, first: String, second: String)
    /// The output would replace an input of the run.
    case outputIsInput(output: String, input: String, of: String)
    /// `-o`'s extension is not one of the accepted ones.
    case unknownExtension(path: String, ext: String)
    /// `-o`'s extension names another format than `-f`.
    case extensionMismatch(path: String, ext: String, format: ImageFormat)
    /// An output folder cannot be created.
    case cannotCreateFolder(path: String, reason: String)

    static let acceptedExtensions = "png, jpg, jpeg, webp, avif, gif"

    /// What `convert` adds to the line: it refuses before any work.
    var convertHint: String {
        if case .duplicateOutput = self { return "; nothing was converted (use --suffix, -o or separate runs)" }
        return ""
    }

    var description: String {
        switch self {
        case let .duplicateOutput(path, first, second):
            "\(first) and \(second) would both be written to \(path)"
        case let .outputIsInput(output, input, of) where input == of:
            "\(of): the output \(output) is the input itself; it is never replaced (choose another -o)"
        case let .outputIsInput(output, input, of):
            "\(of): the output \(output) would replace \(input), an input of this run"
        case let .unknownExtension(path, ext):
            "\(path): '.\(ext)' is not an image format Darkroom writes; accepted extensions: \(Self.acceptedExtensions)"
        case let .extensionMismatch(path, ext, format):
            "\(path): the extension '.\(ext)' does not match -f \(format.rawValue) (expected .\(format.fileExtension)); accepted extensions: \(Self.acceptedExtensions)"
        case let .cannotCreateFolder(path, reason):
            "cannot create the output folder \(path): \(reason)"
        }
    }
}

/// Which file a path names: its device and inode when it exists, and its absolute path with the
/// parent folder resolved (so `out/a.png` and `./out/../out/a.png` agree) whether or not it exists.
struct FileIdentity {
    let inode: [UInt64]?
    let path: String

    init(_ path: String) {
        var st = stat()
        inode = stat(path, &st) == 0 ? [UInt64(st.st_dev), UInt64(st.st_ino)] : nil
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let parent = OutputFile.folder(of: absolute)
        let name = absolute.split(separator: "/").last.map(String.init) ?? absolute
        if let real = realpath(parent, nil) {
            defer { free(real) }
            let dir = String(cString: real)
            self.path = dir == "/" ? "/" + name : dir + "/" + name
        } else {
            self.path = absolute
        }
    }
}

/// Tracks a run's inputs and the outputs claimed so far: an output may not be an input, and two
/// items may not share an output. Outputs are compared by resolved path (they may not exist yet,
/// or may have been written by an earlier item); inputs also by device and inode.
final class OutputGuard: @unchecked Sendable {
    private var inputInodes: [[UInt64]: String] = [:]
    private var inputPaths: [String: String] = [:]
    private var claimed: [String: String] = [:]
    private let lock = Lock()

    init(inputs paths: [String]) {
        for input in paths where input != "-" {
            let id = FileIdentity(input)
            if let inode = id.inode { inputInodes[inode] = input }
            inputPaths[id.path] = input
        }
    }

    /// The input at `path`, if `path` is one of the run's inputs.
    func input(at path: String) -> String? {
        let id = FileIdentity(path)
        return id.inode.flatMap { inputInodes[$0] } ?? inputPaths[id.path]
    }

    /// Reserves `path` for the output of `source`.
    func claim(_ path: String, for source: String) throws {
        let id = FileIdentity(path)
        lock.lock(); defer { lock.unlock() }
        if let input = id.inode.flatMap({ inputInodes[$0] }) ?? inputPaths[id.path] {
            throw PlanError.outputIsInput(output: path, input: input, of: source)
        }
        if let first = claimed[id.path] { throw PlanError.duplicateOutput(path: path, first: first, second: source) }
        claimed[id.path] = source
    }
}

/// Where every output of one `convert` run goes, decided before any file is converted.
struct ConvertPlan {
    /// The output path per input, in input order; nil when the name depends on a format only
    /// known after reading (standard input or a FIFO without -f): named by ``name(for:format:)``.
    var outputs: [String?]
    let guardian: OutputGuard
    let outDir: String?
    let suffix: String

    /// Text inserted before the extension when a default output name is the input itself.
    static let collisionSuffix = ".out"

    /// Plans the outputs. `format` is `-f`'s value. Throws ``PlanError`` (a usage error).
    init(inputs: [String], output: String?, outDir: String?, suffix: String, format: ImageFormat?) throws {
        self.outDir = outDir
        self.suffix = suffix
        guardian = OutputGuard(inputs: inputs)
        var fromExtension: ImageFormat?
        if let output, output != "-" {
            let ext = PathText.pathExtension(output)
            if !ext.isEmpty {
                guard let f = ImageFormat(name: ext) else { throw PlanError.unknownExtension(path: output, ext: ext) }
                if let format, format != f { throw PlanError.extensionMismatch(path: output, ext: ext, format: format) }
                fromExtension = f
            }
        }
        outputs = []
        for input in inputs {
            if let output {
                outputs.append(output)
            } else if let f = format ?? fromExtension ?? InputFile.sniff(input) {
                outputs.append(Self.defaultName(for: input, format: f, outDir: outDir, suffix: suffix, guardian: guardian))
            } else {
                outputs.append(nil)
            }
        }
        for (input, path) in zip(inputs, outputs) where path != nil && path != "-" {
            try guardian.claim(path!, for: input)
        }
    }

    /// The format `-o`'s extension asks for (already checked by `init`).
    static func extensionFormat(_ output: String?) -> ImageFormat? {
        guard let output, output != "-" else { return nil }
        return ImageFormat(name: PathText.pathExtension(output))
    }

    /// Names an output whose format became known only after converting; claims it.
    func name(for input: String, format: ImageFormat) throws -> String {
        let path = Self.defaultName(for: input, format: format, outDir: outDir, suffix: suffix, guardian: guardian)
        try guardian.claim(path, for: input)
        return path
    }

    /// The folders the run writes to (each once, in order).
    var folders: [String] {
        var seen = Set<String>(), result: [String] = []
        var candidates = outputs.compactMap { $0 }.filter { $0 != "-" }.map(OutputFile.folder(of:))
        if let outDir { candidates.append(outDir) }
        for dir in candidates where seen.insert(dir).inserted { result.append(dir) }
        return result
    }

    /// `photo.png` → `DIR/photo<suffix>.webp`; `photo.jpg` → `photo<suffix>.out.jpg` when the
    /// plain name would be the input itself.
    private static func defaultName(for input: String, format: ImageFormat, outDir: String?, suffix: String,
                                    guardian: OutputGuard) -> String {
        let plain = InputOutput.outputPath(for: input, format: format, outDir: outDir, suffix: suffix)
        guard input != "-", guardian.input(at: plain) == input else { return plain }
        return InputOutput.outputPath(for: input, format: format, outDir: outDir, suffix: suffix + collisionSuffix)
    }
}

/// Creating output folders before any file is processed.
enum OutputFolders {
    /// Creates `path` (and its parents) before any work, or reports why not once and exits 1;
    /// then sweeps temporaries that dead processes left in it.
    static func prepareOrExit(_ path: String) throws {
        do {
            try create(path)
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.someFailed)
        }
        OutputFile.sweepStaleTemporaries(in: path)
    }

    /// Creates `path` and its missing parents. Throws ``PlanError/cannotCreateFolder(path:reason:)``.
    static func create(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { return }
            throw PlanError.cannotCreateFolder(path: path, reason: "a file with that name exists")
        }
        // Walk down from the first missing ancestor so the reason names the real problem.
        var missing: [String] = []
        var current = path
        while current != "." && current != "/" && access(current, F_OK) != 0 {
            missing.append(current)
            current = OutputFile.folder(of: current)
        }
        for dir in missing.reversed() where mkdir(dir, 0o777) != 0 && errno != EEXIST {
            throw PlanError.cannotCreateFolder(path: path, reason: dir == path ? InputFile.reason(errno)
                                                                              : "\(dir): \(InputFile.reason(errno))")
        }
    }
}
