@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Darkroom

/// `/v1/images/convert` and `/v1/images/references`: multipart in as OpenAI's edits take it,
/// OpenAI's images response out, errors in OpenAI's envelope naming the field.
@Suite struct OpenAIRoutesTests {
    let app = Application(router: DarkroomHTTPServer.router(try! .init(maxBodyBytes: 16 << 20)))
    static let jpeg = try! TestImages.bytes("kodim23.jpg")    // 768 × 512
    static let png = try! TestImages.bytes("rgba.png")        // 32 × 32, alpha

    static func header(_ response: TestResponse, _ name: String) -> String? { response.headers[HTTPField.Name(name)!] }

    /// `bytes` converted by the library: a test input of a given format and size.
    static func made(_ bytes: [UInt8], _ format: ImageFormat, resize: String? = nil) throws -> [UInt8] {
        try Converter(options: ConvertOptions(format: format, quality: 90, resize: resize.map { try ResizeGeometry(parsing: $0) }))
            .convert(bytes).bytes
    }

    // MARK: convert

    /// `base_url="…/convert/v1"` and `…/references/v1`: the SDK's `images.edit` lands on the two routes.
    @Test func theEditsPathsUnderConvertAndReferencesAreTheTwoRoutes() async throws {
        try await app.test(.router) { client in
            let fields = ["output_format": "webp", "output_compression": "70", "size": "384x384", "prompt": "", "model": "m"]
            let direct = try await client.post("/v1/images/convert", .images([Self.jpeg], fields: fields))
            let viaEdits = try await client.post("/convert/v1/images/edits", .images([Self.jpeg], fields: fields))
            #expect(direct.status == .ok && viaEdits.status == .ok)
            #expect(try JSONBody.images(try JSONBody.object(viaEdits)) == JSONBody.images(try JSONBody.object(direct)))
            let references = try await client.post("/references/v1/images/edits", .images([Self.jpeg, Self.png], fields: ["format": "png"]))
            #expect(references.status == .ok)
            #expect(try JSONBody.images(try JSONBody.object(references)).map { ImageFormat.sniff($0) } == [.png, .png])
            let get = try await client.execute(uri: "/convert/v1/images/edits", method: .get)
            #expect(get.status == .methodNotAllowed && get.headers[.allow] == "POST")
        }
    }

