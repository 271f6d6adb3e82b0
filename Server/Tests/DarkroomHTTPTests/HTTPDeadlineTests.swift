import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Darkroom

/// `--request-timeout` stops the conversion, not only the answer: the library gets the request's
/// deadline (``ConvertOptions/deadline``), its codecs stop there, and the one worker is free again
/// soon after the 504 — a following request is served by it.
@Suite(.serialized) struct HTTPDeadlineTests {
    /// A 2048 × 2048 PNG of a photo (kodim23 stretched): enlarged 4× to 8192 × 8192 (64 MP, the
    /// default output limit) it takes a worker many seconds to resize and encode, far more than the
    /// limit, and its detail makes a JPEG's output grow past libjpeg's first buffers at once.
    static let bigInput: [UInt8] = try! Converter(options: ConvertOptions(format: .png, resize: try! ResizeGeometry(parsing: "2048x2048!")))
        .convert(try! TestImages.bytes("kodim23.jpg")).bytes

    static func server(timeout: Double) -> DarkroomHTTPServer.Server {
        DarkroomHTTPServer.Server(try! .init(maxBodyBytes: 32 << 20, workers: 1, queueSize: 1, requestTimeout: timeout))
    }

    /// Waits until `condition` holds, polling every 5 ms; the time it took, or nil after `limit`.
    static func time(within limit: Duration, _ condition: () -> Bool) async throws -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < limit {
            if condition() { return clock.now - start }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    @Test(arguments: [
        ("/v1/convert?output_format=webp&resize=8192x8192!", false),
        ("/v1/convert?output_format=png&resize=8192x8192!", false),
        // A JPEG stopped mid-encode once freed libjpeg's grown output buffer twice (jpeg_mem_dest).
        ("/v1/convert?output_format=jpeg&resize=8192x8192!", false),
        ("/v1/convert?output_format=gif&resize=8192x8192!", false),
        ("/v1/images/convert", true),
    ])
    func aTimedOutConversionGivesItsWorkerBack(uri: String, multipart: Bool) async throws {
        let server = Self.server(timeout: 2)
        try await Application(router: server.router()).test(.router) { client in
            let late: TestResponse
            if multipart {
                let body = MultipartBody.images([Self.bigInput], fields: ["output_format": "png", "size": "8192x8192"])
                late = try await client.post(uri, body)
            } else {
                late = try await client.execute(uri: uri, method: .post, body: ByteBuffer(bytes: Self.bigInput))
            }
            #expect(try JSONBody.envelope(late) == (504, "server_error", "timeout", nil), "\(String(buffer: late.body))")
            // The worker stops at its next check (a few rows) and returns its slot: well within the
            // 5 s allowed here, while the whole conversion takes a worker longer (a debug build: 10 s for PNG, 31 s for WebP).
            let freed = try await Self.time(within: .seconds(5)) {
                server.pool.snapshot == .init(admitted: 0, queued: 0, running: 0, draining: false)
            }
            #expect(freed != nil, "the worker was still busy 5 s after the 504")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            // The one worker serves the next request.
            let small = try await client.execute(uri: "/v1/convert?output_format=webp", method: .post,
                                                 body: ByteBuffer(bytes: try TestImages.bytes("kodim23.jpg")))
            #expect(small.status == .ok, "\(String(buffer: small.body))")
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"darkroom_pool_rejections_total{reason="run_timeout"} 1"#))
        }
    }

    @Test func aDeadlineErrorIsThePoolsOwn504() {
        let error = APIError.from(DarkroomError.timeLimit(TimeLimitError(stage: .encoding, format: .webp)), door: .raw)
        #expect(error.status == .gatewayTimeout)
        #expect(error.type == APIError.serverError)
        #expect(error.code == "timeout")
        #expect(error.param == nil)
        #expect(error.headers.isEmpty)
        #expect(error.message.contains("darkroom-server --request-timeout"))
    }
}
