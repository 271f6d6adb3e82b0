import Darkroom
#if canImport(Glibc)
import Glibc
#endif

/// One response item's image as its `b64_json` is decoded (the reader's ``ResponseImageSink``):
/// written straight to a pending output file in the output folder, so `decode` never holds the
/// image, then checked from that file and published under its name.
///
/// When that file cannot be created or written (a read-only or full folder), the bytes are kept
/// in memory from then on (what was written is read back first), so the item goes the way every
/// item went before streaming: checked in memory and written with ``OutputFile/write(_:to:overwrite:)``,
/// which then reports the same error, for the same reason, at the same point.
final class SpooledImage: ResponseImageSink {
    /// The folder the pending file is made in.
    let folder: String
    /// The pending file, once the first bytes came (nil when they are in ``memory``).
    private(set) var file: OutputFile.Pending?
    /// The bytes, when the file could not take them.
    private(set) var memory: [UInt8]?
    /// Why the bytes are lost (the file failed and could not be read back); the item fails with it.
    private(set) var failure: DarkroomError?
    /// The first bytes, for the format sniff (32 bytes, 256 for an AVIF's brands).
    private(set) var head: [UInt8] = []
    /// Bytes received.
    private(set) var count = 0

    init(folder: String) { self.folder = folder }

    func write(_ bytes: UnsafeRawBufferPointer) {
        if head.count < 256 { head += bytes.prefix(256 - head.count) }
        count += bytes.count
        guard failure == nil else { return }
        if memory != nil {
            memory!.append(contentsOf: bytes)
            return
        }
        do {
            if file == nil { file = try OutputFile.Pending(folder: folder) }
            try file!.write(bytes)
        } catch {
            var kept: [UInt8] = []
            if let file {
                kept = [UInt8](repeating: 0, count: file.byteCount)
                let got = kept.withUnsafeMutableBytes { Self.readFully(file.fileDescriptor, into: $0) }
                file.discard()
                guard got == kept.count else {
                    failure = error
                    self.file = nil
                    return
                }
            }
            file = nil
            kept.append(contentsOf: bytes)
            memory = kept
        }
    }

    /// Removes the pending file, if any.
    func discard() { file?.discard() }

    /// Reads `buffer.count` bytes of `fd` from offset 0 (fewer at its end or on an error).
    private static func readFully(_ fd: CInt, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(done))
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
        return done
    }
}
