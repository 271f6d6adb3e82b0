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
