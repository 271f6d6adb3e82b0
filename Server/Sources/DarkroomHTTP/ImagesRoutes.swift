import Darkroom
import Foundation
import Hummingbird
import NIOCore

/// The routes in OpenAI's own shape: a multipart body as `/v1/images/edits` takes it (`image` for
/// one file, `image[]` repeated for several, as the official SDKs send a list; at most
/// ``maxImages``), and OpenAI's images response (`created`, `data[].b64_json`, `output_format`,
/// `size`) with Darkroom's own block, `darkroom`, beside it (the SDKs ignore keys they do not know).
///
/// - `POST /v1/images/convert`: every image converted as the request's fields ask
///   (`output_format`, `output_compression`, `background`, `size` to fit within); all or nothing.
///   `response_format=binary` answers one image as raw bytes with `Darkroom-*` headers.
/// - `POST /v1/images/references`: every image prepared by the gateway's reference rule
///   (``ReferencePrep``: upright, sRGB, metadata stripped, over `max_mp` (4 MP) scaled to fit,
///   PNG/JPEG/WebP), each with its own result or error (`all_or_nothing=true` fails the request on
///   the first error); a `mask` is resized exactly as the first image.
///
/// Errors name the field in `param` (`output_format`, `image[2]`, `mask`); a file that is not a
/// usable image is 400, as OpenAI answers it.
enum ImagesRoutes {
    /// Most images per request: OpenAI's limit for edits.
    static let maxImages = 16
    /// Fields OpenAI clients send with every edit that say nothing about a conversion: accepted, not used.
    static let ignoredFields = ["model", "prompt", "safety_identifier", "user"]
    static let convertFields = (["background", "fail_on", "frames", "keep", "n", "output_compression", "output_format", "response_format",
                                 "size", "stream", "strict"] + ignoredFields).sorted()
    static let referenceFields = (["all_or_nothing", "fail_on", "format", "max_mp", "response_format"] + ignoredFields).sorted()

    static func add(to router: Router<BasicRequestContext>, server: DarkroomHTTPServer.Server) {
        router.post("v1/images/convert") { request, _ in await convert(request, server) }
        router.post("v1/images/references") { request, _ in await references(request, server) }
        // The same two routes where an OpenAI SDK's `images.edit` lands with nothing but a base URL:
        // `base_url="http://host:8080/convert/v1"` (or `/references/v1`) → POST …/images/edits.
        router.post("convert/v1/images/edits") { request, _ in await convert(request, server) }
        router.post("references/v1/images/edits") { request, _ in await references(request, server) }
    }

    /// One uploaded image and the field it is answered under: `image` for a lone `image` part,
    /// else `image[i]` (its place among the image parts, from 0).
    struct Upload: Sendable {
        var param: String
        var bytes: [UInt8]
    }

    /// Reads and parses the multipart body; returns the images, the mask (when `acceptsMask`) and
    /// the text fields. 400 for no image (`missing_required_parameter`), more than ``maxImages``
    /// (`array_above_max_length`), or a second mask.
    static func form(_ request: Request, _ server: DarkroomHTTPServer.Server, route: String, start: RouteSupport.Start,
                     acceptsMask: Bool) async throws(APIError) -> (images: [Upload], mask: Upload?, fields: RouteSupport.Fields) {
        // The content type is checked before the body is read (and before `100 Continue`).
        let boundary = try MultipartForm.boundary(contentType: request.headers[.contentType])
        let body = try await RouteSupport.body(of: request, server: server, route: route, start: start)
        var form = try MultipartForm(body: body, boundary: boundary, fileNames: ["image", "image[]", "mask"])
        if !acceptsMask, form.fields["mask"] != nil || form.files.contains(where: { $0.name == "mask" }) {
            throw APIError.unknownParameter("mask", accepted: convertFields + ["image", "image[]"])
        }
        let imageParts = form.files.filter { $0.name != "mask" }
        let masks = form.files.filter { $0.name == "mask" }
        guard !imageParts.isEmpty else {
            throw APIError.missing("image", "Missing required parameter: 'image' (one file as image, or several as image[])")
        }
        guard imageParts.count <= maxImages else {
            throw APIError(.badRequest, message: "Invalid 'image': array too long. Expected an array with maximum length \(maxImages),"
                               + " but got an array with length \(imageParts.count) instead.",
                           param: "image", code: "array_above_max_length")
        }
        guard masks.count <= 1 else {
            throw APIError.invalidValue("mask", "one mask at most (it applies to the first image); \(masks.count) were sent")
        }
        let lone = imageParts.count == 1 && imageParts[0].name == "image"
        let images = imageParts.enumerated().map { Upload(param: lone ? "image" : "image[\($0.offset)]", bytes: $0.element.bytes) }
        for name in ignoredFields { _ = form.fields.removeValue(forKey: name) }
        return (images, masks.first.map { Upload(param: "mask", bytes: $0.bytes) }, RouteSupport.Fields(form.fields))
    }

