#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Writes files so that a failure or an interruption never leaves a partial output.
///
/// How one ``write(_:to:overwrite:)`` works:
/// 1. The bytes go to a temporary file in the destination's folder: an unnamed `O_TMPFILE` where
///    the file system supports it (Linux), otherwise a short hidden name `.dr-PID-XXXXXXXX.tmp`
///    (at most 28 bytes, whatever the destination's name, so a 250-byte name still works).
/// 2. The file is `fsync`ed, then linked to the destination without replacing anything
///    (`linkat`/`link` fail when the name exists: no race between a check and the write), or,
///    with `overwrite`, renamed over it; the existing file's permission bits are kept.
/// 3. The folder is `fsync`ed so the new name survives a crash.
///
/// A destination that exists and is not a regular file (folder, FIFO, device, socket) is never
/// replaced: ``FileError/outputNotRegularFile(path:kind:)``.
///
/// Every named temporary is registered while it exists. A signal handler calls
/// ``removeTemporaries()`` to delete them before the process exits, and ``sweepStaleTemporaries(in:)``
/// deletes the ones a killed process (its pid is in the name) left behind.
public enum OutputFile {
    /// Throws now what ``write(_:to:overwrite:)`` would throw for `path` as it stands: an existing
    /// file without `overwrite` (``FileError/outputExists(path:)``), or something that is not a
    /// regular file (``FileError/outputNotRegularFile(path:kind:)``). Lets a caller refuse before
    /// it spends a conversion; `write` still checks atomically when it publishes.
    public static func checkWritable(_ path: String, overwrite: Bool) throws(DarkroomError) {
        var st = stat()
        guard fsLstat(path, &st) == 0 || fsStat(path, &st) == 0 else { return }
        if fsStat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            throw DarkroomError.file(.outputNotRegularFile(path: path, kind: kind(of: st.st_mode)))
        }
        if !overwrite { throw DarkroomError.file(.outputExists(path: path)) }
    }

    /// Writes `bytes` to `path` atomically. Throws ``FileError/outputExists(path:)`` when the
    /// file exists and `overwrite` is false, ``FileError/outputNotRegularFile(path:kind:)`` when
    /// it is not a regular file, and ``FileError/io(path:message:)`` for any system error
    /// (`message` is the system's reason, e.g. "No space left on device").
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(DarkroomError) {
        try write(to: path, overwrite: overwrite) { fd in bytes.withUnsafeBytes { writeAll(fd, $0) } }
    }

    /// ``write(_:to:overwrite:)`` with `body` writing the content into the temporary file (given
    /// its descriptor; it returns 0, or the `errno` of a failed write).
    static func write(to path: String, overwrite: Bool, body: (Int32) -> Int32) throws(DarkroomError) {
        if path.hasSuffix("/") {
            throw DarkroomError.file(.io(path: path, message: "names a folder (it ends with /), not an output file"))
        }
        let dir = folder(of: path)
        var st = stat()
        if fsStat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
            throw DarkroomError.file(.outputNotRegularFile(path: path, kind: kind(of: st.st_mode)))
        }
        let keepMode: mode_t? = overwrite && fsStat(path, &st) == 0 ? st.st_mode & 0o7777 : nil

        #if os(Linux)
        if let fd = prefersUnnamed ? openUnnamed(in: dir) : nil {
            do {
                try fill(fd, mode: keepMode, path: path, body: body)
                if try publishUnnamed(fd, to: path, dir: dir, overwrite: overwrite) {
                    close(fd)
                    syncFolder(dir)
                    return
                }
            } catch {
                close(fd)
                throw error
            }
            close(fd)  // linking through /proc is not possible here: fall back to a named file
        }
        #endif

        let (fd, temp) = try openNamed(in: dir, path: path)
        do {
            try fill(fd, mode: keepMode, path: path, body: body)
        } catch {
            close(fd)
            discard(temp)
            throw error
        }
        close(fd)
        try publishNamed(temp, to: path, overwrite: overwrite)
        syncFolder(dir)
    }

    /// Deletes every temporary file this process is writing and makes later writes fail, so the
    /// process can exit without leaving hidden files behind. Safe to call from any thread (a signal
    /// handler thread included); returns how many files were removed.
    @discardableResult
    public static func removeTemporaries() -> Int {
        registry.lock.lock()
        registry.closed = true
        let names = registry.names
        registry.names.removeAll()
        registry.lock.unlock()
        for name in names { _ = fsUnlink(name) }
        return names.count
    }

    /// Deletes the temporary files in `directory` left by Darkroom processes that no longer run
    /// (`.dr-PID-XXXXXXXX.tmp`, and the older `.NAME.darkroom-PID-N.tmp`); returns how many.
    /// Files of running processes, this one included, are left alone.
    @discardableResult
    public static func sweepStaleTemporaries(in directory: String) -> Int {
        guard let names = fsListFolder(directory)?.map(\.name) else { return 0 }
        var removed = 0
        for name in names {
            guard let pid = temporaryOwner(name), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                if fsUnlink(PathText.join(directory, name)) == 0 { removed += 1 }
            }
        }
        return removed
    }

    /// The pid in a Darkroom temporary file name, or nil when `name` is not one.
    static func temporaryOwner(_ name: String) -> pid_t? {
        guard name.hasPrefix("."), name.hasSuffix(".tmp") else { return nil }
        let body = name.dropLast(4)
        if body.hasPrefix(".dr-") {
            let parts = body.dropFirst(4).split(separator: "-")
            guard parts.count == 2, parts[1].count == 8, parts[1].allSatisfy(\.isHexDigit) else { return nil }
            return pid_t(parts[0])
        }
        if let range = body.ranges(of: ".darkroom-").last {
            let parts = body[range.upperBound...].split(separator: "-")
            guard parts.count == 2, parts[1].allSatisfy(\.isNumber) else { return nil }
            return pid_t(parts[0])
        }
        return nil
    }

    // MARK: - Steps

    /// Tests turn this off to exercise the named-temporary path (file systems without `O_TMPFILE`).
    nonisolated(unsafe) static var prefersUnnamed = true

    private final class Registry: @unchecked Sendable {
        let lock = Lock()
        var names: Set<String> = []
        var closed = false
    }
    private static let registry = Registry()

    /// Runs `body` (which creates the file `name`) and registers `name`, unless the process is
    /// being interrupted. Holding the lock means a signal handler never misses a file.
    /// Returns the call's result and its `errno`.
    static func register(_ name: String?, path: String, creating body: () -> Int32) throws(DarkroomError) -> (Int32, Int32) {
        registry.lock.lock()
        defer { registry.lock.unlock() }
        guard !registry.closed else { throw DarkroomError.file(.io(path: path, message: "interrupted")) }
        let result = body()
        let code = errno
        if result >= 0, let name { registry.names.insert(name) }
        return (result, code)
    }

    static func discard(_ name: String) {
        registry.lock.lock()
        registry.names.remove(name)
        registry.lock.unlock()
        _ = fsUnlink(name)
    }

    static func forget(_ name: String) {
        registry.lock.lock()
        registry.names.remove(name)
        registry.lock.unlock()
    }

    /// The folder part of `path` ("." for a bare name). Plain string work: Foundation's
    /// `deletingLastPathComponent` traps on some one-character paths.
    public static func folder(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    static func shortName(in dir: String) -> String {
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let hex = String(repeating: "0", count: 8 - random.count) + random
        return PathText.join(dir, ".dr-\(getpid())-\(hex).tmp")
    }

    static func systemReason(_ code: Int32, dir: String) -> String {
        if code == ENOENT { return "cannot write: the folder \(dir) does not exist" }
        return String(cString: strerror(code))
    }

    #if os(Linux)
    /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`); Glibc does not export the macro to Swift.
    private static let oTmpfile: Int32 = 0o20000000 | O_DIRECTORY

    /// An unnamed file in `dir`, or nil when the file system (or kernel) has no `O_TMPFILE`.
    /// `access`: `O_WRONLY`, or `O_RDWR` for a file that is read back (``Pending``).
    static func openUnnamed(in dir: String, access: Int32 = O_WRONLY) -> Int32? {
        registry.lock.lock()
        let closed = registry.closed
        registry.lock.unlock()
        if closed { return nil }
        let fd = fsOpen(dir, oTmpfile | access | O_CLOEXEC, 0o644)
        return fd >= 0 ? fd : nil
    }

    /// Gives the unnamed file its name. Returns false when linking fails for any reason but an
    /// existing destination (no `/proc`, …): the caller then retries with a named temporary, which
    /// reports the real reason if there is one.
    static func publishUnnamed(_ fd: Int32, to path: String, dir: String, overwrite: Bool) throws(DarkroomError) -> Bool {
        let source = "/proc/self/fd/\(fd)"
        if !overwrite {
            let (linked, e) = try register(nil, path: path) { fsLinkat(source, path) }
            if linked == 0 { return true }
            if e == EEXIST { throw DarkroomError.file(.outputExists(path: path)) }
            return false
        }
        // linkat cannot replace: link under a short name, then rename over the destination.
        let temp = shortName(in: dir)
        let (linked, _) = try register(temp, path: path) { fsLinkat(source, temp) }
        if linked != 0 { return false }
        try publishNamed(temp, to: path, overwrite: true)
        return true
    }
    #endif

    static func openNamed(in dir: String, path: String, access: Int32 = O_WRONLY) throws(DarkroomError) -> (Int32, String) {
        for _ in 0..<8 {
            let temp = shortName(in: dir)
            let (fd, e) = try register(temp, path: path) { fsOpen(temp, access | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
            if fd >= 0 { return (fd, temp) }
            if e != EEXIST { throw DarkroomError.file(.io(path: path, message: systemReason(e, dir: dir))) }
        }
        throw DarkroomError.file(.io(path: path, message: "cannot create a temporary file in \(dir)"))
    }

    /// Writes the content (`body`), applies `mode`, then fsyncs.
    private static func fill(_ fd: Int32, mode: mode_t?, path: String, body: (Int32) -> Int32) throws(DarkroomError) {
        var failure = body(fd)
        if failure == 0 { failure = finishContent(fd, mode: mode) }
        if failure != 0 { throw DarkroomError.file(.io(path: path, message: String(cString: strerror(failure)))) }
    }

    /// Applies `mode`, then fsyncs; 0 or the `errno` of the step that failed.
    static func finishContent(_ fd: Int32, mode: mode_t?) -> Int32 {
        if let mode, fchmod(fd, mode) != 0 { return errno }
        if fsync(fd) != 0 { return errno }
        return 0
    }

    /// Writes every byte of `raw` (looping on partial writes and EINTR); 0 or the `errno`.
    static func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer) -> Int32 {
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return n < 0 ? errno : EIO }
            offset += n
        }
        return 0
    }

    /// Moves the named temporary to `path`: rename (replaces) or link + unlink (never replaces).
    static func publishNamed(_ temp: String, to path: String, overwrite: Bool) throws(DarkroomError) {
        if overwrite {
            // Checked again just before the rename: never turn a FIFO or device into a file.
            var st = stat()
            if fsStat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                discard(temp)
                throw DarkroomError.file(.outputNotRegularFile(path: path, kind: kind(of: st.st_mode)))
            }
            guard fsRename(temp, path) == 0 else {
                let e = errno
                discard(temp)
                throw DarkroomError.file(.io(path: path, message: systemReason(e, dir: folder(of: path))))
            }
            forget(temp)
        } else {
            if fsLink(temp, path) != 0 {
                let e = errno
                discard(temp)
                if e == EEXIST { throw DarkroomError.file(.outputExists(path: path)) }
                throw DarkroomError.file(.io(path: path, message: systemReason(e, dir: folder(of: path))))
            }
            discard(temp)
        }
    }

    static func syncFolder(_ dir: String) {
        let fd = fsOpen(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// "a folder", "a FIFO", … for ``FileError/outputNotRegularFile(path:kind:)``.
    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }
}
