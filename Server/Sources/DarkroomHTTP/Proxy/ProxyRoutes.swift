import Darkroom
import Foundation
import HTTPTypes
import Hummingbird
import MultipartKit
import NIOCore
import NIOHTTP1

/// Proxy mode (`darkroom-server --upstream URL`): OpenAI's own `POST /v1/images/generations`
/// (JSON) and `POST /v1/images/edits` (multipart) forwarded to an OpenAI-compatible upstream,
/// and the upstream's images converted to the `output_format`/`output_compression` the client
/// asked, whatever the provider supports.
///
/// - Darkroom keeps `output_format`, `output_compression`, `response_format`, `stream` and
///   `partial_images` for itself and forwards every other field as the client sent it: the
///   upstream makes its default format (PNG for OpenAI's models), which is then converted.
/// - Edits: every `image`/`image[]` (1–16) is prepared by the gateway's reference rule
///   (``ReferencePrep``: over 4 MP scaled to 4 MP, upright, sRGB, no metadata; an image needing
///   none of this is forwarded byte for byte), and the `mask` resized exactly as the first image.
/// - The upstream's `b64_json` items are decoded, its `url` items downloaded by the guarded
///   fetcher (``Upstream/fetch(_:param:)``); each image is converted on the worker pool, which
///   is held only then (not while the upstream works), within `--request-timeout`.
/// - The answer is OpenAI's shape with the upstream's `created`, `usage` and `revised_prompt`,
///   and Darkroom's `darkroom` block (per-image billed MP, the references' preparation).
/// - Every error after the upstream was asked carries `x-should-retry: false`: the SDKs retry
///   5xx twice by default, and a paid generation must not be repeated by accident.
enum ProxyRoutes {
    /// The fields Darkroom answers itself and never forwards.
    static let ownFields: Set<String> = ["output_format", "output_compression", "response_format", "stream", "partial_images"]

    static func add(to router: Router<BasicRequestContext>, server: DarkroomHTTPServer.Server) {
        let upstream = server.configuration.upstream.map { Upstream($0, metrics: server.metrics) }
        router.post("v1/images/generations") { request, _ in await generations(request, server, upstream) }
        router.post("v1/images/edits") { request, _ in await edits(request, server, upstream) }
    }

    /// 404 `no_upstream`: the route exists only in proxy mode.
    static func noUpstream(_ path: String) -> APIError {
        APIError(.notFound,
                 message: "\(path) is served in proxy mode only: start darkroom-server with --upstream URL (an OpenAI-compatible"
                     + " base URL) to forward it; without one, convert images with /v1/images/convert (docs/server.md, Proxy mode)",
                 code: "no_upstream")
    }

    // MARK: What the client asked of Darkroom

    /// The conversion the client asked, from its own fields (`output_format`,
    /// `output_compression`, `background`); 400 for `stream=true`, `response_format=url` or a bad value.
    static func conversion(_ fields: [String: JSONValue]) throws(APIError) -> GatewayConversion {
        if let stream = fields["stream"], stream != .null, stream != .bool(false), stream != .string("false") {
            throw APIError(.badRequest,
                           message: "stream=true is not supported in proxy mode: Darkroom converts whole images, so it answers"
                               + " every image in one response (send stream=false or leave it out)",
                           param: "stream", code: "unsupported_value")
        }
        switch fields["response_format"] {
        case nil, .null?, .string("b64_json")?: break
        case .string("url")?:
            throw APIError.invalidValue("response_format", "response_format=url is not served: Darkroom converts the images and keeps"
                                        + " none, so they come back as b64_json")
        case let other?:
            throw APIError.invalidValue("response_format", "invalid response_format \(other): accepted value is b64_json")
        }
        var own: [String: JSONValue] = [:]
        for name in ["output_format", "output_compression", "background"] { if let v = fields[name] { own[name] = v } }
        if case let .string(text)? = own["output_compression"] {
            own["output_compression"] = .int(try RouteSupport.integer(text, param: "output_compression", in: GatewayRequest.compressionRange))
        }
        do {
            let request = try GatewayRequest(fields: own)
            try request.validate()
            return GatewayConversion(request: request)
        } catch {
            throw APIError.from(error, door: .openAI)
        }
    }

