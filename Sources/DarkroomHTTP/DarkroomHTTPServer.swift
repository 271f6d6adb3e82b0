import Darkroom
import Foundation
import HTTPTypes
import Hummingbird

/// An HTTP sidecar exposing the conversion stage to gateways that are not written in Swift.
///
/// | route | body | query | answer |
/// |---|---|---|---|
/// | `GET /healthz` | – | – | `ok` |
/// | `POST /v1/convert` | image bytes (PNG, JPEG, WebP, AVIF, GIF) | the gateway's fields: `output_format`, `output_compression`, `background`; plus `resize` (geometry), `strict` (`true`: OpenAI parity errors) | the converted image; `Darkroom-Width`, `-Height`, `-Format`, `-Billed-MP` headers |
/// | `POST /v1/references` | one reference image | `max_mp` (default 4), `format` (`keep`, `png`, `jpeg`, `webp`) | the prepared image; `Darkroom-Resized`, `-Passed-Through`, size and billing headers |
/// | `POST /v1/size` | JSON request fields (`size`, `aspect_ratio`, `resolution`) | `profile`, `multiple` | `{"width","height"}` |
///
/// Errors come back as OpenAI-style JSON, `{"error":{"message","type","code"}}`, with 400 for a bad
/// request, 413 for a body or image over the limits, 422 for bytes that are not a usable image.
public enum DarkroomHTTPServer {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Largest request body accepted.
        public var maxBodyBytes: Int
        /// Decoder pixel limit.
        public var maxPixels: Int

        public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 64 << 20,
                    maxPixels: Int = DecodeOptions.defaultMaxPixels) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.maxPixels = maxPixels
        }
    }

    /// The routes, for embedding in another Hummingbird application or for tests.
    public static func router(_ configuration: Configuration = Configuration()) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("healthz") { _, _ in "ok" }
        router.post("v1/convert") { request, _ in
            try await respond {
                let bytes = try await body(of: request, limit: configuration.maxBodyBytes)
                let query = queryFields(request)
                var stage = GatewayConversion(request: try GatewayRequest(form: query.filter { GatewayRequest.knownFields.contains($0.key) }),
                                              strictOpenAI: query["strict"] == "true", maxPixels: configuration.maxPixels)
                if let resize = query["resize"] { stage.resize = try ResizeGeometry(parsing: resize) }
                let image = try stage.convert(bytes)
                return imageResponse(image.bytes, format: image.format, headers: [
                    "Darkroom-Width": "\(image.width)", "Darkroom-Height": "\(image.height)",
                    "Darkroom-Billed-MP": "\(MegapixelBilling.billedMegapixels(width: image.width, height: image.height))",
                ])
            }
        }
        router.post("v1/references") { request, _ in
            try await respond {
                let bytes = try await body(of: request, limit: configuration.maxBodyBytes)
                let query = queryFields(request)
                var options = ReferencePrepOptions()
                if let mp = query["max_mp"] {
                    guard let value = Double(mp), value > 0 else {
                        throw DarkroomError.invalidOption(name: "max_mp", value: mp, expected: "a positive number of megapixels")
                    }
                    options.maxPixels = Int(value * 1_048_576)
                }
                if let f = query["format"] {
                    guard let format = ReferenceFormat(rawValue: f) else {
                        throw DarkroomError.invalidOption(name: "format", value: f, expected: "keep, png, jpeg or webp")
                    }
                    options.format = format
                }
                let ref = try ReferencePrep.prepare(bytes: bytes, name: query["name"] ?? "reference", options: options)
                return imageResponse(ref.bytes, format: ref.format, headers: [
                    "Darkroom-Width": "\(ref.width)", "Darkroom-Height": "\(ref.height)",
                    "Darkroom-Input-Width": "\(ref.inputWidth)", "Darkroom-Input-Height": "\(ref.inputHeight)",
                    "Darkroom-Resized": "\(ref.resized)", "Darkroom-Passed-Through": "\(ref.passedThrough)",
                    "Darkroom-Billed-MP": "\(ref.billedMegapixels)",
                ])
            }
        }
        router.post("v1/size") { request, _ in
            try await respond {
                let body = try await request.body.collect(upTo: 1 << 20)
                let query = queryFields(request)
                let gatewayRequest = try GatewayRequest(json: Data(buffer: body))
                let profile = try ProviderProfile.named(query["profile"] ?? "flux2")
                let multiple = try query["multiple"].map { text -> Int in
                    guard let m = Int(text), m > 0 else {
                        throw DarkroomError.invalidOption(name: "multiple", value: text, expected: "a positive integer")
                    }
                    return m
                }
                let size = profile.resolve(gatewayRequest, multiple: multiple)
                return jsonResponse(.ok, ["width": size.width, "height": size.height])
            }
        }
        return router
    }

    /// The application, ready for `runService()`.
    public static func application(_ configuration: Configuration = Configuration()) -> some ApplicationProtocol {
        Application(router: router(configuration),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                         serverName: "darkroom"))
    }

    // MARK: Plumbing

    private static func body(of request: Request, limit: Int) async throws -> [UInt8] {
        let buffer = try await request.body.collect(upTo: limit)
        return Array(buffer.readableBytesView)
    }

    private static func queryFields(_ request: Request) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { fields[String(key)] = String(value) }
        return fields
    }

    private static func imageResponse(_ bytes: [UInt8], format: ImageFormat, headers: [String: String]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = format.mimeType
        for (name, value) in headers { if let n = HTTPField.Name(name) { fields[n] = value } }
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func jsonResponse(_ status: HTTPResponse.Status, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Runs a handler, turning Darkroom's typed errors into OpenAI-style error responses.
    private static func respond(_ work: () async throws -> Response) async throws -> Response {
        do {
            return try await work()
        } catch let error as DarkroomError {
            let (status, code): (HTTPResponse.Status, String?) = switch error {
            case let .openAIParity(code, _): (.badRequest, code)
            case .invalidOption: (.badRequest, "invalid_value")
            case .tooManyPixels: (.contentTooLarge, "image_too_large")
            case .unknownFormat, .unsupportedFormat, .decodeFailed, .invalidDimensions: (.unprocessableContent, "invalid_image")
            case .encodeFailed, .io, .outputExists, .outputNotRegularFile: (.internalServerError, nil)
            case .inputTooLarge: (.contentTooLarge, "image_too_large")
            }
            return errorResponse(status, message: errorMessage(error), code: code)
        } catch let error as GatewayError {
            if case let .incompatible(code, message) = error { return errorResponse(.badRequest, message: message, code: code) }
            return errorResponse(.badRequest, message: error.description, code: "invalid_value")
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return errorResponse(.contentTooLarge, message: "request body is over the limit", code: "body_too_large")
        }
    }

    private static func errorMessage(_ error: DarkroomError) -> String {
        if case let .openAIParity(_, message) = error { return message }
        return error.description
    }

    private static func errorResponse(_ status: HTTPResponse.Status, message: String, code: String?) -> Response {
        var inner: [String: Any] = ["message": message, "type": "invalid_request_error"]
        inner["code"] = code ?? NSNull()
        return jsonResponse(status, ["error": inner])
    }
}