    @Test func oneImageAsImageComesBackInOpenAIsShape() async throws {
        try await app.test(.router) { client in
            let response = try await client.post("/v1/images/convert", .images([Self.jpeg], fields: [
                "output_format": "webp", "output_compression": "70", "size": "384x384", "model": "gpt-image-1", "prompt": "x",
            ]))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(Self.header(response, "Darkroom-Format") == "webp")
            #expect(Self.header(response, "Darkroom-Quality") == "70")
            let object = try JSONBody.object(response)
            #expect(Set(object.keys) == ["created", "data", "output_format", "size", "darkroom"])
            #expect(object["output_format"] as? String == "webp")
            #expect(object["size"] as? String == "384x256")   // fitted within 384x384, aspect kept
            let created = try #require(object["created"] as? Int)
            #expect(abs(created - Int(Date().timeIntervalSince1970)) < 60)
            let images = try JSONBody.images(object)
            #expect(images.count == 1)
            #expect(ImageFormat.sniff(images[0]) == .webp)
            let header = try ImageDecoder.readHeader(images[0])
            #expect(header.width == 384 && header.height == 256)
            let darkroom = try #require(object["darkroom"] as? [String: Any])
            #expect(darkroom["output_format"] as? String == "webp")
            #expect(darkroom["quality"] as? Int == 70)
            #expect(darkroom["billed_mp"] as? Int == 1)
            let first = try #require((darkroom["images"] as? [[String: Any]])?.first)
            #expect(first["width"] as? Int == 384)
            #expect(first["height"] as? Int == 256)
            #expect(first["input_width"] as? Int == 768)
            #expect(first["input_height"] as? Int == 512)
            #expect(first["bytes"] as? Int == images[0].count)
            #expect(first["billed_mp"] as? Int == 1)
            #expect(first["quality"] as? Int == 70)
            #expect((first["warnings"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func severalImagesAsImageArrayComeBackInOrder() async throws {
        let gif = try Self.made(Self.png, .gif)
        try await app.test(.router) { client in
            let response = try await client.post("/v1/images/convert", .images([Self.jpeg, Self.png, gif], fields: ["output_format": "png"]))
            #expect(response.status == .ok)
            let object = try JSONBody.object(response)
            let images = try JSONBody.images(object)
            #expect(images.map { ImageFormat.sniff($0) } == [.png, .png, .png])
            #expect(try images.map { try ImageDecoder.readHeader($0).width } == [768, 32, 32])
            #expect(object["size"] == nil)   // the images differ in size
            #expect(Self.header(response, "Darkroom-Quality") == "lossless")
            let darkroom = try #require(object["darkroom"] as? [String: Any])
            #expect(darkroom["quality"] is NSNull)
            #expect(darkroom["billed_mp"] as? Int == 3)
        }
    }

    /// No output_compression: OpenAI's default, 100, and the answer says so; a lower value gives
    /// smaller bytes.
    @Test func theQualityUsedIsReportedAndHasItsEffect() async throws {
        try await app.test(.router) { client in
            var sizes: [Int] = []
            for compression in [nil, "90", "30"] as [String?] {
                var fields = ["output_format": "jpeg"]
                if let compression { fields["output_compression"] = compression }
                let response = try await client.post("/v1/images/convert", .images([Self.jpeg], fields: fields))
                #expect(response.status == .ok)
                #expect(Self.header(response, "Darkroom-Quality") == compression ?? "100")
                let object = try JSONBody.object(response)
                #expect((object["darkroom"] as? [String: Any])?["quality"] as? Int == Int(compression ?? "100"))
                sizes.append(try JSONBody.images(object)[0].count)
            }
            #expect(sizes[0] > sizes[1] && sizes[1] > sizes[2], "\(sizes)")
        }
    }

    @Test func binaryAnswersOneImageAsRawBytes() async throws {
        try await app.test(.router) { client in
            let response = try await client.post("/v1/images/convert", .images([Self.jpeg], fields: [
                "output_format": "avif", "output_compression": "50", "response_format": "binary"]))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "image/avif")
            #expect(Self.header(response, "Darkroom-Format") == "avif")
            #expect(Self.header(response, "Darkroom-Quality") == "50")
            #expect(Self.header(response, "Darkroom-Width") == "768")
            #expect(Self.header(response, "Darkroom-Billed-MP") == "1")
            #expect(ImageFormat.sniff(Array(response.body.readableBytesView)) == .avif)

            let two = try await client.post("/v1/images/convert", .images([Self.jpeg, Self.png], fields: ["response_format": "binary"]))
            let envelope = try JSONBody.envelope(two)
            #expect(envelope.status == 400 && envelope.code == "invalid_value" && envelope.param == "response_format")
        }
    }

