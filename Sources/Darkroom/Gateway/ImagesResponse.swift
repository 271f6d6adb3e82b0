#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An OpenAI / gateway images response:
/// `{"created", "data":[{"b64_json"|"url", "revised_prompt"}], "output_format", "size", "usage", …}`.
///
/// Parse one with ``init(parsing:)`` (tolerant: missing fields are nil, malformed entries are kept
/// with their ``ResponseItem/problem``), or build one with ``init(images:created:revisedPrompts:usage:)``
/// and serialise it with ``jsonData()``.
public struct ImagesResponse: Sendable, Equatable {
    /// Unix time (seconds).
    public var created: Int?
    public var data: [ResponseItem]
    public var outputFormat: String?
    public var size: String?
    public var usage: JSONValue?
    /// Top-level fields not interpreted (`background`, `quality`, …), re-emitted by ``jsonData()``.
    public var extra: [String: JSONValue]

    public init(created: Int?, data: [ResponseItem], outputFormat: String? = nil, size: String? = nil,
                usage: JSONValue? = nil, extra: [String: JSONValue] = [:]) {
        self.created = created
        self.data = data
        self.outputFormat = outputFormat
        self.size = size
        self.usage = usage
        self.extra = extra
    }

    /// Parses a response body. Throws ``DarkroomError/gateway(_:)`` (``GatewayError/malformedResponse(_:)``) when it is not
    /// JSON, not an object, or has no `data` array.
    ///
    /// A streamed response (server-sent events, `stream: true`) is accepted too: every
    /// `image_generation.completed` / `image_edit.completed` event becomes one `data[]` entry
    /// (partial images are skipped), with `created_at`, `size`, `output_format` and `usage`
    /// taken from the first completed event.
    ///
    /// Built on ``ImagesResponseReader`` (``ImagesResponseReader/Base64Mode/keepText``): the
    /// entries keep their `b64_json` text. To decode a large response without holding its text,
    /// read it with ``ImagesResponseReader`` (``ImagesResponseReader/Base64Mode/decode``).
    public init(parsing body: Data) throws(DarkroomError) {
        try self.init(parsing: body, chunkSize: ImagesResponseReader.defaultChunkSize)
    }

    /// ``init(parsing:)`` reading `chunkSize` bytes at a time (for tests of the chunk edges).
    init(parsing body: Data, chunkSize: Int) throws(DarkroomError) {
        do {
            self = try ImagesResponseReader(data: body, chunkSize: chunkSize, base64: .keepText).readAll()
        } catch ResponseJSONScanner.invalidJSON {
            // A body that starts with `{` but is not JSON may still be an event stream.
            if let streamed = try Self.parseEventStream(body) { self = streamed; return }
            throw ResponseJSONScanner.invalidJSON
        }
    }

