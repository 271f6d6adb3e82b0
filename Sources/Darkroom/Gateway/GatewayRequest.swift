#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a client asks of the gateway, with the gateway's (OpenAI's) field names.
///
/// Parse it from a JSON body (``init(json:strictOpenAI:)``), from `JSONSerialization` objects
/// (``init(jsonObject:strictOpenAI:)``) or from multipart form fields (``init(form:strictOpenAI:)``).
/// Every field is validated; a bad value throws a ``GatewayError`` that names the field and lists
/// the accepted values. Fields the gateway does not interpret are kept in ``extra`` and re-emitted
/// by ``fields()`` so they can be passed through to the provider untouched.
///
/// ```swift
/// let request = try GatewayRequest(json: body)
/// let size = ProviderProfile.flux2.resolve(request)           // e.g. 1360x768 for 16:9 at 1K
/// let options = GatewayConversion(request: request).convertOptions   // for Converter
/// ```
public struct GatewayRequest: Sendable, Equatable {
    /// `output_format`: png, jpeg, gif, webp or avif. `nil` = not given (OpenAI's default is png).
    public var outputFormat: ImageFormat?
    /// `output_compression`: 0–100, 100 = best quality (it is an encoder quality). `nil` = not given (100).
    public var outputCompression: Int?
    /// `response_format`: url or b64_json.
    public var responseFormat: ResponseFormat?
    /// `n`: 1–10 images.
    public var n: Int?
    /// `background`: transparent, opaque or auto.
    public var background: BackgroundMode?
    /// `size`: `WxH`, `W:H` or `auto`. Wins over ``aspectRatio`` and ``resolution``.
    public var size: SizeRequest?
    /// `aspect_ratio` as requested (any `W:H`); mapped to a provider's nearest ratio when resolving.
    public var aspectRatio: AspectRatio?
    /// `resolution`, already mapped to the nearest of ``ResolutionTier/all``.
    public var resolution: ResolutionTier?
    /// Every field this type does not interpret, untouched.
    public var extra: [String: JSONValue]

    /// The formats `output_format` accepts.
    public static let outputFormats: [ImageFormat] = [.png, .jpeg, .gif, .webp, .avif]
    /// The range of `n`.
    public static let nRange = 1...10
    /// The range of `output_compression`.
    public static let compressionRange = Limits.quality
    /// The field names this type interprets.
    public static let knownFields: Set<String> = [
        "output_format", "output_compression", "response_format", "n", "background", "size", "aspect_ratio", "resolution",
    ]

    /// An empty request: every field at its default.
    public init() {
        extra = [:]
    }

    // MARK: Effective values (OpenAI parity defaults)

    /// The output format, png when not given (OpenAI's default).
    public var effectiveFormat: ImageFormat { outputFormat ?? .png }
    /// The encoder quality, 100 when not given (OpenAI's default).
    public var effectiveQuality: Int { outputCompression ?? 100 }
    /// Number of images, 1 when not given.
    public var count: Int { n ?? 1 }
    public var effectiveBackground: BackgroundMode { background ?? .auto }
    public var effectiveResponseFormat: ResponseFormat { responseFormat ?? .url }

    // MARK: Parsing