    // MARK: /v1/images/convert

    /// What the convert route's fields ask.
    struct ConvertRequest: Sendable {
        var stage: GatewayConversion
        var binary: Bool
        var sizeText: String?
    }

    static func convertRequest(_ fields: inout RouteSupport.Fields, imageCount: Int,
                               maxPixels: Int) throws(APIError) -> ConvertRequest {
        var gatewayFields: [String: String] = [:]
        for name in ["output_format", "output_compression", "background"] { if let v = fields.take(name) { gatewayFields[name] = v } }
        let strict = try RouteSupport.flag(fields.take("strict"), param: "strict")
        let failOn = try RouteSupport.failOn(fields.take("fail_on"))
        let frames = try RouteSupport.frames(fields.take("frames"))
        let keep = try RouteSupport.keep(fields.take("keep"))
        if let n = fields.take("n") {
            let count = try RouteSupport.integer(n, param: "n", in: GatewayRequest.nRange)
            guard count == 1 else {
                throw APIError.invalidValue("n", "n must be 1 here: the route answers one converted image per input image")
            }
        }
        if try RouteSupport.flag(fields.take("stream"), param: "stream") {
            throw APIError(.badRequest, message: "stream=true is not supported: the route answers every image in one response",
                           param: "stream", code: "unsupported_value")
        }
        var binary = false
        switch fields.take("response_format") {
        case nil, "b64_json": break
        case "binary":
            guard imageCount == 1 else {
                throw APIError.invalidValue("response_format", "response_format=binary answers one image; \(imageCount) were sent (use b64_json)")
            }
            binary = true
        case "url":
            throw APIError.invalidValue("response_format", "response_format=url is not served: the server keeps no images (use b64_json, or binary for one image)")
        case let other?:
            throw APIError.invalidValue("response_format", "invalid response_format '\(ValueParser.printable(other, maxLength: 40))': accepted values are b64_json, binary")
        }
        let sizeText = fields.take("size")
        try fields.checkNoneLeft(accepted: convertFields + ["image", "image[]"])
        var stage = GatewayConversion(request: try RouteSupport.gatewayRequest(gatewayFields), strictOpenAI: strict, maxPixels: maxPixels)
        do { try stage.request.validate(strictOpenAI: strict) } catch { throw APIError.from(error, door: .openAI) }
        if let failOn { stage.failOn = failOn }
        if let frames { stage.frames = frames }
        if let keep { stage.keep = keep }
        if let sizeText, sizeText.lowercased() != "auto" {
            guard let size = PixelSize(parsing: sizeText), size.width >= 1, size.height >= 1,
                  let geometry = try? ResizeGeometry(parsing: "\(size.width)x\(size.height)") else {
                throw APIError.invalidValue("size", "Invalid value: '\(ValueParser.printable(sizeText, maxLength: 40))'. Supported values are WxH"
                                            + " (the image is fitted within it, keeping its aspect) and auto (its own size).")
            }
            stage.resize = geometry
        }
        return ConvertRequest(stage: stage, binary: binary, sizeText: sizeText)
    }

