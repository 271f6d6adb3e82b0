@testable import DarkroomHTTP
import Foundation
import Testing

/// A connection that sends no whole request head within `--request-timeout` is closed: one that
/// sends nothing, one whose headers never end, and a kept-alive one that goes quiet after an
/// answer. Before, only the body had time limits, so such connections were held forever.
@Suite struct HTTPHeaderTimeoutTests {
    /// Whether the server closed `connection` (end of stream, no bytes) within `seconds`.
    static func closedByPeer(_ connection: RawConnection, within seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while deadline.timeIntervalSinceNow > 0 {
            var poller = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { return false }
            let n = recv(connection.fd, &buffer, buffer.count, 0)
            if n <= 0 { return true }
        }
        return false
    }

    @Test func aRequestHeadThatDoesNotArriveInTimeClosesTheConnection() async throws {
        let configuration = try DarkroomHTTPServer.Configuration(requestTimeout: 1)
        try await LiveServer.with(configuration) { live in
            // The blocking socket calls run on a thread of their own: on the cooperative pool
            // (two threads on two cores) they would starve the server's own tasks.
            try await Self.offPool { try Self.exercise(port: live.port) }
        }
    }

    static func offPool(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, Error>) in
            Thread.detachNewThread { done.resume(with: Result { try body() }) }
        }
    }

    static func exercise(port: Int) throws {
        do {
            let start = Date()
            let silent = try RawConnection(port: port)
            let partial = try RawConnection(port: port)
            #expect(partial.send("POST /v1/images/convert HTTP/1.1\r\nHost: x\r\n"))
            let kept = try RawConnection(port: port)
            #expect(kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
            #expect(kept.response(timeout: 5).hasPrefix("HTTP/1.1 200"))
            #expect(Self.closedByPeer(silent, within: 5), "a connection that sends nothing")
            #expect(Self.closedByPeer(partial, within: 5), "headers that never end")
            #expect(Self.closedByPeer(kept, within: 5), "a kept-alive connection gone quiet")
            #expect(Date().timeIntervalSince(start) < 4.5, "closed after about 1 s")
            // The server still answers.
            let fresh = try RawConnection(port: port)
            #expect(fresh.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            #expect(fresh.response(timeout: 5).hasPrefix("HTTP/1.1 200"))
        }
    }
}