    // MARK: POST /v1/images/generations

    static func generations(_ request: Request, _ server: DarkroomHTTPServer.Server, _ upstream: Upstream?) async -> Response {
        await RouteSupport.answer(door: .openAI) {
            guard let upstream else { throw RouteSupport.closing(noUpstream("/v1/images/generations"), request) }
            // Refused before the body is read: the answer says Connection: close (RouteSupport.closing).
            do throws(APIError) { try upstream.admit(retryAfter: server.configuration.retryAfter) } catch { throw RouteSupport.closing(error, request) }
            defer { upstream.leave() }
            let start = RouteSupport.Start()
            let type = request.headers[.contentType].map { HeaderParameters.parse($0).value.lowercased() }
            guard type == "application/json" else {
                throw RouteSupport.closing(APIError.invalidValue("Content-Type", "expected a JSON body (Content-Type: application/json), as OpenAI's image generations take"), request)
            }
            let body = try await RouteSupport.body(of: request, server: server, route: "/v1/images/generations", start: start)
            do { try StrictJSON.check(body) } catch let error as StrictJSON.Refusal {
                throw APIError(.badRequest, message: "the body is not strict JSON: \(error.message)",
                               param: error.key, code: error.key == nil ? "invalid_json" : "duplicate_key")
            }
            guard let fields = (try? JSONValue(parsing: Data(body)))?.objectValue else {
                throw APIError(.badRequest, message: "the body must be a JSON object", code: "invalid_json")
            }
            var stage = try conversion(fields)
            stage.maxPixels = server.configuration.maxPixels
            stage.maxJPEGScans = server.configuration.maxJPEGScans
            let forwarded = fields.filter { !ownFields.contains($0.key) }
            let answer = try await upstream.post(path: "/images/generations", body: Array(JSONValue.object(forwarded).jsonData()),
                                                 contentType: "application/json", from: request)
            return try await afterUpstream {
                try await respond(answer, stage: stage, references: nil, server: server, upstream: upstream)
            }
        }
    }

    // MARK: POST /v1/images/edits

    /// One reference as forwarded.
    struct Reference: Sendable {
        var name: String
        var filename: String
        var bytes: [UInt8]
        var format: ImageFormat
        var prepared: PreparedReference?
    }

    static func edits(_ request: Request, _ server: DarkroomHTTPServer.Server, _ upstream: Upstream?) async -> Response {
        await RouteSupport.answer(door: .openAI) {
            guard let upstream else { throw RouteSupport.closing(noUpstream("/v1/images/edits"), request) }
            do throws(APIError) { try upstream.admit(retryAfter: server.configuration.retryAfter) } catch { throw RouteSupport.closing(error, request) }
            defer { upstream.leave() }
            let start = RouteSupport.Start()
            let boundary: String
            do throws(APIError) { boundary = try MultipartForm.boundary(contentType: request.headers[.contentType]) } catch {
                throw RouteSupport.closing(error, request)
            }
            let body = try await RouteSupport.body(of: request, server: server, route: "/v1/images/edits", start: start)
            let form = try MultipartForm(body: body, boundary: boundary, fileNames: ["image", "image[]", "mask"])
            let imageParts = form.files.filter { $0.name != "mask" }
            let masks = form.files.filter { $0.name == "mask" }
            guard !imageParts.isEmpty else {
                throw APIError.missing("image", "Missing required parameter: 'image' (one file as image, or several as image[])")
            }
            guard imageParts.count <= ImagesRoutes.maxImages else {
                throw APIError(.badRequest, message: "Invalid 'image': array too long. Expected an array with maximum length"
                                   + " \(ImagesRoutes.maxImages), but got an array with length \(imageParts.count) instead.",
                               param: "image", code: "array_above_max_length")
            }
            guard masks.count <= 1 else {
                throw APIError.invalidValue("mask", "one mask at most (it applies to the first image); \(masks.count) were sent")
            }
            var stage = try conversion(form.fields.mapValues { JSONValue.string($0) })
            stage.maxPixels = server.configuration.maxPixels
            stage.maxJPEGScans = server.configuration.maxJPEGScans
            let lone = imageParts.count == 1 && imageParts[0].name == "image"
            let images = imageParts.enumerated().map {
                ImagesRoutes.Upload(param: lone ? "image" : "image[\($0.offset)]", bytes: $0.element.bytes)
            }
            let mask = masks.first.map { ImagesRoutes.Upload(param: "mask", bytes: $0.bytes) }
            let limits = RouteSupport.OutputLimits(server.configuration)
            let maxPixels = server.configuration.maxPixels
            // The pool only for the preparation: the slot is back before the upstream is asked.
            let (references, preparedMask) = try await RouteSupport.onPool(server, start: start, door: .openAI) {
                try prepare(images, mask: mask, limits: limits, maxPixels: maxPixels)
            }
            var parts: [MultipartPart] = []
            for (name, value) in form.fields.sorted(by: { $0.key < $1.key }) where !ownFields.contains(name) {
                parts.append(MultipartPart(headers: ["Content-Disposition": "form-data; name=\"\(quoted(name))\""], body: value))
            }
            for (index, part) in imageParts.enumerated() {
                let reference = references[index]
                parts.append(filePart(name: part.name, filename: filename(part.filename, index: index, format: reference.format),
                                      bytes: reference.bytes, format: reference.format))
            }
            if let preparedMask, let part = masks.first {
                parts.append(filePart(name: "mask", filename: filename(part.filename, index: 0, format: .png, stem: "mask"),
                                      bytes: preparedMask.bytes, format: .png))
            }
            let outBoundary = "darkroom-\(UInt64.random(in: 0...UInt64.max))"
            var buffer = ByteBuffer()
            do { try MultipartSerializer().serialize(parts: parts, boundary: outBoundary, into: &buffer) } catch {
                throw APIError.internalError("the upstream's multipart body could not be written: \(error)")
            }
            let answer = try await upstream.post(path: "/images/edits", body: Array(buffer.readableBytesView),
                                                 contentType: "multipart/form-data; boundary=\(outBoundary)", from: request)
            return try await afterUpstream {
                try await respond(answer, stage: stage, references: (references, preparedMask), server: server, upstream: upstream)
            }
        }
    }

