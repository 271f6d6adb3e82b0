import Darkroom
import Foundation
import Hummingbird
import NIOCore

/// The raw-body routes, the cheap path: the image is the whole body (no multipart, no base64),
/// fields are query parameters, and the answer is the image with what was done in `Darkroom-*`
/// headers. Errors are OpenAI's envelope; a body that is not a usable image is 422 here (the
/// OpenAI-shaped routes answer 400).
///
/// | route | query | answer |
/// |---|---|---|
/// | `POST /v1/convert` | `output_format`, `output_compression`, `background`, `response_format`, `n`, `size`, `aspect_ratio`, `resolution` (checked, not used), `resize`, `strict`, `fail_on`, `frames`, `keep` | the converted image (an animation stays one when the format can hold it) |
/// | `POST /v1/references` | `max_mp`, `format`, `name`, `fail_on` | the prepared reference |
/// | `POST /v1/size` | `profile`, `multiple`; a strict JSON body | `{"width","height"}` |
enum RawRoutes {
    static let convertFields = (GatewayRequest.knownFields.union(["strict", "resize", "fail_on", "frames", "keep"])).sorted()
    static let referenceFields = ["fail_on", "format", "max_mp", "name"]
    static let sizeFields = ["multiple", "profile"]
    /// The keys a `/v1/size` body's size is read from. Other keys are kept and ignored (a gateway
    /// sends its client's body as it came, provider fields included), except a near miss of these
    /// (`aspectRatio`, `Size`, `aspect-ratio`: the same letters but for case, `_` and `-`), which is
    /// 400 `unknown_parameter` naming the key meant, not a silent default.
    static let sizeBodyKeys = ["size", "aspect_ratio", "resolution"]

    /// The size key `key` misspells, if it is a near miss of one.
    static func meantSizeKey(_ key: String) -> String? {
        func folded(_ text: String) -> String { String(text.lowercased().filter { $0 != "_" && $0 != "-" }) }
        guard !sizeBodyKeys.contains(key) else { return nil }
        return sizeBodyKeys.first { folded($0) == folded(key) }
    }

    static func add(to router: Router<BasicRequestContext>, server: DarkroomHTTPServer.Server) {
        router.post("v1/convert") { request, _ in await convert(request, server) }
        router.post("v1/references") { request, _ in await reference(request, server) }
        router.post("v1/size") { request, _ in await size(request, server) }
    }

    static func convert(_ request: Request, _ server: DarkroomHTTPServer.Server) async -> Response {
        await RouteSupport.answer(door: .raw) {
            let start = RouteSupport.Start()
            var query = try RouteSupport.queryFields(request)
            var gatewayFields: [String: String] = [:]
            for name in GatewayRequest.knownFields { if let v = query.take(name) { gatewayFields[name] = v } }
            let strict = try RouteSupport.flag(query.take("strict"), param: "strict")
            let resizeText = query.take("resize")
            let failOn = try RouteSupport.failOn(query.take("fail_on"))
            let frames = try RouteSupport.frames(query.take("frames"))
            let keep = try RouteSupport.keep(query.take("keep"))
            try query.checkNoneLeft(accepted: convertFields)
            var stage = GatewayConversion(request: try RouteSupport.gatewayRequest(gatewayFields), strictOpenAI: strict,
                                          maxPixels: server.configuration.maxPixels)
            stage.maxJPEGScans = server.configuration.maxJPEGScans
            do { try stage.request.validate(strictOpenAI: strict) } catch { throw APIError.from(error, door: .raw) }
            if let resizeText {
                do { stage.resize = try ResizeGeometry(parsing: resizeText) } catch { throw APIError.from(error, door: .raw, param: "resize") }
            }
            if let failOn { stage.failOn = failOn }
            if let frames { stage.frames = frames }
            if let keep { stage.keep = keep }
            stage.deadline = start.deadline(server.configuration.requestTimeout)
            let limits = RouteSupport.OutputLimits(server.configuration)
            let bytes = try await RouteSupport.body(of: request, server: server, route: "/v1/convert", start: start)
            let frozen = stage
            return try await RouteSupport.onPool(server, start: start, door: .raw) {
                let sizeParam = frozen.resize == nil ? nil : "resize"
                try limits.check(bytes, resize: frozen.resize, format: frozen.request.effectiveFormat, door: .raw, imageParam: nil,
                                 sizeParam: sizeParam)
                let image: GatewayImage
                do { image = try frozen.convert(bytes) } catch { throw APIError.from(error, door: .raw, sizeParam: sizeParam) }
                server.metrics.recordPixelsDecoded(route: "/v1/convert", image.inputPixels)
                return RouteSupport.imageResponse(
                    image.bytes, format: image.format,
                    quality: image.lossless ? nil : RouteSupport.qualityUsed(image.format, frozen.request.effectiveQuality),
                    warnings: image.warnings, framesDropped: image.framesDropped, metadataWarnings: image.metadataWarnings, headers: [
                        "Darkroom-Width": "\(image.width)", "Darkroom-Height": "\(image.height)",
                        "Darkroom-Billed-MP": "\(image.billedMegapixels)",
                        "Darkroom-Frames": "\(image.frameCount)", "Darkroom-Source-Frames": "\(image.sourceFrameCount)",
                    ])
            }
        }
    }