    static func convert(_ request: Request, _ server: DarkroomHTTPServer.Server) async -> Response {
        await RouteSupport.answer(door: .openAI) {
            let start = RouteSupport.Start()
            let (images, _, fieldsIn) = try await form(request, server, route: "/v1/images/convert", start: start, acceptsMask: false)
            var fields = fieldsIn
            var parsed = try convertRequest(&fields, imageCount: images.count, maxPixels: server.configuration.maxPixels)
            parsed.stage.maxJPEGScans = server.configuration.maxJPEGScans
            parsed.stage.deadline = start.deadline(server.configuration.requestTimeout)
            let asked = parsed
            let limits = RouteSupport.OutputLimits(server.configuration)
            return try await RouteSupport.onPool(server, start: start, door: .openAI) {
                try convertAll(images, asked, limits: limits, server: server)
            }
        }
    }

    /// On a worker: every header checked against the output limits first, then each image
    /// converted; the first error fails the request, naming its image.
    static func convertAll(_ images: [Upload], _ asked: ConvertRequest, limits: RouteSupport.OutputLimits,
                           server: DarkroomHTTPServer.Server) throws -> Response {
        let sizeParam = asked.sizeText == nil ? nil : "size"
        var inputs: [PixelSize] = []
        for image in images {
            inputs.append(try limits.check(image.bytes, resize: asked.stage.resize, format: asked.stage.request.effectiveFormat,
                                           door: .openAI, imageParam: image.param,
                                           sizeParam: sizeParam).input)
        }
        var converted: [GatewayImage] = []
        for image in images {
            do { converted.append(try asked.stage.convert(image.bytes)) } catch {
                throw APIError.from(error, door: .openAI, imageParam: image.param, sizeParam: sizeParam)
            }
            server.metrics.recordPixelsDecoded(route: "/v1/images/convert", converted.last!.inputPixels)
        }
        let format = asked.stage.request.effectiveFormat
        let quality = RouteSupport.qualityUsed(format, asked.stage.request.effectiveQuality)
        if asked.binary, let image = converted.first {
            return RouteSupport.imageResponse(image.bytes, format: image.format, quality: image.lossless ? nil : quality,
                                              warnings: image.warnings, framesDropped: image.framesDropped,
                                              metadataWarnings: image.metadataWarnings, headers: [
                "Darkroom-Width": "\(image.width)", "Darkroom-Height": "\(image.height)",
                "Darkroom-Billed-MP": "\(image.billedMegapixels)",
                "Darkroom-Frames": "\(image.frameCount)", "Darkroom-Source-Frames": "\(image.sourceFrameCount)",
            ])
        }
        var response: [String: JSONValue] = [
            "created": .int(Int(Date().timeIntervalSince1970)),
            "data": .array(converted.map { .object(["b64_json": .string(Data($0.bytes).base64EncodedString())]) }),
            "output_format": .string(format.rawValue),
        ]
        let sizes = Set(converted.map { "\($0.width)x\($0.height)" })
        if sizes.count == 1 { response["size"] = .string(sizes.first!) }
        if let background = asked.stage.request.background, background != .auto { response["background"] = .string(background.rawValue) }
        response["darkroom"] = .object([
            "output_format": .string(format.rawValue),
            "quality": quality.map(JSONValue.int) ?? .null,
            "billed_mp": .int(converted.reduce(0) { $0 + $1.billedMegapixels }),
            "images": .array(zip(converted, inputs).map { image, input in
                .object([
                    "width": .int(image.width), "height": .int(image.height),
                    "input_width": .int(input.width), "input_height": .int(input.height),
                    "bytes": .int(image.bytes.count), "billed_mp": .int(image.billedMegapixels),
                    "format": .string(image.format.rawValue),
                    "quality": image.lossless ? .null : quality.map(JSONValue.int) ?? .null,
                    "frames": .int(image.frameCount), "source_frames": .int(image.sourceFrameCount),
                    "warnings": .array(RouteSupport.warningsJSON(image)),
                ])
            }),
        ])
        return RouteSupport.jsonResponse(.ok, .object(response), headers: [
            "Darkroom-Format": format.rawValue, "Darkroom-Quality": RouteSupport.qualityHeader(quality),
        ])
    }

    // MARK: /v1/images/references

    /// What the references route's fields ask.
    struct ReferencesRequest: Sendable {
        var options: ReferencePrepOptions
        var allOrNothing: Bool
    }

