#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One `data[]` entry of an images response: `b64_json` or `url`, and maybe `revised_prompt`.
/// Parsed leniently: a malformed entry keeps its ``problem`` so the other entries still work.
public struct ResponseItem: Sendable, Equatable {
    public var b64JSON: String?
    public var url: String?
    public var revisedPrompt: String?
    /// Why the entry cannot be used (not an object, wrong types, neither `b64_json` nor `url`).
    public var problem: String?
    /// Fields of the entry this type does not interpret (and fields of the wrong type), re-emitted as they were.
    public var extra: [String: JSONValue]
    /// The entry itself when it is not a JSON object (re-emitted as it was).
    public var nonObject: JSONValue?
    /// The `b64_json` bytes, already decoded: set by ``ImagesResponseReader`` in its
    /// ``ImagesResponseReader/Base64Mode/decode`` mode, which leaves ``b64JSON`` nil (and records
    /// invalid base64 in ``problem``). ``content(index:)`` takes them before ``b64JSON``;
    /// ``ImagesResponse/json`` writes them back as base64.
    public var decodedBytes: [UInt8]?
    /// How many bytes the `b64_json` string decoded to when they went to the reader's
    /// ``ImagesResponseReader/imageSink`` instead of ``decodedBytes`` (``b64JSON`` and
    /// ``decodedBytes`` are then nil); nil otherwise. When the text is not valid base64,
    /// ``problem`` says so and the sink got only part of it.
    public var streamedByteCount: Int?

    public init(b64JSON: String? = nil, url: String? = nil, revisedPrompt: String? = nil) {
        self.b64JSON = b64JSON
        self.url = url
        self.revisedPrompt = revisedPrompt
        extra = [:]
    }

    /// Reads one entry; never throws (problems are recorded in ``problem``).
    public init(json: JSONValue) {
        self.init()
        guard case let .object(o) = json else {
            problem = "expected an object, found \(json.typeName)"
            nonObject = json
            return
        }
        for (key, value) in o { read(key, value) }
        finishReading()
    }

    /// One field of an entry object (the streaming reader calls it in document order).
    mutating func read(_ key: String, _ value: JSONValue) {
        switch (key, value) {
        case (_, .null): return
        case let ("b64_json", .string(s)): b64JSON = s
        case ("b64_json", _): problem = "b64_json is \(value.typeName), expected a string"; extra[key] = value
        case let ("url", .string(s)): url = s
        case ("url", _): problem = "url is \(value.typeName), expected a string"; extra[key] = value
        case let ("revised_prompt", .string(s)): revisedPrompt = s
        default: extra[key] = value
        }
    }

    /// After the last field: an entry with neither image nor link has a ``problem``.
    mutating func finishReading() {
        if problem == nil, b64JSON == nil, decodedBytes == nil, streamedByteCount == nil, url == nil { problem = "neither b64_json nor url" }
    }

    /// What the entry delivers: image bytes (``decodedBytes``, or ``b64JSON`` base64-decoded;
    /// format sniffed) or a URL.
    /// Throws ``DarkroomError/gateway(_:)`` (``GatewayError/badItem(index:reason:)``) (with `index`) for a malformed entry,
    /// invalid base64 or bytes that are not an image, and for an entry whose bytes went to an
    /// ``ImagesResponseReader/imageSink`` (``streamedByteCount``): its sink has them.
    public func content(index: Int) throws(DarkroomError) -> ResponseItemContent {
        if let problem { throw DarkroomError.gateway(.badItem(index: index, reason: problem)) }
        if streamedByteCount != nil, decodedBytes == nil, b64JSON == nil {
            throw DarkroomError.gateway(.badItem(index: index, reason: "b64_json was decoded into the reader's image sink"))
        }
        if decodedBytes != nil || b64JSON != nil {
            let bytes: [UInt8]
            if let decodedBytes { bytes = decodedBytes } else { bytes = try Self.decodeBase64(b64JSON ?? "", index: index) }
            guard let format = ImageFormat.sniff(bytes) else {
                throw DarkroomError.gateway(.badItem(index: index, reason: "b64_json does not hold a PNG, JPEG, WebP, AVIF or GIF image"))
            }
            return .image(bytes: bytes, format: format)
        }
        return .url(url ?? "")
    }

    /// Strict base64 (standard or URL-safe alphabet, padding optional); whitespace and a
    /// `data:image/...;base64,` prefix are tolerated. One pass over the UTF-8 bytes (a 2048²
    /// PNG is ~17 MB of text), then Foundation's decoder.
    static func decodeBase64(_ text: String, index: Int) throws(DarkroomError) -> [UInt8] {
        func invalid(_ detail: String = "") -> DarkroomError {
            .gateway(.badItem(index: index, reason: "b64_json is not valid base64" + detail))
        }
        var utf8 = Substring(text).utf8[...]
        if utf8.starts(with: "data:".utf8), let comma = utf8.firstIndex(of: UInt8(ascii: ",")) {
            utf8 = utf8[utf8.index(after: comma)...]
        }
        var cleaned = [UInt8]()
        cleaned.reserveCapacity(utf8.count + 3)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="):
                cleaned.append(byte)
            case UInt8(ascii: "-"): cleaned.append(UInt8(ascii: "+"))   // URL-safe alphabet
            case UInt8(ascii: "_"): cleaned.append(UInt8(ascii: "/"))
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C: continue
            default: throw invalid()
            }
        }
        if cleaned.isEmpty { throw DarkroomError.gateway(.badItem(index: index, reason: "b64_json is empty")) }
        let rem = cleaned.count % 4
        if rem == 1 { throw invalid(" (bad length)") }
        if rem > 0 { cleaned += [UInt8](repeating: UInt8(ascii: "="), count: 4 - rem) }
        guard let data = Data(base64Encoded: Data(cleaned)) else { throw invalid() }
        return [UInt8](data)
    }
}
