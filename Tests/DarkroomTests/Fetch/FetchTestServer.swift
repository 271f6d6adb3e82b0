import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.0 server for the fetch tests, listening on 127.0.0.1 and on ::1 at the same
/// port, one thread per connection, until ``stop()``. It records every request's path, so a test
/// can check that a refused download never reached it.
///
/// Routes: `/small.png` (a 1x1 PNG with Content-Length), `/nolen.png` (the same without length),
/// `/big` (2 MB starting like a PNG, no length), `/declared` (Content-Length 10000000, then only
/// 8 bytes), `/text` (4000 bytes of text), `/short-text` (4 bytes), `/stall` (8 bytes of a PNG,
/// then nothing for 5 s), `/drip` (a PNG's first byte, then one byte every 200 ms for 10 s),
/// `/redirect?to=URL` (302 to URL), `/chain/N` (302 to `/chain/N-1`; `/chain/0` is `/small.png`),
/// anything else 404.
final class FetchTestServer: @unchecked Sendable {
    let port: UInt16
    private var listeners: [Int32] = []
    private let lock = NSLock()
    private var requested: [String] = []

    /// The paths requested so far, in order.
    var paths: [String] { lock.withLock { requested } }

    static let png = GatewayFixtures.redPixelPNG

    init() throws {
        // Port from the IPv4 listener; ::1 at the same port (retried when that one is taken).
        for _ in 0..<20 {
            let v4 = try Self.listen(v6: false, port: 0)
            if let v6 = try? Self.listen(v6: true, port: v4.port) {
                port = v4.port
                listeners = [v4.fd, v6.fd]
                for fd in listeners { Thread.detachNewThread { [self] in acceptLoop(fd) } }
                return
            }
            close(v4.fd)
        }
        throw GatewayTestError(message: "cannot listen on 127.0.0.1 and ::1 at one port")
    }

    func stop() {
        for fd in listeners { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    deinit {
        for fd in listeners { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    private static func listen(v6: Bool, port: UInt16) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(Int32(v6 ? AF_INET6 : AF_INET), Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw GatewayTestError(message: "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = sockaddr_storage()
        var length: socklen_t
        if v6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_addr = in6addr_loopback
            a.sin6_port = port.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            a.sin_port = port.bigEndian
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeBytes(of: a) { raw in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: raw) } }
        }
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            close(fd)
            throw GatewayTestError(message: "cannot bind")
        }
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let actual = v6 ? withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in6.self).sin6_port }
                        : withUnsafeBytes(of: storage) { $0.load(as: sockaddr_in.self).sin_port }
        return (fd, UInt16(bigEndian: actual))
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { return }
            Thread.detachNewThread { [self] in serve(c) }
        }
    }

    private func send(_ c: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let w = Glibc.send(c, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if w <= 0 { return false }  // the client hung up
                offset += w
            }
            return true
        }
    }

    private func serve(_ c: Int32) {
        defer { close(c) }
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !request.ends(with: [13, 10, 13, 10]) && request.count < 65536 {
            let n = read(c, &chunk, chunk.count)
            if n <= 0 { break }
            request += chunk[0..<n]
        }
        let line = String(decoding: request, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let target = line.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        lock.withLock { requested.append(target) }
        func head(_ status: String, _ headers: String = "") -> [UInt8] {
            Array("HTTP/1.0 \(status)\r\n\(headers)\r\n".utf8)
        }
        let png = Self.png
        switch target {
        case "/small.png":
            _ = send(c, head("200 OK", "Content-Type: image/png\r\nContent-Length: \(png.count)\r\n") + png)
        case "/nolen.png":
            _ = send(c, head("200 OK", "Content-Type: image/png\r\n") + png)
        case "/big":
            _ = send(c, head("200 OK") + png.prefix(8) + [UInt8](repeating: 0, count: 2 << 20))
        case "/declared":
            _ = send(c, head("200 OK", "Content-Length: 10000000\r\n") + png.prefix(8))
        case "/text":
            _ = send(c, head("200 OK", "Content-Length: 4000\r\n") + Array(String(repeating: "text", count: 1000).utf8))
        case "/short-text":
            _ = send(c, head("200 OK", "Content-Length: 4\r\n") + Array("text".utf8))
        case "/stall":
            _ = send(c, head("200 OK", "Content-Length: 1000\r\n") + png.prefix(8))
            usleep(5_000_000)
        case "/drip":
            guard send(c, head("200 OK") + png.prefix(1)) else { return }
            for _ in 0..<50 {
                usleep(200_000)
                guard send(c, [0]) else { return }
            }
        case _ where target.hasPrefix("/redirect?to="):
            _ = send(c, head("302 Found", "Location: \(target.dropFirst("/redirect?to=".count))\r\nContent-Length: 0\r\n"))
        case _ where target.hasPrefix("/chain/"):
            let n = Int(target.dropFirst("/chain/".count)) ?? 0
            _ = send(c, head("302 Found", "Location: \(n > 0 ? "/chain/\(n - 1)" : "/small.png")\r\nContent-Length: 0\r\n"))
        default:
            _ = send(c, head("404 Not Found", "Content-Length: 0\r\n"))
        }
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}
