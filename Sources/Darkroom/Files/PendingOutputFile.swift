#if canImport(Glibc)
import Glibc
#endif

extension OutputFile {
    /// An output written a piece at a time before its name is known, then published as
    /// ``OutputFile/write(_:to:overwrite:)`` publishes: for content that should not be held in
    /// memory (a response's image as its base64 is decoded).
    ///
    /// The pieces go to a temporary file in ``folder``, unnamed (`O_TMPFILE`) where the file
    /// system allows, else a registered hidden `.dr-PID-XXXXXXXX.tmp` (removed on a signal like
    /// every temporary of ``OutputFile``). It is open for reading too: ``fileDescriptor`` can be
    /// read with `pread` (to check the content) before ``publish(to:overwrite:)`` fsyncs it and
    /// gives it its name, with the checks and errors of `write`. ``discard()`` (or `deinit`)
    /// removes it; either way nothing is left under the destination's name unless publishing
    /// succeeded.
    ///
    /// Used by one thread at a time.
    public final class Pending {
        /// The folder the temporary file is in.
        public let folder: String
        /// The temporary file, open for reading and writing; -1 once published or discarded.
        public private(set) var fileDescriptor: CInt
        /// Bytes written so far.
        public private(set) var byteCount = 0
        /// The named temporary's path; nil when it is unnamed (or no longer ours).
        private(set) var temp: String?

        /// Creates the temporary file in `folder`. Throws ``DarkroomError/file(_:)``
        /// (``FileError/io(path:message:)``, naming `folder`) when it cannot be created.
        public init(folder: String) throws(DarkroomError) {
            self.folder = folder
            #if os(Linux)
            if OutputFile.prefersUnnamed, let fd = OutputFile.openUnnamed(in: folder, access: O_RDWR) {
                fileDescriptor = fd
                return
            }
            #endif
            let (fd, name) = try OutputFile.openNamed(in: folder, path: folder, access: O_RDWR)
            fileDescriptor = fd
            temp = name
        }

        deinit { discard() }

        /// Appends `bytes`. Throws ``DarkroomError/file(_:)`` (``FileError/io(path:message:)``,
        /// naming ``folder``) when the write fails (the file may then hold part of them).
        public func write(_ bytes: UnsafeRawBufferPointer) throws(DarkroomError) {
            precondition(fileDescriptor >= 0, "written after it was published or discarded")
            let e = OutputFile.writeAll(fileDescriptor, bytes)
            if e != 0 { throw DarkroomError.file(.io(path: folder, message: String(cString: strerror(e)))) }
            byteCount += bytes.count
        }

        /// Gives the file the name `path` as ``OutputFile/write(_:to:overwrite:)`` would (its checks,
        /// its errors; the mode of a replaced file kept, fsync, a link that never replaces or, with
        /// `overwrite`, a rename, the folder fsynced). Linked from where it is when `path` is on
        /// the same file system; otherwise copied into a temporary beside `path` first. Afterwards,
        /// failed or not, the temporary is gone and ``fileDescriptor`` is closed.
        public func publish(to path: String, overwrite: Bool) throws(DarkroomError) {
            precondition(fileDescriptor >= 0, "published after it was published or discarded")
            defer { discard() }
            if path.hasSuffix("/") {
                throw DarkroomError.file(.io(path: path, message: "names a folder (it ends with /), not an output file"))
            }
            let dir = OutputFile.folder(of: path)
            var st = stat()
            if fsStat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
                throw DarkroomError.file(.outputNotRegularFile(path: path, kind: OutputFile.kind(of: st.st_mode)))
            }
            let keepMode: mode_t? = overwrite && fsStat(path, &st) == 0 ? st.st_mode & 0o7777 : nil
            let e = OutputFile.finishContent(fileDescriptor, mode: keepMode)
            if e != 0 { throw DarkroomError.file(.io(path: path, message: String(cString: strerror(e)))) }
            #if os(Linux)
            if temp == nil, try OutputFile.publishUnnamed(fileDescriptor, to: path, dir: dir, overwrite: overwrite) {
                OutputFile.syncFolder(dir)
                return
            }
            #endif
            if let name = temp, dir == folder {
                temp = nil   // publishNamed takes it: renamed, or removed
                try OutputFile.publishNamed(name, to: path, overwrite: overwrite)
                OutputFile.syncFolder(dir)
                return
            }
            // Not linkable from here (another file system, no /proc): a copy, written as `write` writes.
            let source = fileDescriptor, count = byteCount
            try OutputFile.write(to: path, overwrite: overwrite) { fd in Self.copy(from: source, count: count, to: fd) }
        }

        /// Removes the temporary file and closes it (nothing when already done).
        public func discard() {
            if fileDescriptor >= 0 {
                close(fileDescriptor)
                fileDescriptor = -1
            }
            if let name = temp {
                temp = nil
                OutputFile.discard(name)
            }
        }

        /// Copies the first `count` bytes of `source` (read with `pread`) to `destination`, 64 KiB at
        /// a time; 0 or an `errno`.
        private static func copy(from source: CInt, count: Int, to destination: CInt) -> Int32 {
            let size = 64 << 10
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { buffer.deallocate() }
            var offset = 0
            while offset < count {
                let n = pread(source, buffer.baseAddress!, min(size, count - offset), off_t(offset))
                if n < 0 && errno == EINTR { continue }
                if n < 0 { return errno }
                if n == 0 { return EIO }
                let e = OutputFile.writeAll(destination, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if e != 0 { return e }
                offset += n
            }
            return 0
        }
    }
}
