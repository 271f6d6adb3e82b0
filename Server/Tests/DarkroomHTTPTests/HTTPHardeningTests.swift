@testable import DarkroomHTTP
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Darkroom

/// Hostile query values get a 4xx answer with an OpenAI-style error and the service keeps serving.
@Suite struct HTTPHardeningTests {
    /// The server's own output limits opened wide, so the library's limits are what refuse here
    /// (OutputLimitTests covers --max-output-pixels and --max-upscale).
    let app = Application(router: DarkroomHTTPServer.router(try! .init(maxBodyBytes: 4 << 20, maxOutputPixels: Limits.maxPixelLimit,
                                                                       maxUpscale: 1000)))

    static func errorCode(_ response: TestResponse) throws -> String? {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
        let error = try #require((object as? [String: Any])?["error"] as? [String: Any])
        return error["code"] as? String
    }

    /// A declared `Content-Length` over the limit is answered 413 before the body is read (and
    /// before the request takes a pool slot). The in-process test client sets the header from the
    /// body it is given, so the decision is tested directly.
    @Test func declaredLengthOverTheLimitIsRefusedUpFront() {
        #expect(RouteSupport.declaredLengthIsRefused("99999999999999", limit: 4 << 20))
        #expect(RouteSupport.declaredLengthIsRefused("99999999999999999999999", limit: 4 << 20))
        #expect(RouteSupport.declaredLengthIsRefused("4194305", limit: 4 << 20))
        #expect(RouteSupport.declaredLengthIsRefused("-1", limit: 4 << 20))
        #expect(RouteSupport.declaredLengthIsRefused("", limit: 4 << 20))
        #expect(!RouteSupport.declaredLengthIsRefused("4194304", limit: 4 << 20))
        #expect(!RouteSupport.declaredLengthIsRefused("0", limit: 4 << 20))
    }

    /// A misspelt query field is a 400 naming the accepted fields (it never silently means the
    /// default); an unknown path or method gets the same JSON error body as every other error.
    @Test func unknownFieldsPathsAndMethodsGetJSONErrors() async throws {
        let png = try TestImages.bytes("rgba.png")
        try await app.test(.router) { client in
            for uri in ["/v1/convert?output_fromat=webp", "/v1/references?maxmp=2", "/v1/size?profle=openai"] {
                try await client.execute(uri: uri, method: .post,
                                         body: uri.hasPrefix("/v1/size") ? ByteBuffer(string: #"{"size":"1024x1024"}"#) : ByteBuffer(bytes: png)) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    let answered = try Self.errorCode(response)
                    #expect(answered == "unknown_parameter", "\(uri)")
                    #expect(String(buffer: response.body).contains("Unknown parameter"), "\(uri)")
                }
            }
            try await client.execute(uri: "/v1/convert?output_format=webp", method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .ok)
            }
            // A /v1/size body's near miss of a size key too; other keys (an OpenAI request's, a provider's) are ignored.
            try await client.execute(uri: "/v1/size", method: .post, body: ByteBuffer(string: #"{"aspectRatio":"21:9","resolution":"2K"}"#)) { response in
                #expect(response.status == .badRequest)
                let code = try Self.errorCode(response)
                #expect(code == "unknown_parameter" && String(buffer: response.body).contains("'aspectRatio'; did you mean 'aspect_ratio'?"))
            }
            try await client.execute(uri: "/v1/size", method: .post,
                                     body: ByteBuffer(string: #"{"prompt":"a cat","model":"flux-2","n":1,"seed":42,"aspect_ratio":"16:9","resolution":"1K"}"#)) { response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            // Field names are percent-decoded as values are; a field given twice is refused.
            try await client.execute(uri: "/v1/convert?output%5Fformat=webp", method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/webp")
            }
            try await client.execute(uri: "/v1/convert?output_format=webp&output_format=png", method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .badRequest)
                let answered = try Self.errorCode(response)
                #expect(answered == "invalid_value")
                #expect(String(buffer: response.body).contains("given twice"))
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { response in
                #expect(response.status == .notFound)
                let answered = try Self.errorCode(response)
                #expect(answered == "not_found")
            }
            try await client.execute(uri: "/v1/convert", method: .get) { response in
                #expect(response.status == .methodNotAllowed || response.status == .notFound)
                #expect(!response.body.readableBytesView.isEmpty, "an error body")
            }
        }
    }

    @Test func hostileNumbersAreRefusedAndTheServerStaysUp() async throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")
        let cases: [(String, HTTPResponse.Status, String)] = [
            ("/v1/convert?resize=123456789012345678901234567mp", .badRequest, "invalid_value"),
            ("/v1/convert?resize=1e999%25", .badRequest, "invalid_value"),
            ("/v1/convert?resize=nan@", .badRequest, "invalid_value"),
            ("/v1/convert?resize=25000x25000!", .contentTooLarge, "image_too_large"),
            ("/v1/convert?resize=65536x2!&output_format=gif", .badRequest, "image_too_large_for_format"),
            ("/v1/convert?output_compression=1e400", .badRequest, "invalid_type"),
            ("/v1/convert?output_compression=%2B80", .badRequest, "invalid_type"),
            ("/v1/convert?output_compression=%2080", .badRequest, "invalid_type"),
            ("/v1/convert?output_compression=101", .badRequest, "integer_above_max_value"),
            ("/v1/convert?output_compression=-1", .badRequest, "integer_below_min_value"),
            ("/v1/convert?fail_on=sometimes", .badRequest, "invalid_value"),
            ("/v1/convert?=webp", .badRequest, "invalid_value"),
            ("/v1/references?max_mp=inf", .badRequest, "invalid_value"),
            ("/v1/references?max_mp=-0", .badRequest, "invalid_value"),
            ("/v1/references?max_mp=1e308", .badRequest, "invalid_value"),
        ]
        try await app.test(.router) { client in
            for (uri, status, code) in cases {
                try await client.execute(uri: uri, method: .post, body: ByteBuffer(bytes: jpeg)) { response in
                    #expect(response.status == status, "\(uri)")
                    let answered = try Self.errorCode(response)
                    #expect(answered == code, "\(uri)")
                }
            }
            try await client.execute(uri: "/v1/size?multiple=99999999999999999999999", method: .post,
                                     body: ByteBuffer(string: #"{"size":"1024x1024"}"#)) { response in
                #expect(response.status == .badRequest)
            }
            // `strict` is a boolean: a value that is neither refuses, it never silently means off.
            for (value, status) in [("1", HTTPResponse.Status.badRequest), ("true", .badRequest), ("yes", .badRequest),
                                    ("TRUE", .badRequest), ("0", .ok), ("false", .ok)] {
                try await client.execute(uri: "/v1/convert?output_format=png&output_compression=50&resize=8x&strict=\(value)",
                                         method: .post, body: ByteBuffer(bytes: jpeg)) { response in
                    #expect(response.status == status, "strict=\(value)")
                    if value == "yes" || value == "TRUE" {
                        let code = try Self.errorCode(response)
                        #expect(code == "invalid_value", "strict=\(value)")
                    }
                }
            }
            // Still serving.
            try await client.execute(uri: "/v1/convert?output_format=png&resize=64x", method: .post,
                                     body: ByteBuffer(bytes: jpeg)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Darkroom-Width")!] == "64")
            }
        }
    }

    @Test func aTruncatedUploadIsRefusedUnlessFailOnNone() async throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")
        let cut = Array(jpeg.prefix(jpeg.count / 2))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/convert?output_format=png", method: .post, body: ByteBuffer(bytes: cut)) { response in
                #expect(response.status == .unprocessableContent)
                let answered = try Self.errorCode(response)
                #expect(answered == "invalid_image")
            }
            // Let through, and said so: a caller can tell the image has missing rows.
            try await client.execute(uri: "/v1/convert?output_format=png&fail_on=none", method: .post,
                                     body: ByteBuffer(bytes: cut)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Darkroom-Format")!] == "png")
                #expect(response.headers[HTTPField.Name("Darkroom-Warnings")!] == "1")
                #expect(response.headers[HTTPField.Name("Darkroom-Warning")!] == "truncated: Premature end of JPEG file")
            }
            try await client.execute(uri: "/v1/references?fail_on=none", method: .post, body: ByteBuffer(bytes: cut)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Darkroom-Warnings")!] == "1")
            }
            // A clean input: no warning headers.
            try await client.execute(uri: "/v1/convert?output_format=png", method: .post, body: ByteBuffer(bytes: jpeg)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Darkroom-Warnings")!] == nil)
            }
        }
    }

