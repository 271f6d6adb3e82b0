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
    /// Outputs that several inputs would write, every one of them (output path, its inputs in
    /// order), and inputs an output would replace: found before any work.
    case collisions([Collision], outputIsInput: [PlanError])

    struct Collision: Equatable {
        var path: String
        var inputs: [String]
    }

    static let acceptedExtensions = "png, jpg, jpeg, webp, avif, gif"

    /// Every collision on its own line, then advice that removes all of them: `{index}` is
    /// unique per input, and keeping each input's folder (`{dir}`) separates same-named files of
    /// different folders.
    private static func describe(_ groups: [Collision], _ replaced: [PlanError]) -> String {
        lines(groups, replaced).joined(separator: "\n")
    }

    /// The lines of ``collisions(_:outputIsInput:)``, the first one starting "darkroom: ".
    static func lines(_ groups: [Collision], _ replaced: [PlanError]) -> [String] {
        var lines: [String] = []
        if !groups.isEmpty {
            let inputs = groups.reduce(0) { $0 + $1.inputs.count }
            lines.append("darkroom: \(groups.count) output\(groups.count == 1 ? "" : "s") would be written by more than one input (\(inputs) inputs); nothing was converted:")
            for g in groups {
                lines.append("  \(g.path) <- " + g.inputs.joined(separator: ", "))
            }
        }
        for r in replaced { lines.append("  " + r.description) }
        if !groups.isEmpty {
            lines.append("Fix: give each output its own name, e.g. --name '{dir}/{stem}-{index}.{ext}' ({index} is unique per input), " +
                         "or convert the files of each clashing name in separate runs with different --out-dir.")
        }
        if groups.isEmpty, !lines.isEmpty { lines[0] = "darkroom:" + lines[0].dropFirst(1) }
        return lines
    }

    /// What `convert` adds to the line: it refuses before any work.
    var convertHint: String {
        if case .duplicateOutput = self { return "; nothing was converted" }
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
        case let .collisions(groups, replaced):
            Self.describe(groups, replaced)
        }
    }
}

/// Which file a path names: its device and inode when it exists, and its absolute path with the
/// parent folder resolved (so `out/a.png` and `./out/../out/a.png` agree) whether or not it exists.
/// A file's device and inode: which file it is, whatever path names it.
struct Inode: Hashable {
    let device: UInt64
    let number: UInt64
}

struct FileIdentity {
    let inode: Inode?
    let path: String

    init(_ path: String, resolver: FolderResolver? = nil) {
        var st = stat()
        inode = fsStat(path, &st) == 0 ? Inode(device: UInt64(st.st_dev), number: UInt64(st.st_ino)) : nil
        self.path = Self.resolvedPath(path, resolver: resolver ?? FolderResolver())
    }

    /// The absolute path with its folder resolved (links, `.`, `..`); the file itself need not exist.
    static func resolvedPath(_ path: String, resolver: FolderResolver) -> String {
        let absolute = path.hasPrefix("/") ? path : FolderResolver.currentFolder + "/" + path
        let dir = resolver.resolve(OutputFile.folder(of: absolute))
        let name = PathText.lastComponent(absolute)
        return dir == "/" ? "/" + name : dir + "/" + name
    }

    /// The inode of what is at `path`, if anything.
    static func inode(_ path: String) -> Inode? {
        var st = stat()
        return fsStat(path, &st) == 0 ? Inode(device: UInt64(st.st_dev), number: UInt64(st.st_ino)) : nil
    }
}

/// `realpath` of folders, remembered: a batch's outputs share few folders, so a plan of a
/// million outputs resolves each folder once. Thread-safe.
final class FolderResolver: @unchecked Sendable {
    private var cache: [String: String] = [:]
    private let lock = Lock()

    static let currentFolder: String = {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return FileSystemName.string(buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) })
    }()

    /// The folder with links and `.`/`..` resolved; a folder that does not exist yet is its
    /// nearest existing ancestor resolved, plus the rest as written (normalised).
    func resolve(_ folder: String) -> String {
        lock.lock()
        if let hit = cache[folder] { lock.unlock(); return hit }
        lock.unlock()
        let resolved = Self.realFolder(folder)
        lock.lock()
        cache[folder] = resolved
        lock.unlock()
        return resolved
    }

    private static func realFolder(_ folder: String) -> String {
        if let real = FileSystemName.withCString(folder, { realpath($0, nil) }) {
            defer { free(real) }
            return FileSystemName.string(UnsafeBufferPointer(start: UnsafeRawPointer(real).assumingMemoryBound(to: UInt8.self), count: strlen(real)))
        }
        let parent = OutputFile.folder(of: folder)
        let name = PathText.lastComponent(folder)
        if parent == folder || name == "/" { return folder }
        let base = realFolder(parent)
        if name == "." { return base }
        if name == ".." { return OutputFile.folder(of: base) }
        return base == "/" ? "/" + name : base + "/" + name
    }
}