    static func referencesRequest(_ fields: inout RouteSupport.Fields, maxPixels: Int) throws(APIError) -> ReferencesRequest {
        var options = ReferencePrepOptions(maxReferences: maxImages, maxInputPixels: maxPixels)
        if let mp = fields.take("max_mp") {
            do { options.maxPixels = try ValueParser.megapixels(mp, name: "max_mp") } catch { throw APIError.from(error, door: .openAI, param: "max_mp") }
        }
        if let f = fields.take("format") {
            do { options.format = try ReferenceFormat(parsing: f) } catch { throw APIError.from(error, door: .openAI, param: "format") }
        }
        if let failOn = try RouteSupport.failOn(fields.take("fail_on")) { options.failOn = failOn }
        let allOrNothing = try RouteSupport.flag(fields.take("all_or_nothing"), param: "all_or_nothing")
        switch fields.take("response_format") {
        case nil, "b64_json": break
        case let other?:
            throw APIError.invalidValue("response_format", "invalid response_format '\(ValueParser.printable(other, maxLength: 40))': this route answers b64_json")
        }
        try fields.checkNoneLeft(accepted: referenceFields + ["image", "image[]", "mask"])
        return ReferencesRequest(options: options, allOrNothing: allOrNothing)
    }

    static func references(_ request: Request, _ server: DarkroomHTTPServer.Server) async -> Response {
        await RouteSupport.answer(door: .openAI) {
            let start = RouteSupport.Start()
            let (images, mask, fieldsIn) = try await form(request, server, route: "/v1/images/references", start: start, acceptsMask: true)
            var fields = fieldsIn
            var parsed = try referencesRequest(&fields, maxPixels: server.configuration.maxPixels)
            parsed.options.maxJPEGScans = server.configuration.maxJPEGScans
            parsed.options.deadline = start.deadline(server.configuration.requestTimeout)
            let asked = parsed
            let limits = RouteSupport.OutputLimits(server.configuration)
            return try await RouteSupport.onPool(server, start: start, door: .openAI) {
                try prepareAll(images, mask: mask, asked, limits: limits, server: server)
            }
        }
    }

    /// The quality a prepared reference was encoded at: nil when its bytes are the input's
    /// (passed through) or the format is lossless.
    static func referenceQuality(_ ref: PreparedReference, _ options: ReferencePrepOptions) -> Int? {
        guard !ref.passedThrough else { return nil }
        switch ref.format {
        case .jpeg: return options.jpegQuality
        case .webp: return options.webpQuality
        default: return nil
        }
    }

