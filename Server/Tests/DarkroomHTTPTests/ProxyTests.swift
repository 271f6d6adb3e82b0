@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
@testable import Darkroom

/// Proxy mode (`--upstream`): `/v1/images/generations` and `/v1/images/edits` forwarded to a stub
/// upstream (a Hummingbird application on a loopback port, answering like a provider), the
/// upstream's images converted, its errors mapped, result URLs downloaded under the SSRF rules.
@Suite struct ProxyTests {
    static let jpeg = try! TestImages.bytes("kodim23.jpg")    // 768 × 512
    /// The stub's generated image: a 768 × 512 PNG.
    static let png = try! Converter(options: ConvertOptions(format: .png)).convert(jpeg).bytes

    /// What the stub upstream saw.
    final class Recorder: @unchecked Sendable {
        private let lock = NSLock()
        private var _generations = 0
        private var _bodies: [[String: Any]] = []
        private var _authorizations: [String: [String?]] = [:]
        private var _editParts: [(name: String, width: Int, height: Int, format: String)] = []
        private var _editFields: [String: String] = [:]

        var generations: Int { lock.withLock { _generations } }
        var lastBody: [String: Any]? { lock.withLock { _bodies.last } }
        func authorizations(_ path: String) -> [String?] { lock.withLock { _authorizations[path] ?? [] } }
        var editParts: [(name: String, width: Int, height: Int, format: String)] { lock.withLock { _editParts } }
        var editFields: [String: String] { lock.withLock { _editFields } }

