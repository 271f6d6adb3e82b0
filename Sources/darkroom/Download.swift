import Darkroom
#if canImport(Glibc)
import Glibc
#endif

/// `decode --download` for http(s) URLs: runs the system `curl` in a child process and reads its
/// output under a byte cap, so the CLI links neither libcurl nor FoundationNetworking (with them,
/// every run, `--help` included, loaded ~80 shared libraries: GnuTLS, Kerberos, LDAP, ICU, …).
///
/// Limits: at most `limit` bytes (`--max-input-bytes`; curl's `--max-filesize` refuses a larger
/// declared length at once, and reading stops one byte past the limit whatever the server sends),
/// 30 s to connect, 60 s without progress, 300 s in all, 5 redirects, http(s) only (redirects too).
enum Download {
    static let connectTimeout = 30
    static let stallSeconds = 60
    static let maxSeconds = 300
    static let maxRedirects = 5

    /// The arguments given to curl (also for tests).
    static func arguments(_ url: String, limit: Int) -> [String] {
        ["curl", "--silent", "--show-error", "--fail", "--location", "--globoff",
         "--proto", "=http,https", "--proto-redir", "=http,https", "--max-redirs", String(maxRedirects),
         "--max-filesize", String(limit), "--connect-timeout", String(connectTimeout),
         "--speed-limit", "1", "--speed-time", String(stallSeconds), "--max-time", String(maxSeconds),
         "--output", "-", "--url", url]
    }

    static func fetch(_ url: String, index: Int, limit: Int) throws -> [UInt8] {
        func failure(_ reason: String) -> GatewayError { .badItem(index: index, reason: "download failed: \(reason)") }
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { throw failure(String(cString: strerror(errno))) }
        guard pipe(&err) == 0 else {
            close(out[0]); close(out[1])
            throw failure(String(cString: strerror(errno)))
        }
        // Not inherited by curl (dup2 below gives it its own copies) nor by other children.
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO)
        // The CLI blocks SIGINT/SIGTERM (``Signals``) and ignores SIGPIPE: curl gets the defaults.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments(url, limit: limit).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, "curl", &actions, &attributes, argv, environ)
        close(out[1]); close(err[1])
        guard spawned == 0 else {
            close(out[0]); close(err[0])
            throw failure(spawned == ENOENT ? "the curl program is needed for http(s) URLs and was not found"
                                            : "cannot run curl: \(String(cString: strerror(spawned)))")
        }

        var bytes: [UInt8] = []
        // Set when the download is stopped early (curl is killed): over the limit, or not an image.
        var refused: GatewayError?
        let tooLargeError = GatewayError.badItem(
            index: index, reason: DarkroomError.file(.inputTooLarge(path: url, size: nil, limit: limit)).message(for: .commandLine))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(out[0], $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            let before = bytes.count
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > limit {
                refused = tooLargeError
            } else if before < 32 && bytes.count >= 32 && ImageFormat.sniff(bytes) == nil {
                // The first 32 bytes must start an image: a stream of anything else is refused at once.
                refused = .badItem(index: index, reason: DarkroomError.decoding(.unknownFormat).message(for: .commandLine))
            }
            if refused != nil { kill(pid, SIGKILL); break }
        }
        close(out[0])
        var message: [UInt8] = []
        while refused == nil && message.count < 4096 {
            let n = chunk.withUnsafeMutableBytes { read(err[0], $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            message.append(contentsOf: chunk[0..<n])
        }
        close(err[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}

        if let refused { throw refused }
        let exited = status & 0x7f == 0
        let code = exited ? (status >> 8) & 0xff : -1
        if code == 0 { return bytes }
        if code == 63 { throw tooLargeError }   // CURLE_FILESIZE_EXCEEDED
        if code == 28 { throw failure("timed out (\(connectTimeout) s to connect, \(stallSeconds) s without data, \(maxSeconds) s in all)") }
        // curl's own words, without its "curl: (N) " prefix; --fail's "returned error: 404" → "HTTP 404".
        var text = String(decoding: message, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        if text.hasPrefix("curl: ("), let close = text.firstIndex(of: ")") {
            text = String(text[text.index(after: close)...]).trimmingSpaces()
        }
        if code == 22, let range = text.ranges(of: "returned error: ").last {
            let status = text[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
            if !status.isEmpty { throw failure("HTTP \(status)") }
        }
        if !exited { throw failure("curl ended by signal \(status & 0x7f)") }
        throw failure(text.isEmpty ? "curl exit status \(code)" : text)
    }
}