    /// Every refusal: status, type, code and param as OpenAI's SDK reads them.
    @Test func badValuesAreRefusedNamingTheField() async throws {
        let notImage = Array("not an image at all".utf8)
        let cases: [(String, MultipartBody, Int, String, String, String?)] = [
            ("bad format", .images([Self.jpeg], fields: ["output_format": "bmp"]), 400, "invalid_request_error", "invalid_value", "output_format"),
            ("plus sign", .images([Self.jpeg], fields: ["output_compression": "+80"]), 400, "invalid_request_error", "invalid_type", "output_compression"),
            ("decimal", .images([Self.jpeg], fields: ["output_compression": "80.0"]), 400, "invalid_request_error", "invalid_type", "output_compression"),
            ("above", .images([Self.jpeg], fields: ["output_compression": "101"]), 400, "invalid_request_error", "integer_above_max_value", "output_compression"),
            ("below", .images([Self.jpeg], fields: ["output_compression": "-5"]), 400, "invalid_request_error", "integer_below_min_value", "output_compression"),
            ("background", .images([Self.jpeg], fields: ["background": "pink"]), 400, "invalid_request_error", "invalid_value", "background"),
            ("transparent jpeg", .images([Self.png], fields: ["background": "transparent", "output_format": "jpeg"]),
             400, "invalid_request_error", "invalid_jpeg_transparent_background", "background"),
            ("strict png", .images([Self.png], fields: ["output_compression": "50", "strict": "true"]),
             400, "image_generation_user_error", "invalid_png_output_compression", nil),
            ("size", .images([Self.jpeg], fields: ["size": "big"]), 400, "invalid_request_error", "invalid_value", "size"),
            ("url", .images([Self.jpeg], fields: ["response_format": "url"]), 400, "invalid_request_error", "invalid_value", "response_format"),
            ("n", .images([Self.jpeg], fields: ["n": "2"]), 400, "invalid_request_error", "invalid_value", "n"),
            ("stream", .images([Self.jpeg], fields: ["stream": "true"]), 400, "invalid_request_error", "unsupported_value", "stream"),
            ("unknown", .images([Self.jpeg], fields: ["output_fromat": "webp"]), 400, "invalid_request_error", "unknown_parameter", "output_fromat"),
            ("fail_on", .images([Self.jpeg], fields: ["fail_on": "sometimes"]), 400, "invalid_request_error", "invalid_value", "fail_on"),
            ("no image", MultipartBody([.field(name: "output_format", value: "png")]), 400, "invalid_request_error", "missing_required_parameter", "image"),
            ("image as text", MultipartBody([.field(name: "image", value: "https://example.com/a.png")]), 400, "invalid_request_error", "invalid_type", "image"),
            ("file as field", MultipartBody([.file(name: "image", filename: "a.jpg", bytes: Self.jpeg),
                                             .file(name: "output_format", filename: "f.txt", bytes: Array("png".utf8))]),
             400, "invalid_request_error", "invalid_type", "output_format"),
            ("field twice", MultipartBody([.file(name: "image", filename: "a.jpg", bytes: Self.jpeg),
                                           .field(name: "output_format", value: "png"), .field(name: "output_format", value: "webp")]),
             400, "invalid_request_error", "invalid_value", "output_format"),
            ("17 images", .images([[UInt8]](repeating: Self.png, count: 17)), 400, "invalid_request_error", "array_above_max_length", "image"),
            ("bad lone image", .images([notImage]), 400, "invalid_request_error", "invalid_image_format", "image"),
            ("bad third image", .images([Self.jpeg, Self.png, notImage]), 400, "invalid_request_error", "invalid_image_format", "image[2]"),
            ("cut image", .images([Self.jpeg, Array(Self.jpeg.prefix(Self.jpeg.count / 2))]), 400, "invalid_request_error", "invalid_image", "image[1]"),
            ("mask on convert", MultipartBody([.file(name: "image", filename: "a.png", bytes: Self.png), .file(name: "mask", filename: "m.png", bytes: Self.png)]),
             400, "invalid_request_error", "unknown_parameter", "mask"),
        ]
        try await app.test(.router) { client in
            for (name, body, status, type, code, param) in cases {
                let response = try await client.post("/v1/images/convert", body)
                let envelope = try JSONBody.envelope(response)
                #expect(envelope.status == status, "\(name)")
                #expect(envelope.type == type, "\(name)")
                #expect(envelope.code == code, "\(name)")
                #expect(envelope.param == param, "\(name)")
            }
        }
    }