        func generation(_ body: [String: Any]) { lock.withLock { _generations += 1; _bodies.append(body) } }
        func saw(_ path: String, authorization: String?) { lock.withLock { _authorizations[path, default: []].append(authorization) } }
        func edit(parts: [(name: String, width: Int, height: Int, format: String)], fields: [String: String]) {
            lock.withLock { _editParts = parts; _editFields = fields }
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: Any) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))))
    }

    static var usage: [String: Any] { ["input_tokens": 50, "output_tokens": 4160, "total_tokens": 4210,
                                       "input_tokens_details": ["image_tokens": 0, "text_tokens": 50]] }

    /// The stub upstream: its answer depends on the prompt.
    static func stub(_ recorder: Recorder) -> Application<RouterResponder<BasicRequestContext>> {
        let router = Router()
        router.post("v1/images/generations") { request, _ -> Response in
            recorder.saw("/v1/images/generations", authorization: request.headers[.authorization])
            let body = try await request.body.collect(upTo: 1 << 20)
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] ?? [:]
            recorder.generation(object)
            let base = "http://\(request.head.authority ?? "127.0.0.1")"
            switch object["prompt"] as? String ?? "" {
            case "url": return json(.ok, ["created": 1700000000, "data": [["url": "\(base)/files/result.png"]], "usage": usage])
            case "private": return json(.ok, ["created": 1, "data": [["url": "http://10.1.2.3/result.png"]]])
            case "metadata": return json(.ok, ["created": 1, "data": [["url": "http://169.254.169.254/latest/meta-data/"]]])
            case "redirect": return json(.ok, ["created": 1, "data": [["url": "\(base)/files/redirect"]]])
            case "text": return json(.ok, ["created": 1, "data": [["url": "\(base)/files/text"]]])
            case "big": return json(.ok, ["created": 1, "data": [["url": "\(base)/files/big.png"]]])
            case "fail500":
                return json(.internalServerError, ["error": ["message": "The server had an error", "type": "server_error", "param": NSNull(), "code": NSNull()]])
            case "bad400":
                return json(.badRequest, ["error": ["message": "Your request was rejected by the safety system.", "type": "image_generation_user_error",
                                                    "param": NSNull(), "code": "moderation_blocked"]])
            case "slow":
                try await Task.sleep(for: .seconds(4))
                return json(.ok, ["created": 1, "data": [["b64_json": Data(png).base64EncodedString()]]])
            default:
                let n = object["n"] as? Int ?? 1
                return json(.ok, ["created": 1700000000, "background": "opaque", "quality": "high",
                                  "data": Array(repeating: ["b64_json": Data(png).base64EncodedString(), "revised_prompt": "a parrot"], count: n),
                                  "usage": usage])
            }
        }
        router.post("v1/images/edits") { request, _ -> Response in
            recorder.saw("/v1/images/edits", authorization: request.headers[.authorization])
            let body = try await request.body.collect(upTo: 64 << 20)
            let type = request.headers[.contentType] ?? ""
            let boundary = HeaderParameters.parse(type).parameters["boundary"] ?? ""
            let form = try MultipartForm(body: Array(body.readableBytesView), boundary: boundary, fileNames: ["image", "image[]", "mask"])
            let parts = try form.files.map { file in
                let header = try ImageDecoder.readHeader(file.bytes)
                return (name: file.name, width: header.width, height: header.height, format: ImageFormat.sniff(file.bytes)?.rawValue ?? "?")
            }
            recorder.edit(parts: parts, fields: form.fields)
            return json(.ok, ["created": 1700000001, "data": [["b64_json": Data(png).base64EncodedString()]], "usage": usage])
        }
        router.get("files/result.png") { request, _ -> Response in
            recorder.saw("/files/result.png", authorization: request.headers[.authorization])
            return Response(status: .ok, headers: [.contentType: "image/png"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: png)))
        }
        router.get("files/redirect") { _, _ -> Response in
            Response(status: .found, headers: [.location: "http://169.254.169.254/latest/meta-data/"])
        }
        router.get("files/text") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "image/png"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: String(repeating: "<html>not an image</html>\n", count: 40))))
        }
        router.get("files/big.png") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "image/png"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: png + [UInt8](repeating: 0, count: 300_000))))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    /// Runs `body` with a Darkroom router client in proxy mode in front of a fresh stub upstream.
    static func withProxy(timeout: Double = 30, maxBytes: Int = 8 << 20, allowLoopback: Bool = true,
                          maxInFlight: Int = UpstreamConfiguration.defaultMaxInFlight, apiKey: String? = nil,
                          resultHosts: [String] = [],
                          _ body: @escaping @Sendable (any TestClientProtocol, Recorder) async throws -> Void) async throws {
        let recorder = Recorder()
        try await stub(recorder).test(.live) { stubClient in
            let port = try #require(stubClient.port)
            var configuration = try DarkroomHTTPServer.Configuration(maxBodyBytes: 32 << 20, workers: 2)
            configuration.upstream = try UpstreamConfiguration(url: "http://127.0.0.1:\(port)/v1/", timeout: timeout, maxBytes: maxBytes,
                                                               allowLoopbackResults: allowLoopback, maxInFlight: maxInFlight,
                                                               apiKey: apiKey, resultHosts: resultHosts)
            let app = Application(router: DarkroomHTTPServer.router(configuration))
            try await app.test(.router) { client in try await body(client, recorder) }
        }
    }

    static func generate(_ client: any TestClientProtocol, _ fields: [String: Any]) async throws -> TestResponse {
        try await client.execute(uri: "/v1/images/generations", method: .post,
                                 headers: [.contentType: "application/json", .authorization: "Bearer sk-test-secret"],
                                 body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: fields)))
    }

    static func header(_ response: TestResponse, _ name: String) -> String? { response.headers[HTTPField.Name(name)!] }

    // MARK: Without an upstream

    @Test func withoutUpstreamBothRoutesAnswerNoUpstream() async throws {
        let app = Application(router: DarkroomHTTPServer.router(.standard))
        try await app.test(.router) { client in
            let generated = try await Self.generate(client, ["prompt": "x"])
            #expect(try JSONBody.envelope(generated) == (404, "invalid_request_error", "no_upstream", nil))
            let edited = try await client.post("/v1/images/edits", .images([Self.jpeg]))
            #expect(try JSONBody.envelope(edited) == (404, "invalid_request_error", "no_upstream", nil))
            let get = try await client.execute(uri: "/v1/images/generations", method: .get)
            #expect(get.status == .methodNotAllowed)
        }
    }

    @Test func upstreamURLIsCheckedOnce() throws {
        #expect(try UpstreamConfiguration.parseURL("https://api.openai.com/v1/") == "https://api.openai.com/v1")
        for bad in ["ftp://x/v1", "api.openai.com/v1", "http:///v1", "http://user:pw@x/v1", "http://x/v1?a=b", "http://x/v1#f", "http://x/ v1"] {
            #expect(throws: DarkroomError.self, "\(bad)") { try UpstreamConfiguration.parseURL(bad) }
        }
        #expect(throws: DarkroomError.self) { try UpstreamConfiguration(url: "http://x/v1", timeout: 0) }
        #expect(throws: DarkroomError.self) { try UpstreamConfiguration(url: "http://x/v1", maxBytes: 10) }
    }

    // MARK: Generations

    @Test func b64ResultIsConvertedUsagePassedThroughAuthorizationForwarded() async throws {
        try await Self.withProxy { client, recorder in
            let response = try await Self.generate(client, ["prompt": "a parrot", "model": "gpt-image-1", "size": "1024x1024", "n": 2,
                                                            "output_format": "webp", "output_compression": 60, "quality": "high"])
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(Self.header(response, "Darkroom-Format") == "webp")
            #expect(Self.header(response, "Darkroom-Quality") == "60")
            let object = try JSONBody.object(response)
            let images = try JSONBody.images(object)
            #expect(images.count == 2)
            for image in images {
                #expect(ImageFormat.sniff(image) == .webp)
                let header = try ImageDecoder.readHeader(image)
                #expect(header.width == 768 && header.height == 512)
            }
            #expect(object["output_format"] as? String == "webp")
            #expect(object["created"] as? Int == 1700000000)
            #expect(object["size"] as? String == "768x512")
            let usage = try #require(object["usage"] as? [String: Any])
            #expect(usage["total_tokens"] as? Int == 4210 && usage["output_tokens"] as? Int == 4160)
            #expect((usage["input_tokens_details"] as? [String: Any])?["text_tokens"] as? Int == 50)
            #expect((object["data"] as? [[String: Any]])?.first?["revised_prompt"] as? String == "a parrot")
            let darkroom = try #require(object["darkroom"] as? [String: Any])
            #expect(darkroom["billed_mp"] as? Int == 2)
            let first = try #require((darkroom["images"] as? [[String: Any]])?.first)
            #expect(first["source"] as? String == "b64_json" && first["source_format"] as? String == "png")
            // Forwarded: the client's Authorization and its fields, without Darkroom's own.
            #expect(recorder.authorizations("/v1/images/generations") == ["Bearer sk-test-secret"])
            let sent = try #require(recorder.lastBody)
            #expect(sent["prompt"] as? String == "a parrot" && sent["model"] as? String == "gpt-image-1" && sent["n"] as? Int == 2)
            #expect(sent["size"] as? String == "1024x1024" && sent["quality"] as? String == "high")
            #expect(sent["output_format"] == nil && sent["output_compression"] == nil && sent["response_format"] == nil)
        }
    }

    @Test func urlResultIsFetchedWithoutAuthorizationAndConverted() async throws {
        try await Self.withProxy { client, recorder in
            let response = try await Self.generate(client, ["prompt": "url", "output_format": "jpeg", "output_compression": 80])
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let object = try JSONBody.object(response)
            let image = try #require(try JSONBody.images(object).first)
            #expect(ImageFormat.sniff(image) == .jpeg)
            #expect(((object["darkroom"] as? [String: Any])?["images"] as? [[String: Any]])?.first?["source"] as? String == "url")
            #expect((object["usage"] as? [String: Any])?["total_tokens"] as? Int == 4210)
            #expect(recorder.authorizations("/v1/images/generations") == ["Bearer sk-test-secret"])
            #expect(recorder.authorizations("/files/result.png") == [nil])  // the result host never sees it
        }
    }

    @Test func resultURLsAreRefusedBySSRFRules() async throws {
        // Loopback without the test flag.
        try await Self.withProxy(allowLoopback: false) { client, _ in
            let response = try await Self.generate(client, ["prompt": "url"])
            #expect(try JSONBody.envelope(response) == (502, "server_error", "upstream_result_refused", "data[0]"))
            #expect(Self.header(response, "x-should-retry") == "false")
            #expect(String(buffer: response.body).contains("loopback"))
        }
        try await Self.withProxy(maxBytes: 200_000) { client, _ in
            for (prompt, words) in [("private", "private"), ("metadata", "metadata"), ("redirect", "redirected to"),
                                    ("text", "not a PNG"), ("big", "download limit")] {
                let response = try await Self.generate(client, ["prompt": prompt])
                #expect(try JSONBody.envelope(response) == (502, "server_error", "upstream_result_refused", "data[0]"), "\(prompt)")
                #expect(Self.header(response, "x-should-retry") == "false")
                #expect(String(buffer: response.body).contains(words), "\(prompt): \(String(buffer: response.body))")
            }
        }
    }

    @Test func upstreamErrorsAreMappedAndNeverRetried() async throws {
        try await Self.withProxy { client, recorder in
            let failed = try await Self.generate(client, ["prompt": "fail500"])
            #expect(try JSONBody.envelope(failed) == (502, "server_error", "upstream_error", nil), "\(String(buffer: failed.body))")
            #expect(Self.header(failed, "x-should-retry") == "false")
            let refused = try await Self.generate(client, ["prompt": "bad400"])
            #expect(try JSONBody.envelope(refused) == (400, "image_generation_user_error", "moderation_blocked", nil))
            #expect(Self.header(refused, "x-should-retry") == nil)
            #expect(recorder.generations == 2)
        }
        // A separate timeout for the upstream: 1 s here, while --request-timeout stays 30 s.
        try await Self.withProxy(timeout: 1) { client, recorder in
            let started = ContinuousClock.now
            let slow = try await Self.generate(client, ["prompt": "slow"])
            #expect(try JSONBody.envelope(slow) == (504, "server_error", "upstream_timeout", nil))
            #expect(Self.header(slow, "x-should-retry") == "false")
            #expect(started.duration(to: .now) < .seconds(3.5))
            #expect(recorder.generations == 1)
        }
    }

    @Test func refusedBeforeTheUpstreamIsAsked() async throws {
        try await Self.withProxy { client, recorder in
            let stream = try await Self.generate(client, ["prompt": "x", "stream": true])
            #expect(try JSONBody.envelope(stream) == (400, "invalid_request_error", "unsupported_value", "stream"))
            let url = try await Self.generate(client, ["prompt": "x", "response_format": "url"])
            #expect(try JSONBody.envelope(url) == (400, "invalid_request_error", "invalid_value", "response_format"))
            let format = try await Self.generate(client, ["prompt": "x", "output_format": "bmp"])
            #expect(try JSONBody.envelope(format) == (400, "invalid_request_error", "invalid_value", "output_format"))
            let transparent = try await Self.generate(client, ["prompt": "x", "output_format": "jpeg", "background": "transparent"])
            #expect(try JSONBody.envelope(transparent).code == "invalid_jpeg_transparent_background")
            let duplicate = try await client.execute(uri: "/v1/images/generations", method: .post, headers: [.contentType: "application/json"],
                                                     body: ByteBuffer(string: #"{"prompt":"a","prompt":"b"}"#))
            #expect(try JSONBody.envelope(duplicate).code == "duplicate_key")
            #expect(recorder.generations == 0)
        }
    }

    // MARK: Edits

    @Test func editReferencesOver4MPArriveAt4MPWithTheMask() async throws {
        let big = try Converter(options: ConvertOptions(format: .jpeg, quality: 90, resize: try ResizeGeometry(parsing: "2600x1734!")))
            .convert(Self.jpeg).bytes
        let mask = try Converter(options: ConvertOptions(format: .png)).convert(big).bytes
        try await Self.withProxy { client, recorder in
            let body = MultipartBody([
                .file(name: "image[]", filename: "big.jpg", bytes: big), .file(name: "image[]", filename: "small.jpg", bytes: Self.jpeg),
                .file(name: "mask", filename: "mask.png", bytes: mask),
                .field(name: "prompt", value: "add a hat"), .field(name: "model", value: "gpt-image-1"),
                .field(name: "output_format", value: "webp"), .field(name: "output_compression", value: "70"),
            ])
            let response = try await client.execute(uri: "/v1/images/edits", method: .post,
                                                    headers: [.contentType: body.contentType, .authorization: "Bearer sk-edit"],
                                                    body: ByteBuffer(bytes: body.bytes))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let object = try JSONBody.object(response)
            #expect(ImageFormat.sniff(try #require(try JSONBody.images(object).first)) == .webp)
            #expect((object["usage"] as? [String: Any])?["total_tokens"] as? Int == 4210)
            let parts = recorder.editParts
            #expect(parts.map(\.name) == ["image[]", "image[]", "mask"])
            #expect(parts[0].width * parts[0].height <= 4_194_304 && parts[0].width == 2507 && parts[0].height == 1672, "\(parts[0])")
            #expect(parts[1].width == 768 && parts[1].height == 512)
            #expect(parts[2].width == parts[0].width && parts[2].height == parts[0].height && parts[2].format == "png")
            #expect(recorder.editFields == ["prompt": "add a hat", "model": "gpt-image-1"])
            #expect(recorder.authorizations("/v1/images/edits") == ["Bearer sk-edit"])
            let darkroom = try #require(object["darkroom"] as? [String: Any])
            #expect(darkroom["references_billed_mp"] as? Int == 5)
            #expect((darkroom["mask"] as? [String: Any])?["resized"] as? Bool == true)
        }
    }

    // MARK: Bounds and options of proxy mode

    @Test func serverKeyReplacesTheClientsAuthorization() async throws {
        try await Self.withProxy(apiKey: "sk-server-key") { client, recorder in
            let response = try await Self.generate(client, ["prompt": "a parrot", "output_format": "webp"])
            #expect(response.status == .ok)
            #expect(recorder.authorizations("/v1/images/generations") == ["Bearer sk-server-key"])
        }
        #expect(throws: DarkroomError.self) { try UpstreamConfiguration(url: "http://x/v1", apiKey: "has space") }
        #expect(throws: DarkroomError.self) { try UpstreamConfiguration(url: "http://x/v1", apiKey: "") }
    }

    @Test func resultHostsNarrowTheDownloads() async throws {
        try await Self.withProxy(resultHosts: ["cdn.example.com", "*.example.net"]) { client, recorder in
            let refused = try await Self.generate(client, ["prompt": "url", "output_format": "webp"])
            #expect(try JSONBody.envelope(refused) == (502, "server_error", "upstream_result_refused", "data[0]"))
            #expect(Self.header(refused, "x-should-retry") == "false")
            #expect(try JSONBody.message(refused).contains("--result-host"))
            #expect(recorder.authorizations("/files/result.png").isEmpty, "nothing was downloaded")
        }
        try await Self.withProxy(resultHosts: ["127.0.0.1"]) { client, _ in
            let fetched = try await Self.generate(client, ["prompt": "url", "output_format": "webp"])
            #expect(fetched.status == .ok)
        }
        let configuration = try UpstreamConfiguration(url: "http://x/v1", resultHosts: ["CDN.example.com", "*.example.net"])
        #expect(configuration.resultHosts == ["cdn.example.com", "*.example.net"])
        #expect(configuration.allowsResult(host: "cdn.EXAMPLE.com"))
        #expect(configuration.allowsResult(host: "a.b.example.net"))
        #expect(!configuration.allowsResult(host: "example.net"))
        #expect(!configuration.allowsResult(host: "evilexample.net"))
        #expect(!configuration.allowsResult(host: "cdn.example.com.evil.org"))
        #expect(configuration.fetchPolicy.maxRedirects == 0)
        #expect(try UpstreamConfiguration(url: "http://x/v1").allowsResult(host: "anything.org"))
        for bad in ["", "*.", "a b", "http://x", "x/y", ".example.com", "*example.com"] {
            #expect(throws: DarkroomError.self, "\(bad)") { try UpstreamConfiguration(url: "http://x/v1", resultHosts: [bad]) }
        }
    }

    @Test func proxiedRequestsPastTheLimitAre503BeforeForwarding() async throws {
        try await Self.withProxy(maxInFlight: 1) { client, recorder in
            async let slow = Self.generate(client, ["prompt": "slow", "output_format": "webp"])
            // The slow generation is at the stub (the stub counts it) before the second is sent.
            for _ in 0..<200 where recorder.generations == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(recorder.generations == 1)
            let busy = try await Self.generate(client, ["prompt": "a parrot", "output_format": "webp"])
            #expect(try JSONBody.envelope(busy) == (503, "server_error", "upstream_busy", nil))
            #expect(Self.header(busy, "Retry-After") != nil)
            #expect(Self.header(busy, "x-should-retry") == nil, "nothing was forwarded: a retry is safe")
            // Refused before its body was read: the connection ends, and the answer says so.
            #expect(Self.header(busy, "Connection") == "close")
            #expect(recorder.generations == 1, "the refused request never reached the upstream")
            #expect(try await slow.status == .ok)
            let after = try await Self.generate(client, ["prompt": "a parrot", "output_format": "webp"])
            #expect(after.status == .ok, "the place is given back")
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(metrics.contains(#"darkroom_upstream_requests_total{route="/images/generations",outcome="200"} 2"#)
                        || metrics.contains(#"darkroom_upstream_requests_total{outcome="200",route="/images/generations"} 2"#), "\(metrics)")
            #expect(metrics.contains("darkroom_upstream_in_flight 0"))
            #expect(metrics.contains(#"darkroom_pool_rejections_total{reason="upstream_saturated"} 1"#))
        }
    }
}
