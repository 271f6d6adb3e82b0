#if canImport(Glibc)
import Glibc
#endif

/// Reads inputs with a byte limit: the one reader of the CLI's `convert`, `prep-refs` and
/// `decode`, and of ``Converter/convert(contentsOf:maxInputBytes:)``.
///
/// A regular file's size is checked before reading; a stream (standard input, a FIFO, a
/// `<(…)` process substitution) is read until its end or until it passes the limit. Image
/// inputs are sniffed from their first 32 bytes before the rest is read, so a stream of zeros is
/// refused at once.
public enum InputFile {
    /// The default `--max-input-bytes`: 256 MiB.
    public static let defaultMaxBytes = 256 << 20

    /// How a file is named in messages: `-` is "standard input".
    public static func displayName(_ path: String) -> String { path == "-" ? "standard input" : path }

    /// Reads `path` (`-` is standard input), at most `limit` bytes (1 to ``Limits/maxByteCount``).
    /// With `image`, refuses bytes that are not a PNG, JPEG, WebP, AVIF or GIF
    /// (``ImageDecodingError/unknownFormat``) after the first 32 bytes, before reading further.
    ///
    /// Throws ``DarkroomError/file(_:)`` (``FileError/io(path:message:)``,
    /// ``FileError/inputTooLarge(path:size:limit:)``) and ``DarkroomError/decoding(_:)``.
    public static func read(_ path: String, limit: Int = defaultMaxBytes, image: Bool = true) throws(DarkroomError) -> [UInt8] {
        if path == "-" { return try read(fileDescriptor: STDIN_FILENO, name: path, limit: limit, image: image) }
        let fd = fsOpen(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DarkroomError.file(.io(path: path, message: reason(errno))) }
        defer { close(fd) }
        return try read(fileDescriptor: fd, name: path, limit: limit, image: image)
    }

    /// Reads an open file descriptor (a file, pipe or socket) from its current offset to its end,
    /// at most `limit` bytes; `name` is used in errors. The descriptor is not closed.
    /// Throws as ``read(_:limit:image:)``.
    public static func read(fileDescriptor fd: CInt, name path: String, limit: Int = defaultMaxBytes,
                            image: Bool = true) throws(DarkroomError) -> [UInt8] {
        try ValueParser.check(limit, name: "max-input-bytes", in: 1...Limits.maxByteCount)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DarkroomError.file(.io(path: path, message: reason(errno))) }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw DarkroomError.file(.io(path: path, message: "is a directory, not a file")) }
        let regular = type == S_IFREG
        if regular && Int(st.st_size) > limit {
            throw DarkroomError.file(.inputTooLarge(path: displayName(path), size: Int(st.st_size), limit: limit))
        }
        if regular { return try readRegular(fd, size: Int(st.st_size), name: path, limit: limit, image: image) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 << 10)
        if image {
            try readMore(fd, into: &bytes, upTo: 32, path: path)
            if ImageFormat.sniff(bytes) == nil { throw DarkroomError.decoding(.unknownFormat) }
        }
        // One byte past the limit tells a stream that is too long from one that is exactly full.
        try readMore(fd, into: &bytes, upTo: limit + 1, path: path)
        if bytes.count > limit {
            throw DarkroomError.file(.inputTooLarge(path: displayName(path), size: nil, limit: limit))
        }
        return bytes
    }

    /// A regular file of `size` bytes (at most `limit`), read straight into the array's storage:
    /// the sniff after the first 32 bytes, then the rest in one `read` (looping on short reads).
    /// A file that grew since `fstat` is read on through ``readMore(_:into:upTo:path:)``, so the
    /// limit still holds.
    private static func readRegular(_ fd: CInt, size: Int, name path: String, limit: Int,
                                    image: Bool) throws(DarkroomError) -> [UInt8] {
        var failure: DarkroomError?
        var bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, count in
            count = 0
            /// Reads until `count` is `target` or the file ends; false after an error.
            func fill(to target: Int) -> Bool {
                do throws(DarkroomError) {
                    count += try readSome(fd, into: buffer.baseAddress! + count, upTo: target - count, path: path)
                    return true
                } catch {
                    failure = error
                    return false
                }
            }
            if image {
                guard fill(to: min(32, size + 1)) else { return }
                guard ImageFormat.sniff(UnsafeBufferPointer(rebasing: buffer[0..<count])) != nil else {
                    failure = .decoding(.unknownFormat)
                    return
                }
            }
            _ = fill(to: size + 1)
        }
        if let failure { throw failure }
        if bytes.count > size {
            // The file grew since fstat: read on, one byte past the limit.
            try readMore(fd, into: &bytes, upTo: limit + 1, path: path)
            if bytes.count > limit {
                throw DarkroomError.file(.inputTooLarge(path: displayName(path), size: bytes.count, limit: limit))
            }
        }
        return bytes
    }

    /// The sniffed format of an image file from its first 32 bytes, without reading the rest;
    /// nil for standard input (it can be read only once) and for unreadable files.
    public static func sniff(_ path: String) -> ImageFormat? {
        guard path != "-" else { return nil }
        let fd = fsOpen(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        // 32 bytes straight into a small buffer (a batch plan sniffs every file of a folder).
        var head = [UInt8](repeating: 0, count: 32)
        let n = head.withUnsafeMutableBufferPointer { (try? readSome(fd, into: $0.baseAddress!, upTo: 32, path: path)) ?? 0 }
        return ImageFormat.sniff(Array(head.prefix(n)))
    }

    /// Reads until `bytes` holds `target` bytes or the input ends, 64 KiB at a time.
    private static func readMore(_ fd: Int32, into bytes: inout [UInt8], upTo target: Int, path: String) throws(DarkroomError) {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while bytes.count < target {
            let want = min(chunk.count, target - bytes.count)
            var failure: DarkroomError?
            let n = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                do throws(DarkroomError) { return try readSome(fd, into: buffer.baseAddress!, upTo: want, path: path) } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if n == 0 { return }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Reads up to `count` bytes into `buffer`, looping on short reads and EINTR; returns how many
    /// (fewer only at the end of the input). The one `read` loop of this file (also used by
    /// the gateway's chunked response reader).
    static func readSome(_ fd: Int32, into buffer: UnsafeMutablePointer<UInt8>, upTo count: Int,
                          path: String) throws(DarkroomError) -> Int {
        var done = 0
        while done < count {
            let n = Glibc.read(fd, buffer + done, count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let e = errno
                throw DarkroomError.file(.io(path: path, message: e == EBADF && fd == STDIN_FILENO ? "is closed" : reason(e)))
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Up to `count` bytes of the open file `fd` from `offset` (with `pread`: the descriptor's own
    /// offset is left alone), fewer only at its end; `name` is used in errors. Throws
    /// ``DarkroomError/file(_:)`` (``FileError/io(path:message:)``).
    static func read(fileDescriptor fd: CInt, at offset: Int, count: Int, name: String) throws(DarkroomError) -> [UInt8] {
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: max(count, 0)) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let n = pread(fd, buffer.baseAddress! + initialized, count - initialized, off_t(offset + initialized))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { failure = errno; return }
                if n == 0 { return }
                initialized += n
            }
        }
        if failure != 0 { throw DarkroomError.file(.io(path: name, message: reason(failure))) }
        return bytes
    }

    /// The system's reason for `code`, in the CLI's lower-case style ("no such file").
    public static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EISDIR: return "is a directory, not a file"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
