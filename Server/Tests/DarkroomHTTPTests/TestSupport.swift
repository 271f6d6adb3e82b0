@testable import DarkroomHTTP
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing
import Darkroom

/// A multipart/form-data body as the OpenAI SDKs send an edit: files with a filename and a
/// content type, text fields without.
struct MultipartBody {
    enum Part {
        case file(name: String, filename: String, bytes: [UInt8])
        case field(name: String, value: String)
    }

    let boundary = "darkroom-test-\(UInt32.random(in: 0 ... .max))"
    var parts: [Part]

    init(_ parts: [Part]) { self.parts = parts }

    /// `image` for one file, `image[]` for each of several, as openai-python names them.
    static func images(_ images: [[UInt8]], fields: [String: String] = [:]) -> MultipartBody {
        let name = images.count == 1 ? "image" : "image[]"
        return MultipartBody(images.enumerated().map { .file(name: name, filename: "image\($0.offset).bin", bytes: $0.element) }
            + fields.sorted { $0.key < $1.key }.map { .field(name: $0.key, value: $0.value) })
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            switch part {
            case let .file(name, filename, bytes):
                out += Array("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
                out += bytes
            case let .field(name, value):
                out += Array("Content-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)".utf8)
            }
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }
}

extension TestClientProtocol {
    /// POSTs a multipart body.
    func post(_ uri: String, _ body: MultipartBody) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: [.contentType: body.contentType], body: ByteBuffer(bytes: body.bytes))
    }
}

/// The JSON of a response and its error envelope.
enum JSONBody {
    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body), options: [.fragmentsAllowed]) as? [String: Any])
    }

    /// The error envelope's inner object; checks it has exactly OpenAI's four keys.
    static func error(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try object(response)
        #expect(Set(object.keys) == ["error"], sourceLocation: sourceLocation)
        let error = try #require(object["error"] as? [String: Any])
        #expect(Set(error.keys) == ["message", "type", "param", "code"], "\(error)", sourceLocation: sourceLocation)
        return error
    }

    /// `(status, type, code, param)` of an error answer; `param` nil for JSON null.
    static func envelope(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> (status: Int, type: String?, code: String?, param: String?) {
        let error = try error(response, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        return (response.status.code, error["type"] as? String, error["code"] as? String, error["param"] as? String)
    }

    /// The error envelope's `message`.
    static func message(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try #require(try error(response, sourceLocation: sourceLocation)["message"] as? String, sourceLocation: sourceLocation)
    }

    /// The bytes of each `data[i].b64_json`.
    static func images(_ object: [String: Any]) throws -> [[UInt8]] {
        let data = try #require(object["data"] as? [[String: Any]])
        return try data.map { item in
            let text = try #require(item["b64_json"] as? String)
            return [UInt8](try #require(Data(base64Encoded: text)))
        }
    }
}

/// A blocking TCP client on 127.0.0.1 for what the in-process client cannot do: raw bytes, slow
/// bodies, `Expect: 100-continue`, parser errors.
final class RawConnection: @unchecked Sendable {
    private(set) var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes the connection now (the client leaves).
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Sends all of `bytes` (blocking); false when the connection failed first (reset or closed).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until `done(received)` is true, the peer closes, or `timeout` seconds pass.
    func receive(timeout: Double, until done: ([UInt8]) -> Bool = { _ in false }) -> [UInt8] {
        var out: [UInt8] = []
        let deadline = Date(timeIntervalSinceNow: timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !done(out) {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left * 1000))) > 0 else { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    /// A whole response with a `Content-Length` body (or what came before the peer closed).
    func response(timeout: Double = 30) -> String {
        String(decoding: receive(timeout: timeout) { Self.complete($0) }, as: UTF8.self)
    }

    static func complete(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        if head.hasPrefix("http/1.1 100") { return false }
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) else { return true }
        return text.utf8.count - text[..<end.upperBound].utf8.count >= length
    }
}

/// A live server on an ephemeral loopback port: `DarkroomHTTPServer.Server.application` (its
/// DarkroomHTTP1Channel) and its DrainService in a service group, shut down gracefully after `body`.
struct LiveServer {
    let server: DarkroomHTTPServer.Server
    let port: Int

    /// Starts `server`, runs `body` with the bound port, then stops the server.
    static func with(_ configuration: DarkroomHTTPServer.Configuration,
                     _ body: (LiveServer) async throws -> Void) async throws {
        var configuration = configuration
        configuration.port = 0
        let server = DarkroomHTTPServer.Server(configuration)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = server.application { continuation.yield($0) }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app),
                       .init(service: DrainService(pool: server.pool), successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: Logger(label: "live-test")))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next()
        do {
            try await body(LiveServer(server: server, port: try #require(port)))
        } catch {
            await group.triggerGracefulShutdown()
            _ = await task.result
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