    /// The mask as forwarded.
    struct PreparedMask: Sendable {
        var bytes: [UInt8]
        var width: Int
        var height: Int
        var input: PixelSize
        var resized: Bool
    }

    /// On a worker: each image prepared by the gateway's reference rule (the first bad one fails
    /// the request, naming it), then the mask resized exactly as the first image was (untouched
    /// when the first image was not resized).
    static func prepare(_ images: [ImagesRoutes.Upload], mask: ImagesRoutes.Upload?, limits: RouteSupport.OutputLimits,
                        maxPixels: Int) throws -> ([Reference], PreparedMask?) {
        let options = ReferencePrepOptions(maxReferences: ImagesRoutes.maxImages, maxInputPixels: maxPixels)
        let area = try? ResizeGeometry(maxPixels: options.maxPixels)
        var references: [Reference] = []
        for image in images {
            try limits.check(image.bytes, resize: area, format: nil, door: .openAI, imageParam: image.param, sizeParam: nil)
            let ref: PreparedReference
            do { ref = try ReferencePrep.prepare(bytes: image.bytes, name: image.param, options: options) } catch {
                throw APIError.from(error, door: .openAI, imageParam: image.param)
            }
            references.append(Reference(name: image.param, filename: ref.fileName, bytes: ref.bytes, format: ref.format, prepared: ref))
        }
        guard let mask, let first = references.first?.prepared else { return (references, nil) }
        if !first.resized {
            guard ImageFormat.sniff(mask.bytes) == .png else {
                throw APIError(.badRequest, message: "the mask must be a PNG (with an alpha channel, as OpenAI takes it)",
                               param: "mask", code: "invalid_image_format")
            }
            let header: ImageHeader
            do { header = try ImageDecoder.readHeader(mask.bytes) } catch { throw APIError.from(error, door: .openAI, imageParam: "mask") }
            let size = PixelSize(width: header.uprightWidth, height: header.uprightHeight)
            return (references, PreparedMask(bytes: mask.bytes, width: size.width, height: size.height, input: size, resized: false))
        }
        let asked = ImagesRoutes.ReferencesRequest(options: options, allOrNothing: true)
        let resized = try ImagesRoutes.resizeMask(mask.bytes, like: first, asked: asked, firstParam: images[0].param)
        return (references, PreparedMask(bytes: resized.bytes, width: resized.width, height: resized.height, input: resized.input, resized: true))
    }