/// Tracks a run's inputs and the outputs claimed so far: an output may not be an input, and two
/// items may not share an output. Outputs are compared by resolved path (they may not exist yet,
/// or may have been written by an earlier item); inputs also by device and inode.
final class OutputGuard: @unchecked Sendable {
    private var inputInodes: [Inode: String] = [:]
    private var inputPaths: [String: String] = [:]
    private var claimed: [String: String] = [:]
    private let lock = Lock()
    let resolver = FolderResolver()

    init(inputs paths: [String]) {
        // An existing input is known by its inode (whatever path names it); only a missing one,
        // which an output could still be named after, by its resolved path.
        for input in paths where input != "-" {
            var st = stat()
            if fsStat(input, &st) == 0 {
                inputInodes[Inode(device: UInt64(st.st_dev), number: UInt64(st.st_ino))] = input
            } else {
                inputPaths[FileIdentity(input, resolver: resolver).path] = input
            }
        }
    }

    /// The input at `path`, if `path` is one of the run's inputs.
    func input(at path: String) -> String? {
        if let inode = FileIdentity.inode(path) { return inputInodes[inode] }
        return inputPaths.isEmpty ? nil : inputPaths[FileIdentity.resolvedPath(path, resolver: resolver)]
    }

    /// Reserves `path` for the output of `source`.
    func claim(_ path: String, for source: String) throws {
        if let input = input(at: path) { throw PlanError.outputIsInput(output: path, input: input, of: source) }
        let key = FileIdentity.resolvedPath(path, resolver: resolver)
        lock.lock(); defer { lock.unlock() }
        if let first = claimed[key] { throw PlanError.duplicateOutput(path: path, first: first, second: source) }
        if let index = planned[ShardSpec.hash(key)], FileIdentity.resolvedPath(plannedOutputs[Int(index)].path, resolver: resolver) == key {
            throw PlanError.duplicateOutput(path: path, first: plannedOutputs[Int(index)].source, second: source)
        }
        claimed[key] = source
    }

    /// The outputs reserved by ``claimAll(_:)``: by a hash of their resolved path, so a plan of a
    /// million outputs keeps 12 bytes a claim (paths are compared in full when hashes meet).
    private var planned: [UInt64: Int32] = [:]
    private var plannedOutputs: [(path: String, source: String)] = []

    /// Reserves every planned output at once and reports every problem: all collisions (each
    /// output with all its inputs, in input order) and every output that would replace an input.
    /// Throws ``PlanError/collisions(_:outputIsInput:)``.
    func claimAll(_ outputs: [(path: String, source: String)]) throws {
        var table: [UInt64: Int32] = [:]
        table.reserveCapacity(outputs.count)
        var groups: [Int: [String]] = [:]      // first claim's index → the sources after it
        var strays: [String: Int] = [:]        // resolved path → first index, for hash collisions only
        var replaced: [PlanError] = []
        for (k, (path, source)) in outputs.enumerated() {
            if let input = input(at: path) {
                replaced.append(.outputIsInput(output: path, input: input, of: source))
                continue
            }
            let resolved = FileIdentity.resolvedPath(path, resolver: resolver)
            let hash = ShardSpec.hash(resolved)
            guard let first = table[hash] else {
                table[hash] = Int32(k)
                continue
            }
            if FileIdentity.resolvedPath(outputs[Int(first)].path, resolver: resolver) == resolved {
                groups[Int(first), default: []].append(source)
            } else if let other = strays[resolved] {
                groups[other, default: []].append(source)
            } else {
                strays[resolved] = k
            }
        }
        let collisions = groups.keys.sorted().map { first in
            PlanError.Collision(path: outputs[first].path, inputs: [outputs[first].source] + groups[first]!)
        }
        if !collisions.isEmpty || !replaced.isEmpty { throw PlanError.collisions(collisions, outputIsInput: replaced) }
        lock.lock()
        planned = table
        plannedOutputs = outputs
        for (resolved, k) in strays { claimed[resolved] = outputs[k].source }
        lock.unlock()
    }
}

/// Where every output of one `convert` run goes, decided before any file is converted.
struct ConvertPlan {
    /// The output path per selected input (parallel to `BatchInputs.selected`); nil when the name
    /// depends on what only the conversion knows (the format of standard input without -f, or
    /// `{w}`, `{h}`, `{q}` in --name): named by ``name(for:format:width:height:quality:)``.
    var outputs: [String?]
    let guardian: OutputGuard
    let outDir: String?
    let suffix: String
    let template: NameTemplate?

