#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where an ``ImagesResponseReader`` reads from: bytes in memory, or an open file descriptor read
/// in chunks under a byte limit (a regular file's size is checked up front, a stream is refused
/// one byte past the limit, as ``InputFile`` does).
struct ResponseByteSource {
    enum Kind {
        case memory(Data)
        /// `regularStart`: the file offset reading began at, for a regular file (nil for a stream).
        case descriptor(CInt, owned: Bool, regularStart: Int?)
    }

    let kind: Kind
    /// The path (or `-`) named in errors.
    let name: String
    let limit: Int
    /// Bytes handed out so far.
    private(set) var delivered = 0

    init(data: Data) {
        kind = .memory(data)
        name = "response"
        limit = Limits.maxByteCount
    }

    /// `fd` is closed by ``close()`` only when `owned`.
    init(fileDescriptor fd: CInt, owned: Bool, name: String, limit: Int) throws(DarkroomError) {
        try ValueParser.check(limit, name: "max-input-bytes", in: 1...Limits.maxByteCount)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw DarkroomError.file(.io(path: name, message: InputFile.reason(errno))) }
        let type = st.st_mode & S_IFMT
        if type == S_IFDIR { throw DarkroomError.file(.io(path: name, message: "is a directory, not a file")) }
        var regularStart: Int?
        if type == S_IFREG {
            let offset = Int(lseek(fd, 0, SEEK_CUR))
            let remaining = Int(st.st_size) - max(offset, 0)
            if remaining > limit {
                throw DarkroomError.file(.inputTooLarge(path: InputFile.displayName(name), size: remaining, limit: limit))
            }
            regularStart = offset >= 0 ? offset : nil
        }
        kind = .descriptor(fd, owned: owned, regularStart: regularStart)
        self.name = name
        self.limit = limit
    }

    /// Fills `buffer` as far as the input allows; 0 only at the end. Throws ``DarkroomError/file(_:)``
    /// (``FileError/io(path:message:)``, ``FileError/inputTooLarge(path:size:limit:)``).
    mutating func read(into buffer: UnsafeMutableBufferPointer<UInt8>) throws(DarkroomError) -> Int {
        switch kind {
        case let .memory(data):
            let n = min(buffer.count, data.count - delivered)
            if n > 0 {
                let start = data.startIndex + delivered
                data.copyBytes(to: buffer.baseAddress!, from: start..<(start + n))
            }
            delivered += n
            return n
        case let .descriptor(fd, _, _):
            // One byte past the limit tells an input that is too long from one that is exactly full.
            let want = min(buffer.count, limit + 1 - delivered)
            let n = try InputFile.readSome(fd, into: buffer.baseAddress!, upTo: want, path: name)
            delivered += n
            if delivered > limit {
                throw DarkroomError.file(.inputTooLarge(path: InputFile.displayName(name), size: nil, limit: limit))
            }
            return n
        }
    }

    /// How many bytes past those delivered come before the next `byte`, looked up without
    /// consuming anything (in memory, or with `pread` on a regular file, `scratch` bytes at a
    /// time); nil for a stream, or when the input ends first.
    func distance(to byte: UInt8, scratch: Int) -> Int? {
        switch kind {
        case let .memory(data):
            guard delivered < data.count else { return nil }
            return data.withUnsafeBytes { raw -> Int? in
                let base = raw.baseAddress! + delivered
                guard let hit = memchr(base, Int32(byte), data.count - delivered) else { return nil }
                return UnsafeRawPointer(hit) - base
            }
        case let .descriptor(fd, _, regularStart?):
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: scratch, alignment: 16)
            defer { buffer.deallocate() }
            var seen = 0
            while delivered + seen <= limit {
                let n = pread(fd, buffer, scratch, off_t(regularStart + delivered + seen))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return nil }
                if let hit = memchr(buffer, Int32(byte), n) { return seen + (UnsafeRawPointer(hit) - UnsafeRawPointer(buffer)) }
                seen += n
            }
            return nil
        case .descriptor:
            return nil
        }
    }

    func close() {
        if case let .descriptor(fd, true, _) = kind { _ = Glibc.close(fd) }
    }
}
