import Foundation

/// Writes files so that a failure never leaves a partial output: the bytes go to a temporary
/// file in the same folder, which is then renamed over the destination.
public enum OutputFile {
    /// Writes `bytes` to `path` atomically. Throws ``DarkroomError/outputExists(path:)`` when the
    /// file exists and `overwrite` is false.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let temp = dir + "/." + url.lastPathComponent + ".darkroom-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "cannot write: the folder \(dir) does not exist" : String(cString: strerror(errno))
            throw DarkroomError.io(path: path, message: reason)
        }
        var ok = true
        var message = ""
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { ok = false; message = String(cString: strerror(errno)); break }
                offset += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false; message = String(cString: strerror(errno)) }
        close(fd)
        guard ok else { unlink(temp); throw DarkroomError.io(path: path, message: message) }
        if overwrite {
            guard rename(temp, path) == 0 else {
                let m = String(cString: strerror(errno)); unlink(temp)
                throw DarkroomError.io(path: path, message: m)
            }
        } else {
            // link() fails if the destination exists: no race between the check and the rename.
            if link(temp, path) != 0 {
                let e = errno
                unlink(temp)
                if e == EEXIST { throw DarkroomError.outputExists(path: path) }
                throw DarkroomError.io(path: path, message: String(cString: strerror(e)))
            }
            unlink(temp)
        }
    }
}
