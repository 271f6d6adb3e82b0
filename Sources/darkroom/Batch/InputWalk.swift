import Darkroom
#if canImport(Glibc)
import Glibc
#endif

/// One input of a batch, as planned before any work.
struct BatchInput: Sendable, Equatable {
    /// The path as opened (`-` for standard input). Names that are not UTF-8 are carried as
    /// ``FileSystemName`` strings, so any name the file system holds works.
    var path: String
    /// The path under its root: a folder's or a glob's members keep the tree under the folder (or
    /// the glob's fixed prefix); a file named on its own (or listed) is its file name. It places the output
    /// under `--out-dir`, fills `{dir}`, and is what `--shard` hashes (the same on every machine
    /// that sees the same tree, wherever the tree is mounted).
    var relative: String
    /// The format sniffed from the first bytes while planning; nil for standard input, a file
    /// that cannot be read yet, or a member filter that does not sniff.
    var format: ImageFormat?
}

/// What the walk skipped and why, counted for the summary.
struct WalkCounts: Equatable {
    /// Names starting with `.` inside folders and globs.
    var hidden = 0
    /// Files in folders and globs that are not inputs of this command (not an image; not a response).
    var others = 0
    /// Folders reached a second time through a symbolic link (a loop, or a second way in):
    /// each folder is walked once.
    var revisited = 0
    /// Subfolders of a folder argument left out because the walk is not recursive (`-R` takes them).
    var subfolders = 0
    /// Folders that could not be listed, and patterns that matched nothing: reported as failures.
    var problems: [(path: String, reason: String)] = []

    static func == (a: WalkCounts, b: WalkCounts) -> Bool {
        a.hidden == b.hidden && a.others == b.others && a.revisited == b.revisited && a.subfolders == b.subfolders
            && a.problems.map(\.path) == b.problems.map(\.path) && a.problems.map(\.reason) == b.problems.map(\.reason)
    }
}

/// Turns the arguments of `convert`, `prep-refs` and `decode` into inputs: files, folders
/// (their files; with `recursive`, their whole tree), glob patterns expanded by Darkroom (`*`,
/// `?`, `[...]`, and `**` for any depth; quoted so the shell leaves them alone), and list files
/// (`--from-list`: one path per line, or NUL-separated with `--null`; `-` reads standard input).
///
/// Inside folders and globs, hidden names are skipped and files that are not inputs of the
/// command (``memberFilter``) are skipped; both are counted. A file named on its own is always an
/// input (so a wrong one gets an error naming it). Symbolic links are followed; each folder is
/// walked once (by device and inode), so a link loop ends. Folder entries are taken in byte
/// order, so a batch plans the same inputs in the same order on every run.
struct InputWalk {
    var recursive: Bool
    /// Decides whether a file met inside a folder or glob is an input; returns its format when
    /// it sniffs one (nil format + true: an input of unknown format).
    var memberFilter: (String) -> (accept: Bool, format: ImageFormat?)

    private(set) var inputs: [BatchInput] = []
    /// Inputs by a hash of their path: an input named twice (a pattern and a file, two folders
    /// that overlap) is taken once.
    private var seenPaths: [UInt64: Int32] = [:]
    private(set) var counts = WalkCounts()
    private var visited = Set<[UInt64]>()
    private var patternStack = Set<[UInt64]>()
    /// Folders never walked below a root (the run's output folder).
    private var excluded = Set<[UInt64]>()

    /// Never walks into `folder` below an argument's root (it is skipped silently).
    mutating func exclude(folder: String) {
        var st = stat()
        if fsStat(folder, &st) == 0 { excluded.insert([UInt64(st.st_dev), UInt64(st.st_ino)]) }
    }

    init(recursive: Bool, memberFilter: @escaping (String) -> (accept: Bool, format: ImageFormat?)) {
        self.recursive = recursive
        self.memberFilter = memberFilter
    }

    /// The image filter: a member is an input when its first bytes are a PNG, JPEG, WebP, AVIF or GIF.
    static func images(_ path: String) -> (accept: Bool, format: ImageFormat?) {
        let format = InputFile.sniff(path)
        return (format != nil, format)
    }