    @Test func aBodyThatIsNotMultipartIsRefused() async throws {
        try await app.test(.router) { client in
            let raw = try await client.execute(uri: "/v1/images/convert", method: .post, body: ByteBuffer(bytes: Self.jpeg))
            var envelope = try JSONBody.envelope(raw)
            #expect(envelope.status == 400 && envelope.code == "invalid_value" && envelope.param == "Content-Type")
            let json = try await client.execute(uri: "/v1/images/convert", method: .post, headers: [.contentType: "application/json"],
                                                body: ByteBuffer(string: #"{"image":"x"}"#))
            envelope = try JSONBody.envelope(json)
            #expect(envelope.status == 400 && envelope.param == "Content-Type")
            // No closing boundary: the body ends inside a part.
            let body = MultipartBody.images([Self.png])
            let cut = try await client.execute(uri: "/v1/images/convert", method: .post, headers: [.contentType: body.contentType],
                                               body: ByteBuffer(bytes: body.bytes.dropLast(body.boundary.utf8.count + 8)))
            envelope = try JSONBody.envelope(cut)
            #expect(envelope.status == 400 && envelope.code == "invalid_value" && envelope.param == "multipart")
        }
    }

    // MARK: references

    /// One bad image does not fail the others: its place in `data` holds its error, naming it.
    @Test func referencesAnswerPerImageErrors() async throws {
        let gif = try Self.made(Self.png, .gif)
        try await app.test(.router) { client in
            let response = try await client.post("/v1/images/references", .images([Self.jpeg, gif, Self.png]))
            #expect(response.status == .ok)
            let object = try JSONBody.object(response)
            let data = try #require(object["data"] as? [[String: Any]])
            #expect(data.count == 3)
            #expect(data[0]["b64_json"] is String && data[2]["b64_json"] is String)
            let error = try #require(data[1]["error"] as? [String: Any])
            #expect(Set(error.keys) == ["message", "type", "param", "code"])
            #expect(error["param"] as? String == "image[1]")
            #expect(error["code"] as? String == "invalid_image_format")
            #expect((error["message"] as? String)?.contains("gif is not accepted here") == true)
            let darkroom = try #require(object["darkroom"] as? [String: Any])
            #expect(darkroom["failed"] as? Int == 1)
            #expect(darkroom["billed_mp"] as? Int == 2)
            let images = try #require(darkroom["images"] as? [[String: Any]])
            #expect(images[0]["passed_through"] as? Bool == true)   // a small clean JPEG: its own bytes
            #expect(images[0]["quality"] is NSNull)
            #expect(try JSONBody.images(["data": [data[0]]])[0] == Self.jpeg)

            // all_or_nothing: the first bad image fails the request, named.
            let strict = try await client.post("/v1/images/references", .images([Self.jpeg, gif, Self.png], fields: ["all_or_nothing": "true"]))
            let envelope = try JSONBody.envelope(strict)
            #expect(envelope.status == 400 && envelope.code == "invalid_image_format" && envelope.param == "image[1]")

            // Every image bad: the first one's error.
            let none = try await client.post("/v1/images/references", .images([gif, Array("junk".utf8)]))
            let all = try JSONBody.envelope(none)
            #expect(all.status == 400 && all.param == "image[0]")
        }
    }

    /// Over `max_mp` an image is scaled to fit (and re-encoded at the reported quality), and billed
    /// per image.
    @Test func referencesAreScaledToFitAndBilled() async throws {
        let photo = try Self.made(Self.jpeg, .jpeg, resize: "2600x1734!")   // 4.5 MP, over 4 MP
        try await app.test(.router) { client in
            let response = try await client.post("/v1/images/references", .images([photo, Self.jpeg], fields: ["format": "webp"]))
            #expect(response.status == .ok)
            let object = try JSONBody.object(response)
            let images = try JSONBody.images(object)
            #expect(images.allSatisfy { ImageFormat.sniff($0) == .webp })
            let first = try ImageDecoder.readHeader(images[0])
            #expect(first.width * first.height <= 4_194_304)
            #expect(first.width == 2507 && first.height == 1672)
            let details = try #require((object["darkroom"] as? [String: Any])?["images"] as? [[String: Any]])
            #expect(details[0]["resized"] as? Bool == true)
            #expect(details[0]["billed_mp"] as? Int == 4)
            #expect(details[0]["quality"] as? Int == 95)
            #expect(details[1]["resized"] as? Bool == false)
            #expect(details[1]["billed_mp"] as? Int == 1)
            #expect((object["darkroom"] as? [String: Any])?["billed_mp"] as? Int == 5)
        }
    }

    /// The mask follows the first image: resized to exactly its output size; a mask of another
    /// size than the first image is refused.
    @Test func theMaskIsResizedAsTheFirstImage() async throws {
        let photo = try Self.made(Self.jpeg, .jpeg, resize: "2600x1734!")
        let mask = try Self.made(Self.png, .png, resize: "2600x1734!")
        try await app.test(.router) { client in
            let body = MultipartBody([.file(name: "image[]", filename: "a.jpg", bytes: photo),
                                      .file(name: "image[]", filename: "b.jpg", bytes: Self.jpeg),
                                      .file(name: "mask", filename: "m.png", bytes: mask)])
            let response = try await client.post("/v1/images/references", body)
            #expect(response.status == .ok)
            let object = try JSONBody.object(response)
            let first = try ImageDecoder.readHeader(try JSONBody.images(object)[0])
            let maskText = try #require((object["mask"] as? [String: Any])?["b64_json"] as? String)
            let maskBytes = [UInt8](try #require(Data(base64Encoded: maskText)))
            #expect(ImageFormat.sniff(maskBytes) == .png)
            let resized = try ImageDecoder.readHeader(maskBytes)
            #expect(resized.width == first.width && resized.height == first.height)
            let details = try #require((object["darkroom"] as? [String: Any])?["mask"] as? [String: Any])
            #expect(details["resized"] as? Bool == true)
            #expect(details["input_width"] as? Int == 2600)

            let wrong = MultipartBody([.file(name: "image", filename: "a.jpg", bytes: Self.jpeg),
                                       .file(name: "mask", filename: "m.png", bytes: Self.png)])
            let refused = try await client.post("/v1/images/references", wrong)
            let envelope = try JSONBody.envelope(refused)
            #expect(envelope.status == 400 && envelope.code == "mask_size_mismatch" && envelope.param == "mask")
            #expect(try JSONBody.error(refused)["message"] as? String
                    == "the mask is 32x32 but image is 768x512: OpenAI applies the mask to the first image and requires both to have the same size")

            let notPNG = MultipartBody([.file(name: "image", filename: "a.jpg", bytes: Self.jpeg),
                                        .file(name: "mask", filename: "m.jpg", bytes: Self.jpeg)])
            let jpegMask = try JSONBody.envelope(try await client.post("/v1/images/references", notPNG))
            #expect(jpegMask.status == 400 && jpegMask.code == "invalid_image_format" && jpegMask.param == "mask")
        }
    }

    @Test func referenceFieldsAreChecked() async throws {
        try await app.test(.router) { client in
            for (fields, code, param) in [
                (["max_mp": "0"], "invalid_value", "max_mp"), (["format": "gif"], "invalid_value", "format"),
                (["all_or_nothing": "maybe"], "invalid_value", "all_or_nothing"), (["output_format": "png"], "unknown_parameter", "output_format"),
                (["response_format": "url"], "invalid_value", "response_format"),
            ] {
                let envelope = try JSONBody.envelope(try await client.post("/v1/images/references", .images([Self.jpeg], fields: fields)))
                #expect(envelope.status == 400 && envelope.code == code && envelope.param == param, "\(fields)")
            }
        }
    }

    // MARK: the envelope everywhere

    @Test func everyErrorHasTheFourKeyEnvelope() async throws {
        try await app.test(.router) { client in
            var envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/nothing", method: .get))
            #expect(envelope.status == 404 && envelope.code == "not_found" && envelope.param == nil)

            for route in ["/v1/images/convert", "/v1/images/references", "/v1/convert", "/v1/references", "/v1/size"] {
                let response = try await client.execute(uri: route, method: .get)
                envelope = try JSONBody.envelope(response)
                #expect(envelope.status == 405 && envelope.code == "method_not_allowed", "\(route)")
                #expect(response.headers[.allow] == "POST", "\(route)")
            }
            let post = try await client.execute(uri: "/healthz", method: .post)
            #expect(post.status == .methodNotAllowed && post.headers[.allow] == "GET, HEAD", "\(String(describing: post.headers[.allow]))")

            // The raw routes: a bad image is still 422 there, with the envelope.
            envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/convert", method: .post, body: ByteBuffer(string: "junk")))
            #expect(envelope.status == 422 && envelope.code == "invalid_image_format" && envelope.param == nil)
            envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/convert?resize=big", method: .post, body: ByteBuffer(bytes: Self.jpeg)))
            #expect(envelope.status == 400 && envelope.code == "invalid_value" && envelope.param == "resize")
            envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/references?max_mp=x", method: .post, body: ByteBuffer(bytes: Self.jpeg)))
            #expect(envelope.status == 400 && envelope.param == "max_mp")
            envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/convert", method: .post,
                                                                      body: ByteBuffer(bytes: [UInt8](repeating: 0, count: 17 << 20))))
            #expect(envelope.status == 413 && envelope.code == "body_too_large" && envelope.type == "invalid_request_error")
        }
    }

