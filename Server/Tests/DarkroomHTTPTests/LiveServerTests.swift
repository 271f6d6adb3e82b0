@testable import DarkroomHTTP
import Foundation
import Testing
@testable import Darkroom

/// What only a real listening server shows (DarkroomHTTP1Channel on an ephemeral loopback port,
/// driven over raw sockets): `100 Continue`, the parser's errors, slow uploads.
@Suite(.serialized) struct LiveServerTests {
    static let jpeg = try! TestImages.bytes("kodim23.jpg")

    static func status(_ response: String) -> Int? {
        response.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
    }

    static func body(_ response: String) -> String {
        response.range(of: "\r\n\r\n").map { String(response[$0.upperBound...]) } ?? ""
    }

    /// curl sends `Expect: 100-continue` for bodies over 1 MB and waits a second for the answer:
    /// the server sends `100 Continue` before any body byte is sent, then answers the body. The
    /// wait is measured on a few requests in a row and the shortest must be under 0.5 s (the other
    /// suites run in parallel on the same cores; unloaded it is about 2 ms).
    @Test func expectContinueIsAnsweredAtOnce() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 4 << 20)) { live in
            let body = Self.jpeg + [UInt8](repeating: 0, count: 1_200_000)  // a JPEG with trailing bytes, over 1 MB
            let clock = ContinuousClock()
            var waits: [Duration] = []
            for _ in 0..<5 {
                let connection = try RawConnection(port: live.port)
                let start = clock.now
                connection.send("POST /v1/convert?output_format=webp&resize=64x HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.count)\r\n"
                                + "Expect: 100-continue\r\n\r\n")
                let interim = String(decoding: connection.receive(timeout: 10) { $0.count >= 25 }, as: UTF8.self)
                waits.append(clock.now - start)
                #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n")   // before any body byte was sent
                connection.send(body)
                let response = connection.response()
                #expect(Self.status(response) == 200, "\(response.prefix(300))")
                #expect(response.lowercased().contains("darkroom-format: webp"))
                if waits.last! < .milliseconds(100) { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            #expect(waits.min()! < .milliseconds(500), "100 Continue took \(waits)")
        }
    }

    /// A request refused before its body is read gets its final answer instead of `100 Continue`,
    /// at once, and the connection is closed (no body is waited for).
    @Test func aRefusedExpectGetsTheFinalAnswer() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 1 << 20)) { live in
            let connection = try RawConnection(port: live.port)
            connection.send("POST /v1/convert HTTP/1.1\r\nHost: test\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
            let response = connection.response(timeout: 5)
            #expect(Self.status(response) == 413, "\(response.prefix(300))")
            #expect(!response.contains("100 Continue"))
            #expect(Self.body(response).contains(#""code":"body_too_large""#))
            #expect(response.lowercased().contains("connection: close"))   // said, so a client reconnects
            #expect(connection.receive(timeout: 2).isEmpty)  // closed: nothing more comes
        }
    }

    /// The HTTP parser's refusals are answered 400 with the envelope, not an empty body.
    @Test func parserErrorsGetTheEnvelope() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 1 << 20)) { live in
            for (request, message) in [
                ("POST /v1/convert HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
                 "malformed HTTP request: Content-Length given twice or with Transfer-Encoding"),
                ("POST /v1/convert HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", "malformed HTTP request: invalid Content-Length"),
                ("BREW /v1/convert HTTP/1.1\r\nHost: t\r\n\r\n", "malformed HTTP request: unknown method"),
            ] {
                let connection = try RawConnection(port: live.port)
                connection.send(request)
                let response = connection.response(timeout: 5)
                #expect(Self.status(response) == 400, "\(request)")
                #expect(response.lowercased().contains("content-type: application/json"))
                #expect(Self.body(response) == #"{"error":{"code":"malformed_request","message":"\#(message)","param":null,"type":"invalid_request_error"}}"#,
                        "\(request)")
            }
            // The server still serves.
            let connection = try RawConnection(port: live.port)
            connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(Self.body(connection.response(timeout: 5)) == "ok")
        }
    }

    /// Eight uploads at 10 B/s (1 MB declared) hold no worker slot: a conversion beside them is
    /// answered at once; each slow upload is ended with 408 once the minimum rate's window has passed.
    @Test func slowUploadsDoNotHoldTheWorkers() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 2 << 20, workers: 1, queueSize: 0, maxUploads: 16, minBodyRate: 1000)) { live in
            let slow = try (0..<8).map { _ in try RawConnection(port: live.port) }
            for connection in slow {
                connection.send("POST /v1/convert?output_format=webp HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
                connection.send(Array(Self.jpeg.prefix(10)))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(live.server.pool.snapshot.admitted == 0)
            #expect(live.server.uploads.current == 8)
            let ready = try RawConnection(port: live.port)
            ready.send("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(Self.body(ready.response(timeout: 5)) == "ready")

            let clock = ContinuousClock()
            let start = clock.now
            let fast = try RawConnection(port: live.port)
            fast.send("POST /v1/convert?output_format=webp&resize=64x HTTP/1.1\r\nHost: t\r\nContent-Length: \(Self.jpeg.count)\r\n\r\n")
            fast.send(Self.jpeg)
            let converted = fast.response(timeout: 10)
            #expect(Self.status(converted) == 200)
            #expect(clock.now - start < .seconds(3))

            // Meanwhile the slow ones trickle on (10 B/s) until the server ends them.
            for second in 0..<8 {
                for connection in slow { connection.send(Array(Self.jpeg.dropFirst(10 + second * 10).prefix(10))) }
                try await Task.sleep(for: .seconds(1))
                if live.server.uploads.current == 0 { break }
            }
            for connection in slow {
                let response = connection.response(timeout: 5)
                #expect(Self.status(response) == 408, "\(response.prefix(200))")
                #expect(Self.body(response).contains("slower than 1000 bytes/s"))
            }
            #expect(clock.now - start < .seconds(9))
            #expect(live.server.uploads.current == 0)
            #expect(live.server.metrics.exposition().contains(#"darkroom_pool_rejections_total{reason="slow_body"} 8"#))
        }
    }

    /// Past `--max-uploads` bodies being read, a conversion is answered 503 at once, before its
    /// body is read; a client that leaves mid-body is counted 499, never a server error.
    @Test func uploadSlotsAreBoundedAndALeavingClientIs499() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 2 << 20, maxUploads: 1, retryAfter: 3)) { live in
            let first = try RawConnection(port: live.port)
            first.send("POST /v1/convert HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
            first.send(Array(Self.jpeg.prefix(100)))
            for _ in 0..<100 where live.server.uploads.current == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(live.server.uploads.current == 1)

            let second = try RawConnection(port: live.port)
            second.send("POST /v1/images/convert HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                        + "Content-Length: 500000\r\nExpect: 100-continue\r\n\r\n")
            let refused = second.response(timeout: 5)
            #expect(Self.status(refused) == 503, "\(refused.prefix(300))")
            #expect(refused.lowercased().contains("retry-after: 3"))
            #expect(refused.lowercased().contains("connection: close"), "\(refused.prefix(300))")
            #expect(Self.body(refused).contains(#""code":"server_overloaded""#))

            // The first client leaves with 999,900 bytes still to send.
            first.disconnect()
            for _ in 0..<100 where live.server.uploads.current == 1 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(live.server.uploads.current == 0)
            var exposition = ""
            for _ in 0..<100 {
                exposition = live.server.metrics.exposition()
                if exposition.contains(#"status="499""#) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(exposition.contains(#"darkroom_http_requests_total{route="/v1/convert",status="499"} 1"#), "\(exposition)")
            #expect(exposition.contains(#"darkroom_pool_rejections_total{reason="cancelled"} 1"#))
            #expect(exposition.contains(#"darkroom_pool_rejections_total{reason="uploads_saturated"} 1"#))
            #expect(!exposition.contains(#"status="500""#))
        }
    }

    /// A client that sends its whole body before reading (as Python's http.client does) still gets
    /// the 503 its request was refused with before the body was read: the lingering close reads
    /// and drops the body rather than resetting the connection under it.
    @Test func aBodyRefusedUnreadStillLetsTheClientReadItsAnswer() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 16 << 20, maxUploads: 1, retryAfter: 3)) { live in
            let first = try RawConnection(port: live.port)
            first.send("POST /v1/convert HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
            first.send(Array(Self.jpeg.prefix(100)))
            for _ in 0..<100 where live.server.uploads.current == 0 { try await Task.sleep(for: .milliseconds(20)) }
            #expect(live.server.uploads.current == 1)

            let body = [UInt8](repeating: 0x42, count: 6_000_000)  // more than loopback's socket buffers hold
            let second = try RawConnection(port: live.port)
            second.send("POST /v1/convert HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n\r\n")
            // Blocks until the server has taken it all; without the lingering close the server reset
            // the connection under it (2 s after its answer), where Python's http.client raises
            // BrokenPipeError and never reads the 503.
            #expect(second.send(body), "the body was taken, not reset")
            let refused = second.response(timeout: 5)
            #expect(Self.status(refused) == 503, "\(refused.prefix(300))")
            #expect(Self.body(refused).contains(#""code":"server_overloaded""#))
            first.disconnect()
        }
    }

    /// Requests on one kept-alive connection, the second one's body read after the first answer.
    @Test func keptAliveConnectionsServeSeveralRequests() async throws {
        try await LiveServer.with(try .init(maxBodyBytes: 1 << 20)) { live in
            let connection = try RawConnection(port: live.port)
            for _ in 0..<2 {
                connection.send("POST /v1/convert?output_format=png&resize=16x HTTP/1.1\r\nHost: t\r\nContent-Length: \(Self.jpeg.count)\r\n\r\n")
                connection.send(Self.jpeg)
                let response = connection.response(timeout: 10)
                #expect(Self.status(response) == 200)
            }
        }
    }
}