    /// Adds one command-line argument (a file, a folder, `-` or a glob pattern).
    mutating func add(argument: String) {
        if argument == "-" {
            append(BatchInput(path: "-", relative: "stdin", format: nil))
            return
        }
        var st = stat()
        if fsStat(argument, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR {
                walk(folder: argument, relativeTo: "", root: argument)
            } else {
                append(BatchInput(path: argument, relative: PathText.lastComponent(argument), format: InputFile.sniff(argument)))
            }
            return
        }
        if Glob.isPattern(argument) {
            let before = inputs.count
            expand(pattern: argument)
            // Nothing matched: the argument stays an input, so its error names it ("no such file").
            if inputs.count == before { append(BatchInput(path: argument, relative: PathText.lastComponent(argument), format: nil)) }
            return
        }
        // Not there: still an input, so its error ("no such file") names it in the report.
        append(BatchInput(path: argument, relative: PathText.lastComponent(argument), format: nil))
    }

    /// Adds every path of a list (`--from-list`): each line (or NUL-separated entry) is a file
    /// or a folder, taken literally (no pattern expansion); empty entries are ignored.
    mutating func add(list bytes: [UInt8], nullSeparated: Bool) {
        let separator: UInt8 = nullSeparated ? 0 : 0x0A
        for entry in bytes.split(separator: separator, omittingEmptySubsequences: true) {
            var e = entry[...]
            if !nullSeparated && e.last == 0x0D { e = e.dropLast() }  // CRLF lists
            guard !e.isEmpty else { continue }
            let path = FileSystemName.string(e)
            var st = stat()
            if fsStat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR {
                walk(folder: path, relativeTo: "", root: path)
            } else {
                append(BatchInput(path: path, relative: PathText.lastComponent(path), format: path == "-" ? nil : InputFile.sniff(path)))
            }
        }
    }

    private mutating func append(_ input: BatchInput) {
        // `./a/b.jpg`, `a//b.jpg` and `a/./b.jpg` name one file: compared without those spellings.
        let key = ShardSpec.hash(Self.lexical(input.path))
        if let earlier = seenPaths[key] {
            if Self.lexical(inputs[Int(earlier)].path) == Self.lexical(input.path) { return }
        } else {
            seenPaths[key] = Int32(truncatingIfNeeded: inputs.count)
        }
        inputs.append(input)
    }

    /// The path without `.` components and repeated slashes (no `..` resolution: links).
    static func lexical(_ path: String) -> String {
        guard path.contains("./") || path.contains("//") || path.hasSuffix("/.") else { return path }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    private mutating func firstVisit(_ st: stat) -> Bool {
        visited.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted
    }

    /// Walks `folder` (whose path under its root is `relative`), members in byte order.
    private mutating func walk(folder: String, relativeTo relative: String, root: String) {
        var st = stat()
        guard fsStat(folder, &st) == 0 else {
            counts.problems.append((folder, InputFile.reason(errno)))
            return
        }
        if !relative.isEmpty && excluded.contains([UInt64(st.st_dev), UInt64(st.st_ino)]) { return }
        guard firstVisit(st) else {
            counts.revisited += 1
            return
        }
        guard let entries = fsListFolder(folder) else {
            counts.problems.append((folder, "cannot list the folder: \(InputFile.reason(errno))"))
            return
        }
        for entry in entries.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) {
            if entry.name.hasPrefix(".") {
                counts.hidden += 1
                continue
            }
            let path = PathText.join(folder, entry.name)
            let rel = relative.isEmpty ? entry.name : relative + "/" + entry.name
            visit(path: path, relative: rel, type: entry.type, root: root)
        }
    }