    static func filePart(name: String, filename: String, bytes: [UInt8], format: ImageFormat) -> MultipartPart {
        MultipartPart(headers: ["Content-Disposition": "form-data; name=\"\(quoted(name))\"; filename=\"\(quoted(filename))\"",
                                "Content-Type": format.mimeType],
                      body: ByteBuffer(bytes: bytes))
    }

    /// The client's file name with the extension of the forwarded format (`image-0.png` when it sent none).
    static func filename(_ sent: String?, index: Int, format: ImageFormat, stem: String = "image") -> String {
        let ext = format == .jpeg ? "jpg" : format.rawValue
        let base = (sent?.isEmpty == false ? sent! : "\(stem)-\(index).\(ext)")
        let name = base.split(separator: "/").last.map(String.init) ?? base
        let withoutExt = name.contains(".") ? String(name[..<name.lastIndex(of: ".")!]) : name
        return "\(withoutExt.isEmpty ? stem : withoutExt).\(ext)"
    }

    /// A header parameter value: quotes and backslashes escaped, controls dropped.
    static func quoted(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map { Character($0) })
            .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    // MARK: The answer

    /// Runs what follows the upstream's answer; any error it throws gets `x-should-retry: false`
    /// (the generation happened: a retry would pay for it again).
    static func afterUpstream(_ work: () async throws -> Response) async throws(APIError) -> Response {
        do {
            return try await work()
        } catch {
            var answer = APIError.from(error, door: .openAI)
            answer.headers["x-should-retry"] = "false"
            throw answer
        }
    }