    /// On a worker: each image prepared on its own (its error kept in its place), then the mask
    /// resized as the first image was.
    static func prepareAll(_ images: [Upload], mask: Upload?, _ asked: ReferencesRequest, limits: RouteSupport.OutputLimits,
                           server: DarkroomHTTPServer.Server) throws -> Response {
        let area = try? ResizeGeometry(maxPixels: asked.options.maxPixels)
        var results: [Result<PreparedReference, APIError>] = []
        for image in images {
            let result = Result { () throws(APIError) -> PreparedReference in
                try limits.check(image.bytes, resize: area, format: nil, door: .openAI, imageParam: image.param, sizeParam: "max_mp")
                do { return try ReferencePrep.prepare(bytes: image.bytes, name: image.param, options: asked.options) } catch {
                    throw APIError.from(error, door: .openAI, imageParam: image.param, sizeParam: "max_mp")
                }
            }
            // A time limit ends the request (the pool answers 504 by then): the images left would stop at once.
            if case let .failure(error) = result, asked.allOrNothing || error.status == .gatewayTimeout { throw error }
            if case let .success(ref) = result {
                server.metrics.recordPixelsDecoded(route: "/v1/images/references", ref.inputWidth * ref.inputHeight)
            }
            results.append(result)
        }
        guard results.contains(where: { if case .success = $0 { true } else { false } }) else {
            if case let .failure(error) = results[0] { throw error }
            throw APIError.internalError("no image was prepared")
        }
        var preparedMask: (bytes: [UInt8], width: Int, height: Int, input: PixelSize)?
        if let mask {
            // OpenAI applies the mask to the first image and requires the same size: it follows image[0].
            guard case let .success(first) = results[0] else {
                if case let .failure(error) = results[0] { throw error }
                throw APIError.internalError("no first image")
            }
            preparedMask = try resizeMask(mask.bytes, like: first, asked: asked, firstParam: images[0].param)
        }
        let created = Int(Date().timeIntervalSince1970)
        var data: [JSONValue] = []
        var details: [JSONValue] = []
        var billed = 0
        for result in results {
            switch result {
            case let .success(ref):
                billed += ref.billedMegapixels
                data.append(["b64_json": .string(Data(ref.bytes).base64EncodedString())])
                let quality = referenceQuality(ref, asked.options)
                details.append([
                    "format": .string(ref.format.rawValue), "source_format": .string(ref.sourceFormat.rawValue),
                    "width": .int(ref.width), "height": .int(ref.height),
                    "input_width": .int(ref.inputWidth), "input_height": .int(ref.inputHeight),
                    "resized": .bool(ref.resized), "passed_through": .bool(ref.passedThrough),
                    "billed_mp": .int(ref.billedMegapixels), "bytes": .int(ref.bytes.count),
                    "quality": quality.map(JSONValue.int) ?? .null, "warnings": .array(ref.warnings.map(\.json) + ref.metadataWarnings.map(\.json)),
                ])
            case let .failure(error):
                data.append(error.json)
                details.append(error.json)
            }
        }
        var response: [String: JSONValue] = ["created": .int(created), "data": .array(data)]
        var darkroom: [String: JSONValue] = [
            "images": .array(details), "billed_mp": .int(billed),
            "failed": .int(results.filter { if case .failure = $0 { true } else { false } }.count),
            "max_pixels": .int(asked.options.maxPixels),
        ]
        if let preparedMask {
            response["mask"] = ["b64_json": .string(Data(preparedMask.bytes).base64EncodedString())]
            darkroom["mask"] = [
                "format": "png", "width": .int(preparedMask.width), "height": .int(preparedMask.height),
                "input_width": .int(preparedMask.input.width), "input_height": .int(preparedMask.input.height),
                "resized": .bool(preparedMask.input != PixelSize(width: preparedMask.width, height: preparedMask.height)),
                "bytes": .int(preparedMask.bytes.count),
            ]
        }
        response["darkroom"] = .object(darkroom)
        return RouteSupport.jsonResponse(.ok, .object(response))
    }

    /// The mask: a PNG of exactly the first image's (upright) input size, resized to exactly the
    /// size the first image was prepared at, as a PNG without metadata. 400 `param: mask` for a
    /// mask that is not a PNG (`invalid_image_format`), of another size (`mask_size_mismatch`) or
    /// not decodable.
    static func resizeMask(_ bytes: [UInt8], like first: PreparedReference, asked: ReferencesRequest,
                           firstParam: String) throws(APIError) -> (bytes: [UInt8], width: Int, height: Int, input: PixelSize) {
        guard ImageFormat.sniff(bytes) == .png else {
            throw APIError(.badRequest, message: "the mask must be a PNG (with an alpha channel, as OpenAI takes it)",
                           param: "mask", code: "invalid_image_format")
        }
        let header: ImageHeader
        do { header = try ImageDecoder.readHeader(bytes) } catch { throw APIError.from(error, door: .openAI, imageParam: "mask") }
        let input = PixelSize(width: header.uprightWidth, height: header.uprightHeight)
        let firstInput = PixelSize(width: first.inputWidth, height: first.inputHeight)
        guard input == firstInput else {
            throw APIError(.badRequest,
                           message: "the mask is \(input) but \(firstParam) is \(firstInput): OpenAI applies the mask to the first image"
                               + " and requires both to have the same size",
                           param: "mask", code: "mask_size_mismatch")
        }
        do {
            var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "\(first.width)x\(first.height)!"))
            options.decode.maxPixels = asked.options.maxInputPixels
            options.decode.failOn = asked.options.failOn
            options.decode.maxJPEGScans = asked.options.maxJPEGScans
            options.deadline = asked.options.deadline
            options.encode.keep = .none
            let result = try Converter(options: options).convert(bytes)
            return (result.bytes, result.width, result.height, input)
        } catch {
            throw APIError.from(error, door: .openAI, imageParam: "mask")
        }
    }
}