    /// A client that sends part of its declared body and closes the connection is not a server
    /// error: it is counted with status 499 and as a cancelled rejection, never as a 500
    /// (a new-user report: it raised the 500 count).
    @Test func aClientThatLeavesMidBodyIsNotAServerError() async throws {
        let live = Application(router: DarkroomHTTPServer.router(try! .init(maxBodyBytes: 4 << 20)),
                               configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await live.test(.live) { client in
            let port = try #require(client.port)
            let connection = try RawConnection(port: port)
            connection.send("POST /v1/convert?output_format=png HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n\u{89}PNG")
            connection.disconnect()
            var exposition = ""
            for _ in 0..<50 {   // the server notices the closed connection asynchronously
                exposition = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                if exposition.contains(#"status="499""#) { break }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let lines = exposition.split(separator: "\n").filter { $0.hasPrefix("darkroom_http_requests_total") && $0.contains("/v1/convert") }
            #expect(lines.contains { $0.contains(#"status="499""#) }, "\(lines)")
            #expect(!lines.contains { $0.contains(#"status="500""#) }, "\(lines)")
            #expect(exposition.contains(#"darkroom_pool_rejections_total{reason="cancelled"} 1"#), "\(exposition)")
        }
    }
}


/// Issue #16: the server's bounds have one owner, `Configuration`, which refuses a value outside
/// them instead of clamping it silently.
@Suite struct ServerConfigurationTests {
    @Test func valuesOutsideTheBoundsAreRefused() throws {
        #expect(throws: DarkroomError.option(OptionError(name: "queue-size", value: "20000", expected: "an integer from 0 to 10000"))) {
            try DarkroomHTTPServer.Configuration(queueSize: 20_000)
        }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(workers: 0) }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(requestTimeout: .infinity) }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(retryAfter: -1) }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(maxBodyBytes: 0) }
        let ok = try DarkroomHTTPServer.Configuration(workers: 3)
        #expect(ok.workers == 3 && ok.queueSize == 6)
    }
}