    /// The whole-document parser: `JSONDecoder`, then server-sent events. ``ImagesResponseReader``
    /// uses it for a document that does not start with `{`.
    init(wholeBody body: Data) throws(DarkroomError) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: body)
        } catch {
            if let streamed = try Self.parseEventStream(body) { self = streamed; return }
            throw DarkroomError.gateway(.malformedResponse(body.isEmpty ? "empty input" : "invalid JSON"))
        }
        guard case var .object(o) = value else {
            throw DarkroomError.gateway(.malformedResponse("top level is \(value.typeName), expected an object"))
        }
        guard let dataValue = o.removeValue(forKey: "data") else {
            if let error = o["error"]?.objectValue, let message = error["message"]?.stringValue {
                throw DarkroomError.gateway(.malformedResponse("the response is an error: \(message)"))
            }
            throw DarkroomError.gateway(.malformedResponse("no \"data\" array"))
        }
        guard case let .array(items) = dataValue else {
            throw DarkroomError.gateway(.malformedResponse("\"data\" is \(dataValue.typeName), expected an array"))
        }
        created = o.removeValue(forKey: "created").flatMap(Self.createdTime)
        data = items.map(ResponseItem.init(json:))
        outputFormat = o.removeValue(forKey: "output_format")?.stringValue
        size = o.removeValue(forKey: "size")?.stringValue
        usage = o.removeValue(forKey: "usage")
        if usage == .null { usage = nil }
        extra = o
    }

    /// `created` as a Unix time: an integer, a number (nonsense is dropped) or a numeric string.
    static func createdTime(_ value: JSONValue) -> Int? {
        switch value {
        case let .int(i): i
        case let .double(d): d.isFinite && abs(d) < 1e15 ? Int(d) : nil
        case let .string(s): Int(s)
        default: nil
        }
    }

    /// Parses a server-sent event stream (the HTML specification's event-stream format): events
    /// end at a blank line; an event's `data:` lines are joined with a newline (one space after the
    /// colon dropped); `:` lines are comments; `[DONE]` ends nothing. Nil when the body has no
    /// `data:` line.
    ///
    /// Images completed before the stream went wrong are kept: a data payload that is not JSON
    /// (the stream cut inside an event, or damage) or an `error` event after at least one
    /// completed image ends the response with an entry whose ``ResponseItem/problem`` says why,
    /// so a decode writes the images received and fails that entry. Before any completed image,
    /// the same is a ``GatewayError/malformedResponse(_:)``, an `error` event's message included.
    static func parseEventStream(_ body: Data) throws(DarkroomError) -> ImagesResponse? {
        let text = String(decoding: body, as: UTF8.self)
        var events: [[String]] = []   // each event's data lines
        var current: [String] = []
        // "\r\n" is one Character: CRLF, CR and LF all end a line; blank lines end an event.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            if line.isEmpty {
                if !current.isEmpty { events.append(current) }
                current = []
            } else if line.hasPrefix("data:") {
                var value = line.dropFirst(5)
                if value.first == " " { value = value.dropFirst() }
                current.append(String(value))
            }
        }
        if !current.isEmpty { events.append(current) }   // a last event without its blank line
        // Each event's payloads, parsed once (nil: not JSON): the joined data lines; when that is
        // no JSON but every line is (a stream that omits the blank lines between events), each line.
        func isDone(_ line: String) -> Bool { line.trimmingSpaces() == "[DONE]" }
        var payloads: [JSONValue?] = []
        for lines in events where !(lines.count == 1 && (isDone(lines[0]) || lines[0].trimmingSpaces().isEmpty)) {
            let joined = try? JSONValue(parsing: Data(lines.joined(separator: "\n").utf8))
            if joined == nil, lines.count > 1 {
                let each = lines.filter { !isDone($0) && !$0.trimmingSpaces().isEmpty }.map { try? JSONValue(parsing: Data($0.utf8)) }
                if !each.isEmpty && !each.contains(where: { $0 == nil }) { payloads += each; continue }
            }
            payloads.append(joined)
        }
        guard !payloads.isEmpty else { return nil }
        var response = ImagesResponse(created: nil, data: [])
        /// Ends the response with an entry saying why the rest is lost, or throws when no image came first.
        func stop(_ reason: String) throws(DarkroomError) {
            guard !response.data.isEmpty else { throw DarkroomError.gateway(.malformedResponse(reason)) }
            var lost = ResponseItem()
            lost.problem = "the event stream stops after \(response.data.count) completed image\(response.data.count == 1 ? "" : "s"): \(reason)"
            response.data.append(lost)
        }
        for payload in payloads {
            guard case let .object(event)? = payload else {
                try stop("event stream has a data line that is not JSON")
                break
            }
            if event["type"]?.stringValue == "error" || (event["type"] == nil && event["error"] != nil) {
                let message = event["error"]?.objectValue?["message"]?.stringValue ?? event["message"]?.stringValue
                try stop("the event stream reports an error" + (message.map { ": \(printableText($0))" } ?? ""))
                break
            }
            guard let type = event["type"]?.stringValue, type.hasSuffix(".completed") else { continue }
            var item = event
            for key in ["type", "created_at", "size", "output_format", "usage", "background", "quality"] {
                item.removeValue(forKey: key)
            }
            response.data.append(ResponseItem(json: .object(item)))
            if response.data.count == 1 {
                response.created = event["created_at"]?.intValue
                response.size = event["size"]?.stringValue
                response.outputFormat = event["output_format"]?.stringValue
                response.usage = event["usage"]
                for key in ["background", "quality"] { if let v = event[key] { response.extra[key] = v } }
            }
        }
        guard !response.data.isEmpty else {
            throw DarkroomError.gateway(.malformedResponse("event stream has no completed image event"))
        }
        return response
    }

    /// Builds the body a gateway returns for `images` as `b64_json` items: `created`, `data`,
    /// `output_format` and `size` (from the first image), `usage` when given.
    /// `revisedPrompts[i]` (when present and non-nil) becomes `data[i].revised_prompt`.
    public init(images: [GatewayImage], created: Int, revisedPrompts: [String?] = [], usage: JSONValue? = nil) {
        let items = images.enumerated().map { i, image in
            ResponseItem(b64JSON: Data(image.bytes).base64EncodedString(),
                         revisedPrompt: i < revisedPrompts.count ? revisedPrompts[i] : nil)
        }
        self.init(created: created, data: items, outputFormat: images.first?.format.rawValue,
                  size: images.first.map { "\($0.width)x\($0.height)" }, usage: usage)
    }

    /// The response as JSON fields.
    public var json: JSONValue {
        var o = extra
        if let created { o["created"] = .int(created) }
        o["data"] = .array(data.map { item in
            if let raw = item.nonObject { return raw }
            var e = item.extra
            if let b = item.b64JSON {
                e["b64_json"] = .string(b)
            } else if let bytes = item.decodedBytes {
                e["b64_json"] = .string(Data(bytes).base64EncodedString())
            }
            if let u = item.url { e["url"] = .string(u) }
            if let r = item.revisedPrompt { e["revised_prompt"] = .string(r) }
            return .object(e)
        })
        if let outputFormat { o["output_format"] = .string(outputFormat) }
        if let size { o["size"] = .string(size) }
        if let usage { o["usage"] = usage }
        return .object(o)
    }

    /// JSON text (keys sorted, slashes not escaped).
    public func jsonData() -> Data { json.jsonData() }

    /// The content of every entry, in order: bytes, URL or the entry's error
    /// (``DarkroomError/gateway(_:)`` with ``GatewayError/badItem(index:reason:)``).
    public func contents() -> [Result<ResponseItemContent, DarkroomError>] {
        data.indices.map { i -> Result<ResponseItemContent, DarkroomError> in
            Result { () throws(DarkroomError) in try data[i].content(index: i) }
        }
    }
}
