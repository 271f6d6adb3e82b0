import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import Darkroom

/// The `darkroom-server` executable (the debug build, as ServerHelpTests): `--version`, `--port 0`,
/// the start, request-log and shutdown lines, a busy port.
@Suite(.serialized) struct ServerCommandTests {
    static let binary = ServerHelpTests.serverRoot.appendingPathComponent(".build/debug/darkroom-server").path

    /// A running `darkroom-server`: its output lines as they come, and a way to stop it.
    final class Running: @unchecked Sendable {
        let process = Process()
        private let out = Pipe()
        private let err = Pipe()
        private let lock = NSLock()
        private var stdoutText = ""
        private var stderrText = ""

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: ServerCommandTests.binary)
            process.arguments = arguments
            process.standardOutput = out
            process.standardError = err
            out.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else { return }
                self.lock.lock(); self.stdoutText += String(decoding: data, as: UTF8.self); self.lock.unlock()
            }
            err.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else { return }
                self.lock.lock(); self.stderrText += String(decoding: data, as: UTF8.self); self.lock.unlock()
            }
            try process.run()
        }

        var stdout: String { lock.lock(); defer { lock.unlock() }; return stdoutText }
        var stderr: String { lock.lock(); defer { lock.unlock() }; return stderrText }

        /// Waits (up to `seconds`) until standard output holds `text`.
        func wait(for text: String, seconds: Double = 60) async -> Bool {
            let deadline = Date(timeIntervalSinceNow: seconds)
            while Date() < deadline {
                if stdout.contains(text) { return true }
                if !process.isRunning { return stdout.contains(text) }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return false
        }

        /// Waits (up to `seconds`) for the process to exit; kills it after that.
        func exitStatus(within seconds: Double = 60) async -> Int32 {
            let deadline = Date(timeIntervalSinceNow: seconds)
            while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { process.terminate(); Issue.record("darkroom-server did not exit within \(seconds) s") }
            process.waitUntilExit()
            try? await Task.sleep(for: .milliseconds(100))  // the last output
            return process.terminationStatus
        }

        /// The port of the start line, `listening on http://127.0.0.1:PORT`.
        var port: Int? {
            guard let range = stdout.range(of: "listening on http://127.0.0.1:") else { return nil }
            return Int(stdout[range.upperBound...].prefix { $0.isNumber })
        }
    }

    @Test func versionPrintsTheServerAndItsLibraries() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build darkroom-server first (scripts/test.sh does)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--version"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = text.split(separator: "\n")
        #expect(lines.first == "darkroom-server \(CodecLibraries.darkroomVersion)")
        #expect(lines.dropFirst().map { String($0.split(separator: " ")[0]) } == CodecLibraries.versions.map(\.name))
    }

    /// `--port 0`: a free port, named in the start line; requests are logged one line each;
    /// SIGTERM prints the shutdown line and exits 0.
    @Test func portZeroStartsLogsAndShutsDown() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build darkroom-server first (scripts/test.sh does)")
        let server = try Running(["--port", "0", "--workers", "1"])
        #expect(await server.wait(for: "listening on"))
        let port = try #require(server.port)
        #expect(port > 0 && port != 8080)
        let startLine = server.stdout.split(separator: "\n").first { $0.contains("listening on") }
        #expect(startLine == "darkroom-server \(CodecLibraries.darkroomVersion): listening on http://127.0.0.1:\(port) (1 workers, queue 2, uploads 6)")

        let connection = try RawConnection(port: port)
        connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: test-42\r\n\r\n")
        let response = connection.response(timeout: 10)
        #expect(response.hasPrefix("HTTP/1.1 200"))
        #expect(response.lowercased().contains("x-request-id: test-42"))
        #expect(await server.wait(for: "request_id=test-42"))
        let logLine = try #require(server.stdout.split(separator: "\n").first { $0.contains("request_id=test-42") })
        for field in ["method=GET", "path=/healthz", "status=200", "bytes_in=0", "bytes_out=2", "ms="] {
            #expect(logLine.contains(field), "\(logLine)")
        }

        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.exitStatus() == 0)
        #expect(server.stdout.hasSuffix("darkroom-server: shut down (drained)\n"), "\(server.stdout)")
    }

    @Test func theRequestLogCanBeTurnedOff() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build darkroom-server first (scripts/test.sh does)")
        let server = try Running(["--port", "0", "--no-request-log"])
        #expect(await server.wait(for: "listening on"))
        let connection = try RawConnection(port: try #require(server.port))
        connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc123\r\n\r\n")
        let answer = connection.response(timeout: 10)
        #expect(answer.hasPrefix("HTTP/1.1 200"))
        #expect(answer.lowercased().contains("x-request-id: abc123\r\n"), "the id is echoed without the log too: \(answer)")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.exitStatus() == 0)
        #expect(server.stdout.split(separator: "\n").count == 2, "\(server.stdout)")   // start and shutdown only
    }

    /// A port in use: one plain line on standard error, exit 1.
    @Test func aBusyPortIsOneClearLine() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build darkroom-server first (scripts/test.sh does)")
        // Hold a port: bind and listen on an ephemeral one.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        let server = try Running(["--port", "\(port)"])
        #expect(await server.exitStatus() == 1)
        #expect(server.stderr == "darkroom-server: cannot listen on 127.0.0.1:\(port): the address is already in use"
                + " (another server listens there; choose another --port, or --port 0 for a free one)\n")
        #expect(server.stdout.isEmpty)
    }

    @Test func badValuesExitTwo() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary), "build darkroom-server first (scripts/test.sh does)")
        for (arguments, line) in [
            (["--port", "65536"], "darkroom-server: invalid port '65536': expected an integer from 0 to 65535\n"),
            (["--max-upscale", "0.5"], "darkroom-server: invalid max-upscale '0.5': expected a number from 1 up to 1000\n"),
            (["--max-jpeg-scans", "0"], "darkroom-server: invalid max-jpeg-scans '0': expected an integer from 1 to 65535\n"),
        ] {
            let server = try Running(arguments)
            #expect(await server.exitStatus() == 2, "\(arguments)")
            #expect(server.stderr == line, "\(arguments)")
        }
    }
}
