import Foundation
import Testing
@testable import Darkroom
#if canImport(Glibc)
import Glibc
#endif

/// `decode --download` over HTTP goes through the system curl (issue #9): same messages as before,
/// and now capped at `--max-input-bytes` even when the server sends no length.
@Suite struct DownloadTests {
    static let ready = FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")

    /// A one-thread HTTP/1.0 server on 127.0.0.1 for `connections` requests: `/small.png` (a PNG with
    /// Content-Length), `/big` (2 MB starting like a PNG, no length), anything else 404.
    final class TinyServer: @unchecked Sendable {
        let port: UInt16

        init(connections: Int) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard fd >= 0, bound == 0, listen(fd, 8) == 0 else { throw GatewayTestError(message: "cannot listen") }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            port = UInt16(bigEndian: address.sin_port)
            let listener = fd
            Thread.detachNewThread {
                for _ in 0..<connections {
                    let c = accept(listener, nil, nil)
                    if c < 0 { break }
                    var request = [UInt8](repeating: 0, count: 4096)
                    let n = read(c, &request, request.count)
                    let line = String(decoding: request.prefix(max(0, n)), as: UTF8.self)
                    let path = line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
                    let response: [UInt8]
                    switch path {
                    case "/small.png":
                        let body = GatewayFixtures.redPixelPNG
                        response = Array("HTTP/1.0 200 OK\r\nContent-Type: image/png\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
                    case "/big":
                        response = Array("HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n".utf8)
                            + Array(GatewayFixtures.redPixelPNG.prefix(8)) + [UInt8](repeating: 0, count: 2 << 20)
                    case "/zeros":
                        response = Array("HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n".utf8) + [UInt8](repeating: 0, count: 2 << 20)
                    default:
                        response = Array("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".utf8)
                    }
                    response.withUnsafeBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            let w = send(c, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))  // no SIGPIPE
                            if w <= 0 { break }  // the client hung up (the capped download)
                            offset += w
                        }
                    }
                    close(c)
                }
                close(listener)
            }
        }
    }

    @Test(.enabled(if: ready, "needs /usr/bin/curl"))
    func httpDownloadsAreCappedAndReportedAsBefore() throws {
        let server = try TinyServer(connections: 3)
        let base = "http://127.0.0.1:\(server.port)"
        let dir = try TestSupport.tempDir()
        let response = dir.appendingPathComponent("r.json")
        let body = #"{"created":7,"data":[{"url":"\#(base)/small.png"},{"url":"\#(base)/missing.png"},{"url":"\#(base)/big"}]}"#
        try Data(body.utf8).write(to: response)
        let out = dir.appendingPathComponent("out")
        let r = try GatewayCLI.run(["decode", response.path, "-o", out.path, "--download", "--max-input-bytes", "100000"])
        #expect(r.status == 1)
        #expect([UInt8](try Data(contentsOf: out.appendingPathComponent("7-0.png"))) == GatewayFixtures.redPixelPNG)
        #expect(r.stderr.contains("item 1: download failed: HTTP 404"))
        #expect(r.stderr.contains("item 2: \(base)/big: more than 100000 bytes, over the input limit of 100000 bytes"))
    }

    /// Items that are no image are refused from their first bytes over http too, a file:// item
    /// must be a regular file (a FIFO would block the run forever), and a URL with a control
    /// character (a NUL would cut it where curl reads it) is refused before anything is fetched.
    @Test(.enabled(if: ready, "needs /usr/bin/curl"))
    func nonImagesFIFOsAndControlCharactersAreRefused() throws {
        let server = try TinyServer(connections: 1)
        let dir = try TestSupport.tempDir()
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let response = dir.appendingPathComponent("r.json")
        let body = #"{"created":9,"data":[{"url":"http://127.0.0.1:\#(server.port)/zeros"},{"url":"file://\#(fifo)"},"#
            + #"{"url":"http://127.0.0.1:\#(server.port)/small.png\u0000/../x"}]}"#
        try Data(body.utf8).write(to: response)
        let r = try GatewayCLI.run(["decode", response.path, "-o", dir.appendingPathComponent("out").path, "--download"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("item 0: not a PNG, JPEG, WebP, AVIF or GIF file"), "\(r.stderr)")
        #expect(r.stderr.contains("item 1: \(fifo) is not a regular file"), "\(r.stderr)")
        #expect(r.stderr.contains("item 2: the URL holds control characters"), "\(r.stderr)")
    }

    /// A file:// item that is an endless stream and no image (file:///dev/zero) is refused after
    /// its first 32 bytes, not after reading up to the input limit (a new-user report: 256 MiB).
    @Test func aFileItemThatIsNoImageIsRefusedAtOnce() throws {
        let dir = try TestSupport.tempDir()
        let response = dir.appendingPathComponent("r.json")
        let text = dir.appendingPathComponent("notes.txt")
        try Data(String(repeating: "not an image ", count: 100).utf8).write(to: text)
        try Data(#"{"created":8,"data":[{"url":"file:///dev/zero"},{"url":"file://\#(text.path)"}]}"#.utf8).write(to: response)
        let r = try GatewayCLI.run(["decode", response.path, "-o", dir.appendingPathComponent("out").path, "--download"])
        #expect(r.status == 1)
        // (Before: "more than 268435456 bytes, over the input limit", after reading all of them.)
        // A device is no regular file; a regular file that is no image is sniffed (next test: over http).
        #expect(r.stderr.contains("item 0: /dev/zero is not a regular file"), "\(r.stderr)")
        #expect(r.stderr.contains("item 1: not a PNG, JPEG, WebP, AVIF or GIF file"), "\(r.stderr)")
    }
}