    /// Parses a JSON request body (an object).
    /// Throws ``DarkroomError/gateway(_:)`` as ``init(fields:strictOpenAI:)``, and for a body that is not a JSON object.
    public init(json: Data, strictOpenAI: Bool = false) throws(DarkroomError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: json)
        } catch {
            throw DarkroomError.gateway(.wrongType(field: "request body", value: "(not valid JSON)", expected: "a JSON object"))
        }
        guard case let .object(fields) = value else {
            throw DarkroomError.gateway(.wrongType(field: "request body", value: value.typeName, expected: "a JSON object"))
        }
        try self.init(fields: fields, strictOpenAI: strictOpenAI)
    }

    /// Parses `JSONSerialization` objects, e.g. `["output_format": "webp", "n": 2]`.
    /// Throws ``DarkroomError/gateway(_:)`` as ``init(fields:strictOpenAI:)``.
    public init(jsonObject: [String: Any], strictOpenAI: Bool = false) throws(DarkroomError) {
        guard case let .object(fields) = try JSONValue(jsonObject: jsonObject) else {
            throw DarkroomError.gateway(.wrongType(field: "request body", value: "not an object", expected: "a JSON object"))
        }
        try self.init(fields: fields, strictOpenAI: strictOpenAI)
    }

    /// Parses multipart form fields (every value is text, as `/v1/images/edits` sends them).
    /// Throws ``DarkroomError/gateway(_:)`` as ``init(fields:strictOpenAI:)``.
    public init(form: [String: String], strictOpenAI: Bool = false) throws(DarkroomError) {
        try self.init(fields: form.mapValues { JSONValue.string($0) }, strictOpenAI: strictOpenAI)
    }

    /// Parses decoded JSON fields. `null` counts as absent. With `strictOpenAI`, also refuses what
    /// OpenAI refuses (PNG/GIF with `output_compression` < 100).
    /// Throws ``DarkroomError/gateway(_:)``: ``GatewayError/invalidValue(field:value:accepted:)``,
    /// ``GatewayError/outOfRange(field:value:range:)``, ``GatewayError/wrongType(field:value:expected:)``
    /// for a field, ``GatewayError/incompatible(code:message:)`` from ``validate(strictOpenAI:)``.
    public init(fields: [String: JSONValue], strictOpenAI: Bool = false) throws(DarkroomError) {
        self.init()
        // Sorted, so that with several bad fields the same one is always reported.
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard Self.knownFields.contains(key) else { extra[key] = value; continue }
            if value == .null { continue }
            switch key {
            case "output_format":
                let text = try Self.string(key, value)
                guard let f = ImageFormat(name: text), Self.outputFormats.contains(f) else {
                    throw DarkroomError.gateway(.invalidValue(field: key, value: text, accepted: Self.outputFormats.map(\.rawValue)))
                }
                outputFormat = f
            case "output_compression":
                outputCompression = try Self.integer(key, value, range: Self.compressionRange)
            case "response_format":
                let text = try Self.string(key, value)
                guard let r = ResponseFormat(rawValue: text.lowercased()) else {
                    throw DarkroomError.gateway(.invalidValue(field: key, value: text, accepted: ResponseFormat.allCases.map(\.rawValue)))
                }
                responseFormat = r
            case "n":
                n = try Self.integer(key, value, range: Self.nRange)
            case "background":
                let text = try Self.string(key, value)
                guard let b = BackgroundMode(rawValue: text.lowercased()) else {
                    throw DarkroomError.gateway(.invalidValue(field: key, value: text, accepted: BackgroundMode.allCases.map(\.rawValue)))
                }
                background = b
            case "size":
                size = try SizeRequest(parsing: try Self.string(key, value))
            case "aspect_ratio":
                let text = try Self.string(key, value)
                guard let r = AspectRatio(parsing: text) else {
                    throw DarkroomError.gateway(.invalidValue(field: key, value: text, accepted: ["W:H with positive integers, e.g. 16:9"]))
                }
                aspectRatio = r
            case "resolution":
                let text: String
                switch value {
                case let .string(s): text = s
                case let .int(i): text = String(i)
                case let .double(d): text = String(d)
                default: throw DarkroomError.gateway(.wrongType(field: key, value: value.description, expected: "a tier name or megapixels"))
                }
                guard let tier = ResolutionTier.parse(text) else {
                    throw DarkroomError.gateway(.invalidValue(field: key, value: text,
                                                    accepted: ResolutionTier.all.map(\.name) + ["megapixels, e.g. 0.25, 1, 4"]))
                }
                resolution = tier
            default:
                break
            }
        }
        try validate(strictOpenAI: strictOpenAI)
    }

    /// Checks combinations of fields. Transparent JPEG is always refused (JPEG has no alpha);
    /// `output_compression` < 100 with PNG or GIF only when `strictOpenAI` (otherwise it is ignored).
    ///
    /// The only place OpenAI's refusals live: ``GatewayConversion``, the HTTP service and the CLI's
    /// `--strict-openai` all call it. Throws ``DarkroomError/gateway(_:)`` with
    /// ``GatewayError/incompatible(code:message:)`` carrying OpenAI's error code.
    public func validate(strictOpenAI: Bool = false) throws(DarkroomError) {
        if background == .transparent, effectiveFormat == .jpeg {
            throw DarkroomError.gateway(.incompatible(
                code: "invalid_jpeg_transparent_background",
                message: "Transparent background is not supported for JPEG output format; use png, webp, avif or gif"))
        }
        if strictOpenAI, let q = outputCompression, q < 100, effectiveFormat == .png || effectiveFormat == .gif {
            throw DarkroomError.gateway(.incompatible(
                code: "invalid_png_output_compression",
                message: "Compression less than 100 is not supported for \(effectiveFormat == .png ? "PNG" : "GIF") output format"))
        }
    }

    // MARK: Re-emitting

    /// The request as JSON fields: interpreted fields in canonical form plus ``extra`` untouched.
    public func fields() -> [String: JSONValue] {
        var out = extra
        if let outputFormat { out["output_format"] = .string(outputFormat.rawValue) }
        if let outputCompression { out["output_compression"] = .int(outputCompression) }
        if let responseFormat { out["response_format"] = .string(responseFormat.rawValue) }
        if let n { out["n"] = .int(n) }
        if let background { out["background"] = .string(background.rawValue) }
        if let size { out["size"] = .string(size.description) }
        if let aspectRatio { out["aspect_ratio"] = .string(aspectRatio.description) }
        if let resolution { out["resolution"] = .string(resolution.name) }
        return out
    }

    /// The request as JSON text (keys sorted).
    public func jsonData() -> Data { JSONValue.object(fields()).jsonData() }

    // MARK: Field readers

    private static func string(_ field: String, _ value: JSONValue) throws(DarkroomError) -> String {
        guard case let .string(s) = value else {
            throw DarkroomError.gateway(.wrongType(field: field, value: value.description, expected: "a string"))
        }
        return s
    }

    /// Accepts a JSON integer, an integral number (`2.0`) or digits in a string (form fields).
    private static func integer(_ field: String, _ value: JSONValue, range: ClosedRange<Int>) throws(DarkroomError) -> Int {
        let parsed: Int?
        switch value {
        case let .int(i): parsed = i
        case let .double(d): parsed = d.rounded() == d && abs(d) < 1e15 ? Int(d) : nil
        case let .string(s): parsed = ValueParser.plainInteger(s)   // the one integer grammar
        default:
            throw DarkroomError.gateway(.wrongType(field: field, value: value.description,
                                         expected: rangeText(range)))
        }
        guard let v = parsed else {
            throw DarkroomError.gateway(.wrongType(field: field, value: value.description,
                                         expected: rangeText(range)))
        }
        guard range.contains(v) else { throw DarkroomError.gateway(.outOfRange(field: field, value: String(v), range: range)) }
        return v
    }
}