    /// Text inserted before the extension when a default output name is the input itself.
    static let collisionSuffix = ".out"

    /// Plans the outputs. `format` is `-f`'s value. Throws ``PlanError`` (a usage error).
    init(inputs: BatchInputs, output: String?, outDir: String?, suffix: String, template: NameTemplate?,
         format: ImageFormat?) throws {
        self.outDir = outDir
        self.suffix = suffix
        self.template = template
        guardian = OutputGuard(inputs: inputs.selected.map { inputs.all[$0].path })
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
        outputs.reserveCapacity(inputs.selected.count)
        for i in inputs.selected {
            let input = inputs.all[i]
            if let output {
                outputs.append(output)
            } else if template?.needsResult != true, let f = format ?? fromExtension ?? input.format {
                outputs.append(Self.defaultName(for: input, index: i, format: f, outDir: outDir, suffix: suffix,
                                                template: template, guardian: guardian))
            } else {
                outputs.append(nil)
            }
        }
        var claims: [(path: String, source: String)] = []
        for (k, path) in outputs.enumerated() where path != nil && path != "-" {
            claims.append((path!, inputs.all[inputs.selected[k]].path))
        }
        if output != nil {
            if let (path, source) = claims.first { try guardian.claim(path, for: source) }
        } else {
            try guardian.claimAll(claims)
        }
    }

    /// The format `-o`'s extension asks for (already checked by `init`).
    static func extensionFormat(_ output: String?) -> ImageFormat? {
        guard let output, output != "-" else { return nil }
        return ImageFormat(name: PathText.pathExtension(output))
    }

    /// Names an output once the conversion tells what it is; claims it.
    func name(for input: BatchInput, index: Int, format: ImageFormat, width: Int, height: Int, quality: String) throws -> String {
        let path = Self.defaultName(for: input, index: index, format: format, outDir: outDir, suffix: suffix,
                                    template: template, guardian: guardian, width: width, height: height, quality: quality)
        try guardian.claim(path, for: input.path)
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

    /// Without --name: `DIR/photo<suffix>.webp`, DIR being `--out-dir` plus the input's folder
    /// under its root, or the input's own folder; `photo<suffix>.out.jpg` when the plain name
    /// would be the input itself. With --name: the rendered template under the same base.
    private static func defaultName(for input: BatchInput, index: Int, format: ImageFormat, outDir: String?, suffix: String,
                                    template: NameTemplate?, guardian: OutputGuard,
                                    width: Int? = nil, height: Int? = nil, quality: String? = nil) -> String {
        let source = input.path == "-" ? "stdin" : input.path
        let stem = PathText.stem(source)
        let relativeFolder = input.relative.contains("/") ? OutputFile.folder(of: input.relative) : ""
        // --out-dir keeps the tree of folder inputs; without it the output sits by its input.
        let base: String
        if let outDir {
            base = template == nil ? PathText.join(outDir, Self.inside(relativeFolder)) : outDir
        } else {
            base = OutputFile.folder(of: source)
        }
        func place(_ name: String) -> String { base == "." && outDir == nil ? name : PathText.join(base, name) }
        if let template {
            let folder = input.path == "-" || outDir == nil ? "" : Self.inside(relativeFolder)
            return place(template.render(stem: stem, ext: format.fileExtension, dir: folder, index: index,
                                         width: width, height: height, quality: quality))
        }
        let plain = place(stem + suffix + "." + format.fileExtension)
        // Only a file of the same name can be the input itself (another name that links to it is
        // caught by the plan's output-is-input check): one `stat` less per input in large plans.
        guard input.path != "-", PathText.lastComponent(plain) == PathText.lastComponent(input.path),
              guardian.input(at: plain) == input.path else { return plain }
        return place(stem + suffix + collisionSuffix + "." + format.fileExtension)
    }

    /// A folder under a root as a relative path that stays inside: a file named on its own
    /// (`../x/a.png`, `/abs/a.png`) has no folder under a root.
    private static func inside(_ folder: String) -> String {
        if folder.hasPrefix("/") || folder.split(separator: "/").contains("..") { return "" }
        return folder.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
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
        if fsStat(path, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { return }
            throw PlanError.cannotCreateFolder(path: path, reason: "a file with that name exists")
        }
        // Walk down from the first missing ancestor so the reason names the real problem.
        var missing: [String] = []
        var current = path
        while current != "." && current != "/" && fsAccess(current, F_OK) != 0 {
            missing.append(current)
            current = OutputFile.folder(of: current)
        }
        for dir in missing.reversed() where fsMkdir(dir, 0o777) != 0 && errno != EEXIST {
            throw PlanError.cannotCreateFolder(path: path, reason: dir == path ? InputFile.reason(errno)
                                                                              : "\(dir): \(InputFile.reason(errno))")
        }
    }
}
