import Darkroom
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answer in OpenAI's envelope, `{"error":{"message","type","param","code"}}`, all four
/// keys always present (`param` and `code` may be `null`), as the official SDKs read it: the
/// status picks the SDK's exception class (400 `BadRequestError`, 404 `NotFoundError`, 413 a plain
/// `APIStatusError`, 422 `UnprocessableEntityError`, 5xx `InternalServerError`), and `e.code`,
/// `e.param`, `e.type` come from the body.
///
/// Every route answers its errors with one of these, the router's own (404, 405) and the HTTP
/// parser's (a bad or doubled `Content-Length`, an unknown method) included.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// One line saying what was wrong and with what.
    public var message: String
    /// OpenAI's error type: `invalid_request_error` (the client can fix it),
    /// `image_generation_user_error` (OpenAI's type for its image parameter refusals) or
    /// `server_error` (overload, shutdown, time limits, a fault of the server's).
    public var type: String
    /// The request field at fault (`output_format`, `image[2]`, `mask`), or nil.
    public var param: String?
    /// A machine-readable code (`invalid_value`, `unknown_parameter`, `image_too_large`, …), or nil.
    public var code: String?
    /// Extra response headers: `Retry-After` with a 503, `Allow` with a 405.
    public var headers: [String: String]

    /// `invalid_request_error`: the client can fix it.
    public static let invalidRequest = "invalid_request_error"
    /// `image_generation_user_error`: OpenAI's type for its image parameter refusals.
    public static let imageGenerationUserError = "image_generation_user_error"
    /// `server_error`: overload, shutdown, time limits, a fault of the server's.
    public static let serverError = "server_error"

    /// An error answer; `headers` are added to the response (`Retry-After`, `Allow`).
    public init(_ status: HTTPResponse.Status, message: String, type: String = APIError.invalidRequest,
                param: String? = nil, code: String?, headers: [String: String] = [:]) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers
    }

    /// `status code [param] message`, for logs and test failures.
    public var description: String { "\(status.code) \(code ?? "-") \(param.map { "[\($0)] " } ?? "")\(message)" }

    /// The envelope as a JSON object (for the per-image errors of the multi-image routes).
    public var json: JSONValue {
        ["error": ["message": .string(message), "type": .string(type),
                   "param": param.map(JSONValue.string) ?? .null, "code": code.map(JSONValue.string) ?? .null]]
    }

    /// The answer: this status, `Content-Type: application/json`, the extra headers and the envelope.
    public var response: Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers { if let n = HTTPField.Name(name) { fields[n] = value } }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json.jsonData())))
    }

    // MARK: The common errors

    /// 400 `invalid_value` for a field whose value is refused.
    static func invalidValue(_ param: String, _ message: String) -> APIError {
        APIError(.badRequest, message: message, param: param, code: "invalid_value")
    }

    /// 400 `unknown_parameter`, as OpenAI answers a field it does not know.
    static func unknownParameter(_ name: String, accepted: [String]) -> APIError {
        APIError(.badRequest, message: "Unknown parameter: '\(ValueParser.printable(name, maxLength: 64))'. Accepted: \(accepted.joined(separator: ", ")).",
                 param: name, code: "unknown_parameter")
    }

    /// 400 `missing_required_parameter`.
    static func missing(_ param: String, _ message: String) -> APIError {
        APIError(.badRequest, message: message, param: param, code: "missing_required_parameter")
    }

    /// 400 `invalid_type`: a file where text was expected, or text that is not the expected kind of value.
    static func invalidType(_ param: String, _ message: String) -> APIError {
        APIError(.badRequest, message: message, param: param, code: "invalid_type")
    }

    /// 413 `body_too_large`.
    static func bodyTooLarge(_ message: String) -> APIError {
        APIError(.contentTooLarge, message: message, code: "body_too_large")
    }

    /// 500 `internal_error`: a fault of the server's, never a client mistake.
    static func internalError(_ message: String) -> APIError {
        APIError(.internalServerError, message: message, type: serverError, code: "internal_error")
    }

    // MARK: Library errors

    /// Which door an error is answered at: the OpenAI-shaped routes answer a bad image 400 (as
    /// OpenAI does); the raw-body routes keep 422.
    public enum Door: Sendable {
        /// `/v1/images/convert` and `/v1/images/references`: a bad image is 400.
        case openAI
        /// `/v1/convert` and `/v1/references`: a bad image is 422.
        case raw
    }

    /// The answer for a library error. `param` is the field the value came from (the library names
    /// its options as the CLI does; the route knows the field); nil takes the one the error names.
    ///
    /// | error | status | type | code | param |
    /// |---|---|---|---|---|
    /// | `.option` | 400 | `invalid_request_error` | `invalid_value` | the field |
    /// | `.gateway(.invalidValue/.outOfRange/.wrongType)` | 400 | `invalid_request_error` | `invalid_value`, `integer_above_max_value`, `integer_below_min_value`, `invalid_type` | the field |
    /// | `.gateway(.incompatible)` PNG compression | 400 | `image_generation_user_error` | `invalid_png_output_compression` | null |
    /// | `.gateway(.incompatible)` transparent JPEG | 400 | `invalid_request_error` | `invalid_jpeg_transparent_background` | `background` |
    /// | `.decoding(.unknownFormat/.unsupportedFormat)` | 400 (raw: 422) | `invalid_request_error` | `invalid_image_format` | the image |
    /// | `.decoding` (damaged, codec, bad size) | 400 (raw: 422) | `invalid_request_error` | `invalid_image` | the image |
    /// | `.decoding(.tooManyPixels)`, `.file(.inputTooLarge)` | 413 | `invalid_request_error` | `image_too_large` | the image |
    /// | `.encoding(.tooManyPixels)` | 413 | `invalid_request_error` | `image_too_large` | the size field |
    /// | `.encoding(.formatLimit)` | 400 | `invalid_request_error` | `image_too_large_for_format` | the size field |
    /// | `.encoding(.codec)`, `.file` | 500 | `server_error` | `internal_error` | null |
    /// | `.timeLimit` | 504 | `server_error` | `timeout` | null |
    public static func from(_ error: DarkroomError, door: Door, param: String? = nil, imageParam: String? = nil,
                            sizeParam: String? = nil) -> APIError {
        let message = error.message(for: .http)
        let imageStatus: HTTPResponse.Status = door == .openAI ? .badRequest : .unprocessableContent
        switch error {
        case let .option(option):
            return APIError(.badRequest, message: message, param: param ?? option.name, code: "invalid_value")
        case let .gateway(gateway):
            switch gateway {
            case let .invalidValue(field, _, _):
                return APIError(.badRequest, message: message, param: param ?? field, code: "invalid_value")
            case let .outOfRange(field, value, range):
                let above = Int(value).map { $0 > range.upperBound } ?? false
                return APIError(.badRequest, message: message, param: param ?? field,
                                code: above ? "integer_above_max_value" : "integer_below_min_value")
            case let .wrongType(field, _, _):
                return APIError(.badRequest, message: message, param: param ?? field, code: "invalid_type")
            case let .incompatible(code, text):
                if code == "invalid_png_output_compression" {
                    return APIError(.badRequest, message: text, type: imageGenerationUserError, param: nil, code: code)
                }
                return APIError(.badRequest, message: text, param: code == "invalid_jpeg_transparent_background" ? "background" : param,
                                code: code)
            case let .tooManyReferences(count, limit):
                return APIError(.badRequest, message: message, param: param ?? "image",
                                code: count > limit ? "array_above_max_length" : "invalid_value")
            case .malformedResponse, .badItem:
                return APIError(.badRequest, message: message, param: param, code: "invalid_value")
            }
        case let .decoding(decoding):
            switch decoding {
            case .tooManyPixels:
                return APIError(.contentTooLarge, message: message, param: imageParam, code: "image_too_large")
            case .unknownFormat, .unsupportedFormat:
                return APIError(imageStatus, message: message, param: imageParam, code: "invalid_image_format")
            case .invalidDimensions, .codec, .damaged, .unsupportedColour:
                return APIError(imageStatus, message: message, param: imageParam, code: "invalid_image")
            case .tooManyScans:
                return APIError(imageStatus, message: message, param: imageParam, code: "image_too_complex")
            }
        case let .encoding(encoding):
            switch encoding {
            case .tooManyPixels:
                return APIError(.contentTooLarge, message: message, param: sizeParam, code: "image_too_large")
            case .formatLimit:
                return APIError(.badRequest, message: message, param: sizeParam, code: "image_too_large_for_format")
            case .codec:
                return internalError(message)
            }
        case .file(.inputTooLarge):
            return APIError(.contentTooLarge, message: message, param: imageParam, code: "image_too_large")
        case .file:
            return internalError(message)
        case .timeLimit:
            // The conversion was stopped at the request's deadline: the pool's own 504.
            return APIError(.gatewayTimeout, message: message, type: serverError, code: "timeout")
        }
    }

    /// ``from(_:door:param:imageParam:sizeParam:)-(DarkroomError,_,_,_,_)`` for a ``DarkroomError``,
    /// the error itself for an ``APIError``, else a 500.
    static func from(_ error: any Error, door: Door, param: String? = nil, imageParam: String? = nil,
                     sizeParam: String? = nil) -> APIError {
        if let error = error as? APIError { return error }
        if let error = error as? DarkroomError {
            return from(error, door: door, param: param, imageParam: imageParam, sizeParam: sizeParam)
        }
        return internalError("\(error)")
    }

    /// The answer for a worker-pool refusal: 503 with `Retry-After` (overload, shutdown, a queue
    /// timeout), 504 for a conversion that ran past the time limit.
    static func from(_ error: WorkerPoolError, retryAfter: Int) -> APIError {
        let (status, code): (HTTPResponse.Status, String) = switch error {
        case .saturated: (.serviceUnavailable, "server_overloaded")
        case .draining: (.serviceUnavailable, "shutting_down")
        case .queueTimeout: (.serviceUnavailable, "queue_timeout")
        case .runTimeout: (.gatewayTimeout, "timeout")
        case .cancelled: (.serviceUnavailable, "cancelled")
        }
        return APIError(status, message: error.description, type: serverError, code: code,
                        headers: status == .serviceUnavailable ? ["Retry-After": "\(retryAfter)"] : [:])
    }
}