    static func reference(_ request: Request, _ server: DarkroomHTTPServer.Server) async -> Response {
        await RouteSupport.answer(door: .raw) {
            let start = RouteSupport.Start()
            var query = try RouteSupport.queryFields(request)
            // The server's pixel limit bounds a reference's input as it bounds /v1/convert's.
            var options = ReferencePrepOptions(maxInputPixels: server.configuration.maxPixels)
            options.maxJPEGScans = server.configuration.maxJPEGScans
            if let mp = query.take("max_mp") {
                do { options.maxPixels = try ValueParser.megapixels(mp, name: "max_mp") } catch { throw APIError.from(error, door: .raw, param: "max_mp") }
            }
            if let failOn = try RouteSupport.failOn(query.take("fail_on")) { options.failOn = failOn }
            if let f = query.take("format") {
                do { options.format = try ReferenceFormat(parsing: f) } catch { throw APIError.from(error, door: .raw, param: "format") }
            }
            let name = query.take("name") ?? "reference"
            try query.checkNoneLeft(accepted: referenceFields)
            options.deadline = start.deadline(server.configuration.requestTimeout)
            let limits = RouteSupport.OutputLimits(server.configuration)
            let bytes = try await RouteSupport.body(of: request, server: server, route: "/v1/references", start: start)
            let frozen = options
            return try await RouteSupport.onPool(server, start: start, door: .raw) {
                try limits.check(bytes, resize: try? ResizeGeometry(maxPixels: frozen.maxPixels), format: nil, door: .raw,
                                 imageParam: nil, sizeParam: "max_mp")
                let ref: PreparedReference
                do { ref = try ReferencePrep.prepare(bytes: bytes, name: name, options: frozen) } catch {
                    throw APIError.from(error, door: .raw, sizeParam: "max_mp")
                }
                server.metrics.recordPixelsDecoded(route: "/v1/references", ref.inputWidth * ref.inputHeight)
                return RouteSupport.imageResponse(ref.bytes, format: ref.format, quality: ImagesRoutes.referenceQuality(ref, frozen),
                                                  passedThrough: ref.passedThrough, warnings: ref.warnings, metadataWarnings: ref.metadataWarnings, headers: [
                    "Darkroom-Width": "\(ref.width)", "Darkroom-Height": "\(ref.height)",
                    "Darkroom-Input-Width": "\(ref.inputWidth)", "Darkroom-Input-Height": "\(ref.inputHeight)",
                    "Darkroom-Resized": "\(ref.resized)", "Darkroom-Passed-Through": "\(ref.passedThrough)",
                    "Darkroom-Billed-MP": "\(ref.billedMegapixels)",
                ])
            }
        }
    }

    static func size(_ request: Request, _ server: DarkroomHTTPServer.Server) async -> Response {
        await RouteSupport.answer(door: .raw) {
            var query = try RouteSupport.queryFields(request)
            let profileName = query.take("profile") ?? "flux2"
            let multipleText = query.take("multiple")
            try query.checkNoneLeft(accepted: sizeFields)
            let profile: ProviderProfile
            do { profile = try ProviderProfile.named(profileName) } catch { throw APIError.from(error, door: .raw, param: "profile") }
            let multiple = try multipleText.map { try RouteSupport.integer($0, param: "multiple", in: ProviderProfile.multipleRange) }
            let body: [UInt8]
            do {
                body = try await BodyReader.read(request.body, limit: 1 << 20,
                                                 deadline: .now + .milliseconds(Int64(server.configuration.requestTimeout * 1000)),
                                                 timeout: server.configuration.requestTimeout,
                                                 minimumRate: server.configuration.minBodyRate)
            } catch let error as BodyReadError {
                if case .tooLarge = error { throw APIError.bodyTooLarge("a /v1/size body is at most 1 MiB") }
                throw RouteSupport.answer(for: error, server: server)
            }
            do { try StrictJSON.check(body) } catch let error as StrictJSON.Refusal {
                throw APIError(.badRequest, message: "the body is not strict JSON: \(error.message)",
                               param: error.key, code: error.key == nil ? "invalid_json" : "duplicate_key")
            }
            if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
               let near = object.keys.sorted().first(where: { meantSizeKey($0) != nil }) {
                throw APIError(.badRequest, message: "Unknown parameter: '\(ValueParser.printable(near, maxLength: 64))'; did you mean '\(meantSizeKey(near)!)'? (the size is read from \(sizeBodyKeys.joined(separator: ", ")))",
                               param: near, code: "unknown_parameter")
            }
            let gatewayRequest: GatewayRequest
            do { gatewayRequest = try GatewayRequest(json: Data(body)) } catch { throw APIError.from(error, door: .raw) }
            let size = profile.resolve(gatewayRequest, multiple: multiple)
            return RouteSupport.jsonResponse(.ok, ["width": .int(size.width), "height": .int(size.height)])
        }
    }
}