    private mutating func visit(path: String, relative: String, type: UInt8, root: String) {
        var isFolder = type == UInt8(DT_DIR)
        if type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) {
            var st = stat()
            guard fsStat(path, &st) == 0 else {  // a dangling link
                counts.others += 1
                return
            }
            isFolder = st.st_mode & S_IFMT == S_IFDIR
        }
        if isFolder {
            if recursive { walk(folder: path, relativeTo: relative, root: root) } else { counts.subfolders += 1 }
            return
        }
        let verdict = memberFilter(path)
        if verdict.accept {
            append(BatchInput(path: path, relative: relative, format: verdict.format))
        } else {
            counts.others += 1
        }
    }

    /// Expands a pattern: its fixed leading folders are the root (kept out of `relative`), the
    /// rest is matched folder by folder.
    private mutating func expand(pattern: String) {
        let absolute = pattern.hasPrefix("/")
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var fixed: [String] = []
        for part in parts {
            if Glob.isPattern(part) { break }
            fixed.append(part)
        }
        let rest = Array(parts[fixed.count...])
        let base = (absolute ? "/" : "") + fixed.joined(separator: "/")
        descend(rest[...], into: base.isEmpty ? "." : base, shown: base, relative: "")
    }

    /// Matches `rest` inside a folder reached by going down one level: a link back to a folder
    /// already on the way down is a loop, counted and not followed.
    private mutating func descend(_ rest: ArraySlice<String>, into folder: String, shown: String, relative: String) {
        var st = stat()
        guard fsStat(folder, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return }
        let key = [UInt64(st.st_dev), UInt64(st.st_ino)]
        if !relative.isEmpty && excluded.contains(key) { return }
        guard patternStack.insert(key).inserted else {
            counts.revisited += 1
            return
        }
        defer { patternStack.remove(key) }
        match(rest, in: folder, shown: shown, relative: relative)
    }

    private mutating func match(_ rest: ArraySlice<String>, in folder: String, shown: String, relative: String) {
        guard let part = rest.first else { return }
        guard let entries = fsListFolder(folder) else {
            counts.problems.append((folder, "cannot list the folder: \(InputFile.reason(errno))"))
            return
        }
        let sorted = entries.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) })
        let last = rest.count == 1
        if part == "**" {
            // Zero folders: the next part matches here.
            match(rest.dropFirst(), in: folder, shown: shown, relative: relative)
            if last {  // a trailing ** is every file below
                // This folder is walked here: a link below that leads back to it is a loop.
                var st = stat()
                if fsStat(folder, &st) == 0 { _ = firstVisit(st) }
                counts.hidden += sorted.count { $0.name.hasPrefix(".") }
                for entry in sorted where !entry.name.hasPrefix(".") {
                    let path = shown.isEmpty ? entry.name : PathText.join(shown, entry.name)
                    let rel = relative.isEmpty ? entry.name : relative + "/" + entry.name
                    let saved = recursive
                    recursive = true
                    visit(path: path, relative: rel, type: entry.type, root: shown)
                    recursive = saved
                }
                return
            }
            for entry in sorted where !entry.name.hasPrefix(".") && isFolder(entry, in: shown) {
                let path = shown.isEmpty ? entry.name : PathText.join(shown, entry.name)
                let rel = relative.isEmpty ? entry.name : relative + "/" + entry.name
                descend(rest, into: path, shown: path, relative: rel)
            }
            return
        }
        // A hidden name the pattern would match but for its leading dot is skipped and counted,
        // as inside folders.
        if !part.hasPrefix(".") {
            counts.hidden += sorted.count { $0.name.hasPrefix(".") && Glob.matchesIgnoringLeadingDot(part, $0.name) }
        }
        for entry in sorted where Glob.matches(part, entry.name) {
            let path = shown.isEmpty ? entry.name : PathText.join(shown, entry.name)
            let rel = relative.isEmpty ? entry.name : relative + "/" + entry.name
            if last {
                if isFolder(entry, in: shown) {
                    walk(folder: path, relativeTo: rel, root: shown)
                } else {
                    visit(path: path, relative: rel, type: entry.type, root: shown)
                }
            } else if isFolder(entry, in: shown) {
                descend(rest.dropFirst(), into: path, shown: path, relative: rel)
            }
        }
    }

    private func isFolder(_ entry: (name: String, type: UInt8), in shown: String) -> Bool {
        if entry.type == UInt8(DT_DIR) { return true }
        guard entry.type == UInt8(DT_LNK) || entry.type == UInt8(DT_UNKNOWN) else { return false }
        var st = stat()
        return fsStat(shown.isEmpty ? entry.name : PathText.join(shown, entry.name), &st) == 0 && st.st_mode & S_IFMT == S_IFDIR
    }
}

/// Shell-style patterns, matched by `fnmatch(3)` one path component at a time: `*`, `?` and
/// `[...]` never match `/`, and a leading `.` only when the pattern starts with one.
enum Glob {
    static func isPattern(_ text: String) -> Bool {
        text.contains("*") || text.contains("?") || text.contains("[")
    }

    static func matches(_ pattern: String, _ name: String) -> Bool {
        FileSystemName.withCString(pattern) { p in
            FileSystemName.withCString(name) { n in fnmatch(p, n, FNM_PERIOD) == 0 }
        }
    }

    /// Whether `name` would match if a leading `.` were an ordinary character.
    static func matchesIgnoringLeadingDot(_ pattern: String, _ name: String) -> Bool {
        FileSystemName.withCString(pattern) { p in
            FileSystemName.withCString(name) { n in fnmatch(p, n, 0) == 0 }
        }
    }
}