    /// The images of the upstream's answer: `b64_json` decoded, `url` downloaded (a `data:` URL
    /// decoded here), each converted on the worker pool; OpenAI's answer with the upstream's
    /// `created`, `usage`, `revised_prompt`, and the `darkroom` block.
    static func respond(_ answer: Upstream.Answer, stage: GatewayConversion, references: ([Reference], PreparedMask?)?,
                        server: DarkroomHTTPServer.Server, upstream: Upstream) async throws -> Response {
        guard let items = answer.json["data"]?.arrayValue, !items.isEmpty else {
            throw Upstream.badGateway("the upstream's answer has no data array of images", code: "upstream_invalid_response")
        }
        var sources: [(bytes: [UInt8], source: String, revisedPrompt: String?)] = []
        for (index, item) in items.enumerated() {
            let param = "data[\(index)]"
            let object = item.objectValue ?? [:]
            let revised = object["revised_prompt"]?.stringValue
            if let b64 = object["b64_json"]?.stringValue {
                guard let data = Data(base64Encoded: b64, options: .ignoreUnknownCharacters) else {
                    throw Upstream.badGateway("the upstream's \(param).b64_json is not base64", code: "upstream_invalid_response", param: param)
                }
                sources.append((Array(data), "b64_json", revised))
            } else if let url = object["url"]?.stringValue {
                if url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64"),
                   let data = Data(base64Encoded: String(url[url.index(after: comma)...]), options: .ignoreUnknownCharacters) {
                    sources.append((Array(data), "data_url", revised))
                } else {
                    let fetched = try await upstream.fetch(url, param: param)
                    sources.append((fetched.bytes, "url", revised))
                }
            } else {
                throw Upstream.badGateway("the upstream's \(param) has neither b64_json nor url", code: "upstream_invalid_response", param: param)
            }
        }
        let limits = RouteSupport.OutputLimits(server.configuration)
        let inputs = sources.map(\.bytes)
        // A new start: --request-timeout bounds the conversion, not the generation before it.
        let converted = try await RouteSupport.onPool(server, start: RouteSupport.Start(), door: .openAI) {
            () throws -> [(GatewayImage, PixelSize)] in
            var out: [(GatewayImage, PixelSize)] = []
            for (index, bytes) in inputs.enumerated() {
                let param = "data[\(index)]"
                do {
                    let input = try limits.check(bytes, resize: nil, format: stage.request.effectiveFormat, door: .openAI,
                                                 imageParam: param, sizeParam: nil).input
                    out.append((try stage.convert(bytes), input))
                } catch let error as APIError where ["invalid_image", "invalid_image_format"].contains(error.code ?? "") {
                    throw Upstream.badGateway("the upstream's image \(param) is not usable: \(error.message)",
                                              code: "upstream_invalid_image", param: param)
                } catch let error as DarkroomError {
                    let api = APIError.from(error, door: .openAI, imageParam: param)
                    if api.status == .badRequest {
                        throw Upstream.badGateway("the upstream's image \(param) is not usable: \(api.message)",
                                                  code: "upstream_invalid_image", param: param)
                    }
                    throw api
                }
                server.metrics.recordPixelsDecoded(route: "/v1/images/proxy", out.last!.0.inputPixels)
            }
            return out
        }
        let format = stage.request.effectiveFormat
        let quality = RouteSupport.qualityUsed(format, stage.request.effectiveQuality)
        var data: [JSONValue] = []
        for ((image, _), source) in zip(converted, sources) {
            var item: [String: JSONValue] = ["b64_json": .string(Data(image.bytes).base64EncodedString())]
            if let revised = source.revisedPrompt { item["revised_prompt"] = .string(revised) }
            data.append(.object(item))
        }
        var response: [String: JSONValue] = [
            "created": answer.json["created"].flatMap { $0.intValue.map(JSONValue.int) } ?? .int(Int(Date().timeIntervalSince1970)),
            "data": .array(data),
            "output_format": .string(format.rawValue),
        ]
        for key in ["usage", "quality", "background"] { if let value = answer.json[key] { response[key] = value } }
        if let background = stage.request.background, background != .auto { response["background"] = .string(background.rawValue) }
        let sizes = Set(converted.map { "\($0.0.width)x\($0.0.height)" })
        if sizes.count == 1 { response["size"] = .string(sizes.first!) }
        var darkroom: [String: JSONValue] = [
            "output_format": .string(format.rawValue),
            "quality": quality.map(JSONValue.int) ?? .null,
            "billed_mp": .int(converted.reduce(0) { $0 + $1.0.billedMegapixels }),
            "images": .array(zip(converted, sources).map { pair, source in
                let (image, input) = pair
                return .object([
                    "width": .int(image.width), "height": .int(image.height),
                    "input_width": .int(input.width), "input_height": .int(input.height),
                    "source": .string(source.source), "source_format": ImageFormat.sniff(source.bytes).map { .string($0.rawValue) } ?? .null,
                    "bytes": .int(image.bytes.count), "billed_mp": .int(image.billedMegapixels),
                    "format": .string(image.format.rawValue),
                    "quality": image.lossless ? .null : quality.map(JSONValue.int) ?? .null,
                    "frames": .int(image.frameCount), "source_frames": .int(image.sourceFrameCount),
                    "warnings": .array(RouteSupport.warningsJSON(image)),
                ])
            }),
            "upstream": .object([
                "request_id": answer.requestID.map(JSONValue.string) ?? .null,
                "ms": .int(answer.milliseconds),
            ]),
        ]
        if let (refs, mask) = references {
            darkroom["references"] = .array(refs.map { ref in
                guard let p = ref.prepared else { return .null }
                return .object([
                    "format": .string(p.format.rawValue), "width": .int(p.width), "height": .int(p.height),
                    "input_width": .int(p.inputWidth), "input_height": .int(p.inputHeight), "resized": .bool(p.resized),
                    "passed_through": .bool(p.passedThrough), "billed_mp": .int(p.billedMegapixels), "bytes": .int(p.bytes.count),
                ])
            })
            darkroom["references_billed_mp"] = .int(refs.reduce(0) { $0 + ($1.prepared?.billedMegapixels ?? 0) })
            if let mask {
                darkroom["mask"] = .object([
                    "width": .int(mask.width), "height": .int(mask.height), "input_width": .int(mask.input.width),
                    "input_height": .int(mask.input.height), "resized": .bool(mask.resized), "bytes": .int(mask.bytes.count),
                ])
            }
        }
        response["darkroom"] = .object(darkroom)
        return RouteSupport.jsonResponse(.ok, .object(response), headers: [
            "Darkroom-Format": format.rawValue, "Darkroom-Quality": RouteSupport.qualityHeader(quality),
        ])
    }
}