    /// `/v1/size` reads its body strictly: a key given twice is refused (as a query field given
    /// twice is), and so are numbers JSON does not have.
    @Test func sizeBodiesAreStrictJSON() async throws {
        try await app.test(.router) { client in
            for (body, code, param) in [
                (#"{"size":"1024x1024","size":"16x16"}"#, "duplicate_key", "size"),
                (#"{"size":"1024x1024","\u0073ize":"16x16"}"#, "duplicate_key", "size"),
                (#"{"resolution":+1}"#, "invalid_json", nil),
                (#"{"resolution":01}"#, "invalid_json", nil),
                (#"{"size":"1024x1024",}"#, "invalid_json", nil),
                (#"{"size":"1024x1024"} x"#, "invalid_json", nil),
            ] as [(String, String, String?)] {
                let envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/size", method: .post, body: ByteBuffer(string: body)))
                #expect(envelope.status == 400 && envelope.code == code && envelope.param == param, "\(body)")
            }
            let plus = try JSONBody.envelope(try await client.execute(uri: "/v1/size?multiple=%2B16", method: .post,
                                                                      body: ByteBuffer(string: #"{"size":"1024x1024"}"#)))
            #expect(plus.status == 400 && plus.code == "invalid_type" && plus.param == "multiple")
            let ok = try await client.execute(uri: "/v1/size?profile=flux2", method: .post, body: ByteBuffer(string: #"{"size":"1024x1024","n":1}"#))
            #expect(ok.status == .ok)
            #expect(String(buffer: ok.body) == #"{"height":1024,"width":1024}"#)
        }
    }
}

/// The server's own output bounds, checked from the header before anything is decoded.
@Suite struct OutputLimitTests {
    /// An 8×8 PNG whose pixel data is damaged (its IDAT bytes overwritten): its header reads,
    /// a decode fails (`invalid_image`). Refused for its size, it shows the check came first.
    static func pngHeaderOnly() throws -> [UInt8] {
        var png = try Converter(options: ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "8x8!")))
            .convert(try TestImages.bytes("rgba.png")).bytes
        let idat = try #require(png.indices.dropLast(4).first { png[$0..<$0 + 4].elementsEqual("IDAT".utf8) })
        let length = png[idat - 4..<idat].reduce(0) { $0 << 8 | Int($1) }
        for i in idat + 4..<idat + 4 + length { png[i] = 0xAB }
        return png
    }

    @Test func hugeUpscalesAreRefusedBeforeDecoding() async throws {
        let app = Application(router: DarkroomHTTPServer.router(try .init(maxBodyBytes: 1 << 20)))
        let tiny = try Self.pngHeaderOnly()
        try await app.test(.router) { client in
            let clock = ContinuousClock()
            let start = clock.now
            let raw = try await client.execute(uri: "/v1/convert?resize=16000x16000!&output_format=png", method: .post, body: ByteBuffer(bytes: tiny))
            var envelope = try JSONBody.envelope(raw)
            #expect(envelope.status == 400 && envelope.code == "upscale_too_large" && envelope.param == "resize")
            #expect(try JSONBody.error(raw)["message"] as? String
                    == "the output 16000x16000 enlarges the 8x8 input 2000 times per side; the server enlarges at most 4 times (set by darkroom-server --max-upscale)")
            let multipart = try await client.post("/v1/images/convert", .images([tiny], fields: ["size": "16000x16000"]))
            envelope = try JSONBody.envelope(multipart)
            #expect(envelope.status == 400 && envelope.code == "upscale_too_large" && envelope.param == "size")
            // Without the check the PNG route ran for minutes; the refusal is a header read (the
            // damaged pixel data proves nothing was decoded). A loose bound: the suites run in parallel.
            #expect(clock.now - start < .seconds(10))
            // Within the factor the same bytes reach the decoder, which refuses them.
            let decoded = try JSONBody.envelope(try await client.execute(uri: "/v1/convert?resize=32x32!", method: .post, body: ByteBuffer(bytes: tiny)))
            #expect(decoded.status == 422 && decoded.code == "invalid_image")
        }
    }

    @Test func outputsOverTheOutputPixelLimitAreRefused() async throws {
        let app = Application(router: DarkroomHTTPServer.router(try .init(maxBodyBytes: 1 << 20, maxOutputPixels: 100_000, maxUpscale: 1000)))
        let jpeg = try TestImages.bytes("kodim23.jpg")   // 393,216 px
        try await app.test(.router) { client in
            let same = try await client.execute(uri: "/v1/convert?output_format=png", method: .post, body: ByteBuffer(bytes: jpeg))
            var envelope = try JSONBody.envelope(same)
            #expect(envelope.status == 400 && envelope.code == "output_too_large" && envelope.param == nil)   // no field asked for it
            #expect(try JSONBody.error(same)["message"] as? String
                    == "the output 768x512 = 393216 px is over the server's output limit of 100000 px (set by darkroom-server --max-output-pixels)")
            envelope = try JSONBody.envelope(try await client.post("/v1/images/convert", .images([jpeg], fields: ["size": "4000x4000"])))
            #expect(envelope.status == 400 && envelope.code == "output_too_large" && envelope.param == "size")
            // Shrunk within the limit it passes.
            let small = try await client.execute(uri: "/v1/convert?resize=300x", method: .post, body: ByteBuffer(bytes: jpeg))
            #expect(small.status == .ok)
            // References: the output is the fitted size, checked the same way.
            envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/references", method: .post, body: ByteBuffer(bytes: jpeg)))
            #expect(envelope.status == 400 && envelope.code == "output_too_large" && envelope.param == "max_mp")
            let fitted = try await client.execute(uri: "/v1/references?max_mp=0.05", method: .post, body: ByteBuffer(bytes: jpeg))
            #expect(fitted.status == .ok)
        }
    }

    /// AVIF's encoder cannot be stopped once started and slows down steeply past about 12 MP:
    /// AVIF outputs have a limit of their own, named when it refuses.
    @Test func avifOutputsHaveTheirOwnLimit() async throws {
        let app = Application(router: DarkroomHTTPServer.router(try .init(maxBodyBytes: 1 << 20, maxAVIFPixels: 100_000)))
        let jpeg = try TestImages.bytes("kodim23.jpg")   // 393,216 px
        try await app.test(.router) { client in
            let same = try await client.post("/v1/images/convert", .images([jpeg], fields: ["output_format": "avif"]))
            var envelope = try JSONBody.envelope(same)
            #expect(envelope.status == 400 && envelope.code == "output_too_large" && envelope.param == "output_format")
            #expect(try JSONBody.error(same)["message"] as? String
                    == "the output 768x512 = 393216 px is over the server's AVIF limit of 100000 px (set by darkroom-server"
                    + " --max-avif-pixels: the AVIF encoder cannot be stopped once started); ask a smaller size or another output_format")
            envelope = try JSONBody.envelope(try await client.execute(uri: "/v1/convert?output_format=avif&resize=400x", method: .post,
                                                                      body: ByteBuffer(bytes: jpeg)))
            #expect(envelope.status == 400 && envelope.code == "output_too_large" && envelope.param == "resize")
            let small = try await client.post("/v1/images/convert", .images([jpeg], fields: ["output_format": "avif", "size": "300x300"]))
            #expect(small.status == .ok)
            // Other formats keep the general limit.
            #expect(try await client.post("/v1/images/convert", .images([jpeg], fields: ["output_format": "webp"])).status == .ok)
        }
    }

    @Test func theBoundsAreConfigurationValues() throws {
        #expect(throws: DarkroomError.option(OptionError(name: "max-upscale", value: "0.5", expected: "a number from 1 to 1000"))) {
            try DarkroomHTTPServer.Configuration(maxUpscale: 0.5)
        }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(maxOutputPixels: 0) }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(maxUploads: 0) }
        #expect(throws: DarkroomError.self) { try DarkroomHTTPServer.Configuration(port: 65_536) }
        let standard = DarkroomHTTPServer.Configuration.standard
        #expect(standard.maxOutputPixels == 67_108_864 && standard.maxUpscale == 4 && standard.minBodyRate == 1000)
        #expect(standard.maxAVIFPixels == 8_388_608)
        #expect(RouteSupport.OutputLimits.text(4.0005) == "4.0005" && RouteSupport.OutputLimits.text(81.25) == "81.25")
        #expect(standard.maxUploads == 2 * (standard.workers + standard.queueSize))
    }
}
