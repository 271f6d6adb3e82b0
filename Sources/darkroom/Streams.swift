import Darkroom
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Checked writes to standard output and standard error over `write(2)`.
///
/// Foundation's `FileHandle.write` traps on a closed, full or broken stream; these never do.
/// A failing standard output ends the run: one line on stderr, temporaries removed, exit 1.
/// A failing standard error is ignored so the work goes on.
enum StandardStreams {
    /// Run once at start: ignore SIGPIPE (a closed pipe becomes EPIPE) and park `/dev/null` on
    /// closed descriptors 0-2, so a file opened later never becomes "standard output". Standard
    /// output is parked read-only, so writing to it still fails (EBADF) and is reported.
    static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        for (fd, flags) in [(STDIN_FILENO, O_WRONLY), (STDOUT_FILENO, O_RDONLY), (STDERR_FILENO, O_RDONLY)]
        where fcntl(fd, F_GETFD) < 0 && errno == EBADF {
            let parked = open("/dev/null", flags)
            if parked >= 0 && parked != fd { dup2(parked, fd); close(parked) }
        }
    }

    /// Writes all of `bytes` to standard output or ends the process with status 1.
    static func out(_ bytes: [UInt8]) {
        let failure = writeAll(STDOUT_FILENO, bytes)
        if failure != 0 { stdoutFailed(failure) }
    }

    /// Writes a line to standard output (or ends the process with status 1).
    static func outLine(_ text: String) { out(Array((text + "\n").utf8)) }

    /// Writes to standard error; errors are ignored.
    static func err(_ text: String) { _ = writeAll(STDERR_FILENO, Array(text.utf8)) }

    /// Loops on partial writes and EINTR; returns 0 or the failing errno.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBytes { raw -> Int32 in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return errno }
                if n == 0 { return EIO }
                offset += n
            }
            return 0
        }
    }

    private static let failing = Lock()

    private static func stdoutFailed(_ code: Int32) -> Never {
        failing.lock()  // one report even when several threads fail at once; never unlocked
        let reason = code == EBADF ? "it is closed" : String(cString: strerror(code))
        err("darkroom: cannot write to standard output: \(reason)\n")
        OutputFile.removeTemporaries()
        _exit(ExitStatus.someFailed)
    }
}

/// Reads inputs with a byte limit: one reader for `convert`, `prep-refs` and `decode`.
///
/// A regular file's size is checked before reading; a stream (standard input, a FIFO, a
/// `<(…)` process substitution) is read until its end or until it passes the limit. Image
/// inputs are sniffed from their first 32 bytes before the rest is read, so a stream of zeros is
/// refused at once.
enum InputReader {
    /// The default `--max-input-bytes`: 256 MiB.
    static let defaultMaxBytes = 256 << 20

    /// How a file is named in messages: `-` is "standard input".
    static func displayName(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Reads `path` (`-` is standard input). With `image`, refuses bytes that are not a PNG,
    /// JPEG, WebP, AVIF or GIF (``DarkroomError/unknownFormat``) before reading further.
    static func read(_ path: String, limit: Int, image: Bool) throws -> [UInt8] {
        let fd: Int32
        if path == "-" {
            fd = STDIN_FILENO
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw DarkroomError.io(path: path, message: reason(errno)) }
        }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DarkroomError.io(path: path, message: reason(errno)) }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw DarkroomError.io(path: path, message: "is a directory, not a file") }
        let regular = type == S_IFREG
        if regular && Int(st.st_size) > limit {
            throw DarkroomError.inputTooLarge(path: displayName(path), size: Int(st.st_size), limit: limit)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(regular ? Int(st.st_size) : 64 << 10)
        if image {
            try readMore(fd, into: &bytes, upTo: 32, path: path)
            if ImageFormat.sniff(bytes) == nil { throw DarkroomError.unknownFormat }
        }
        // One byte past the limit tells a stream that is too long from one that is exactly full.
        try readMore(fd, into: &bytes, upTo: limit + 1, path: path)
        if bytes.count > limit {
            throw DarkroomError.inputTooLarge(path: displayName(path), size: regular ? bytes.count : nil, limit: limit)
        }
        return bytes
    }

    /// The sniffed format of an image file from its first 32 bytes, without reading the rest;
    /// nil for standard input (it can be read only once) and for unreadable files.
    static func sniff(_ path: String) -> ImageFormat? {
        guard path != "-" else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        var head: [UInt8] = []
        try? readMore(fd, into: &head, upTo: 32, path: path)
        return ImageFormat.sniff(head)
    }

    /// Reads until `bytes` holds `target` bytes or the input ends.
    private static func readMore(_ fd: Int32, into bytes: inout [UInt8], upTo target: Int, path: String) throws {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < target {
            let want = min(chunk.count, target - bytes.count)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, want) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let e = errno
                throw DarkroomError.io(path: path, message: e == EBADF && fd == STDIN_FILENO ? "is closed" : reason(e))
            }
            if n == 0 { return }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// The system's reason for `code`, in the CLI's lower-case style ("no such file").
    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EISDIR: return "is a directory, not a file"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
