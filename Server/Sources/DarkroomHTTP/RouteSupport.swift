import Darkroom
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What every conversion route shares: reading the body under its bounds, the worker pool, the
/// request's fields, strict values, the output limits and the answers.
enum RouteSupport {
    // MARK: The conversion flow

    /// When a request arrived, on both clocks the limits use.
    struct Start: Sendable {
        var dispatch = DispatchTime.now()
        var clock = ContinuousClock.now

        /// The moment `timeout` seconds after the arrival, as the library's ``Deadline``: a
        /// conversion's ``ConvertOptions/deadline``, so a worker past the pool's 504 stops its
        /// codecs and comes back (AVIF's encoder excepted: ``OutputLimits`` bounds it).
        func deadline(_ timeout: Double) -> Deadline {
            Deadline(clock + .milliseconds(Int64(timeout * 1000)))
        }
    }

    /// Reads a conversion route's body: a declared `Content-Length` over `--max-body-bytes` is a
    /// 413 at once, a draining server a 503, full upload slots a 503 (all before the body is read,
    /// so `100 Continue` is never sent for them); then the body, whole, within the request's time
    /// limit and the minimum rate.
    /// `error` for a request refused before its body is read: the channel ends such a connection
    /// after the answer (a lingering close), so when the request declares a body the answer says
    /// `Connection: close` — a keep-alive client then reconnects for its retry instead of writing
    /// into a closed connection (measured: 80 `RemoteDisconnected` for 101 503s at concurrency 32).
    static func closing(_ error: APIError, _ request: Request) -> APIError {
        let declaresBody = request.headers[.contentLength].map { $0 != "0" } ?? (request.headers[.transferEncoding] != nil)
        guard declaresBody else { return error }
        var closing = error
        closing.headers["Connection"] = "close"
        return closing
    }

    static func body(of request: Request, server: DarkroomHTTPServer.Server, route: String, start: Start) async throws(APIError) -> [UInt8] {
        let configuration = server.configuration
        let limit = configuration.maxBodyBytes
        if let declared = request.headers[.contentLength], declaredLengthIsRefused(declared, limit: limit) {
            throw closing(APIError.bodyTooLarge("request body of \(ValueParser.printable(declared, maxLength: 40)) bytes is over the limit of \(limit) bytes"
                                                + " (the server's limit, set by darkroom-server --max-body-bytes)"), request)
        }
        if server.pool.snapshot.draining {
            server.metrics.recordRejection(.draining)
            throw closing(APIError.from(.draining, retryAfter: configuration.retryAfter), request)
        }
        guard server.uploads.enter() else {
            server.metrics.recordRejection(reason: "uploads_saturated")
            throw closing(APIError(.serviceUnavailable,
                                   message: "the server is reading \(server.uploads.limit) request bodies already; retry later",
                                   type: APIError.serverError, code: "server_overloaded",
                                   headers: ["Retry-After": "\(configuration.retryAfter)"]), request)
        }
        defer { server.uploads.leave() }
        do {
            let bytes = try await BodyReader.read(request.body, limit: limit,
                                                  deadline: start.clock + .milliseconds(Int64(configuration.requestTimeout * 1000)),
                                                  timeout: configuration.requestTimeout, minimumRate: configuration.minBodyRate)
            server.metrics.recordBytesIn(route: route, bytes.count)
            return bytes
        } catch {
            throw answer(for: error, server: server)
        }
    }

    /// The answer for a body that could not be read (counted in the rejections where it is one).
    static func answer(for error: BodyReadError, server: DarkroomHTTPServer.Server) -> APIError {
        switch error {
        case let .tooLarge(limit):
            return APIError.bodyTooLarge("request body is over the limit of \(limit) bytes")
        case let .timeout(seconds):
            server.metrics.recordRejection(reason: "body_timeout")
            return APIError(.requestTimeout, message: "the request body did not arrive within \(ValueParser.printable(String(seconds))) s",
                            code: "request_timeout")
        case let .tooSlow(rate, received):
            server.metrics.recordRejection(reason: "slow_body")
            return APIError(.requestTimeout,
                            message: "the request body arrived slower than \(rate) bytes/s (\(received) bytes so far;"
                                + " the server's minimum, set by darkroom-server --min-body-rate)",
                            code: "request_timeout")
        case .clientClosed:
            // Not a server error: 499, as nginx names it, and a cancelled rejection.
            server.metrics.recordRejection(.cancelled)
            return APIError(HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"),
                            message: "the client closed the connection before the whole body arrived", code: "client_closed")
        case let .malformed(reason):
            return APIError(.badRequest, message: "malformed HTTP request: \(reason)", code: "malformed_request")
        }
    }

    /// A `Content-Length` that is not a byte count from 0 to `limit` (read by the one bounded
    /// parser, ``ValueParser/integer(_:name:in:)``): the request is answered 413 before its body is read.
    static func declaredLengthIsRefused(_ declared: String, limit: Int) -> Bool {
        (try? ValueParser.integer(declared, name: "Content-Length", in: 0...limit)) == nil
    }

    /// Takes a worker-pool slot (the body is in) and runs `work` on a worker within what is left
    /// of the request's time limit. Pool refusals become 503/504; a ``DarkroomError`` thrown by
    /// `work` is answered for `door` without a field (work should throw ``APIError`` naming it).
    /// `work`'s conversions carry the request's deadline (``Start/deadline(_:)``): one stopped
    /// there is the same 504 as the pool's, counted as the pool's `run_timeout`.
    static func onPool<T: Sendable>(_ server: DarkroomHTTPServer.Server, start: Start, door: APIError.Door,
                                    _ work: @escaping @Sendable () throws -> T) async throws(APIError) -> T {
        do {
            let ticket = try server.pool.admit(since: start.dispatch)
            return try await server.pool.run(ticket, timeout: server.configuration.requestTimeout, work)
        } catch let error as WorkerPoolError {
            server.metrics.recordRejection(error)
            throw APIError.from(error, retryAfter: server.configuration.retryAfter)
        } catch let error as APIError {
            // The library stopped the conversion at the deadline before the pool's timer answered.
            if error.status == .gatewayTimeout { server.metrics.recordRejection(.runTimeout(seconds: server.configuration.requestTimeout)) }
            throw error
        } catch let error as DarkroomError {
            if case .timeLimit = error { server.metrics.recordRejection(.runTimeout(seconds: server.configuration.requestTimeout)) }
            throw APIError.from(error, door: door)
        } catch {
            throw APIError.internalError("\(error)")
        }
    }

    /// Runs a handler and answers an ``APIError`` (or a stray ``DarkroomError``) with its envelope.
    static func answer(door: APIError.Door, _ work: () async throws -> Response) async -> Response {
        do {
            return try await work()
        } catch let error as APIError {
            return error.response
        } catch let error as DarkroomError {
            return APIError.from(error, door: door).response
        } catch {
            return APIError.internalError("\(error)").response
        }
    }

    // MARK: Fields

    /// A request's text fields (query or multipart), taken by name; what is left is unknown.
    struct Fields {
        private(set) var values: [String: String]

        init(_ values: [String: String]) { self.values = values }

        /// The value of `name`, removed from those left.
        mutating func take(_ name: String) -> String? { values.removeValue(forKey: name) }

        /// 400 `unknown_parameter` for the first field (by name) nobody took.
        func checkNoneLeft(accepted: [String]) throws(APIError) {
            if let name = values.keys.sorted().first { throw APIError.unknownParameter(name, accepted: accepted) }
        }
    }

    /// The query fields of `request`, names percent-decoded as values are (`output%5Fformat` is
    /// `output_format`). A field given twice is a 400 (which one would win is a guess), as is a
    /// field without a name.
    static func queryFields(_ request: Request) throws(APIError) -> Fields {
        var fields: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key).removingPercentEncoding ?? String(key)
            guard !name.isEmpty else {
                throw APIError.invalidValue("query", "a query field without a name ('=\(ValueParser.printable(String(value), maxLength: 40))'): expected name=value fields")
            }
            guard fields[name] == nil else {
                throw APIError.invalidValue(name, "the field '\(ValueParser.printable(name, maxLength: 64))' is given twice")
            }
            fields[name] = String(value)
        }
        return Fields(fields)
    }

    /// An integer field, strictly: ASCII digits with an optional `-` and nothing else (no `+`, no
    /// spaces, no `80.0`), so what passes is what a JSON number or OpenAI would take.
    /// 400 `invalid_type` for other text, `integer_above_max_value`/`integer_below_min_value` outside `range`.
    static func integer(_ text: String, param: String, in range: ClosedRange<Int>) throws(APIError) -> Int {
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw APIError.invalidType(param, "Invalid type for '\(param)': expected an integer from \(range.lowerBound) to \(range.upperBound),"
                                       + " but got '\(ValueParser.printable(text, maxLength: 40))' instead.")
        }
        let value = Int(text) ?? (text.hasPrefix("-") ? Int.min : Int.max)
        if value > range.upperBound {
            throw APIError(.badRequest, message: "Invalid '\(param)': integer above maximum value. Expected a value <= \(range.upperBound), but got \(ValueParser.printable(text, maxLength: 40)) instead.",
                           param: param, code: "integer_above_max_value")
        }
        if value < range.lowerBound {
            throw APIError(.badRequest, message: "Invalid '\(param)': integer below minimum value. Expected a value >= \(range.lowerBound), but got \(ValueParser.printable(text, maxLength: 40)) instead.",
                           param: param, code: "integer_below_min_value")
        }
        return value
    }

    /// A boolean field: `true`/`1` or `false`/`0`; anything else is a 400 (a misspelt value must
    /// not silently mean off). Absent: `false`.
    static func flag(_ value: String?, param: String) throws(APIError) -> Bool {
        switch value {
        case nil, "false", "0": return false
        case "true", "1": return true
        case let other?:
            throw APIError.invalidValue(param, "invalid \(param) '\(ValueParser.printable(other, maxLength: 40))': expected true or false (or 1 or 0)")
        }
    }

    /// `frames`: all, first, N or A-B (``FrameSelection``); absent: every frame when the output
    /// can animate, the first otherwise.
    static func frames(_ value: String?) throws(APIError) -> FrameSelection? {
        guard let value else { return nil }
        do { return try FrameSelection(parsing: value, name: "frames") } catch { throw APIError.from(error, door: .openAI, param: "frames") }
    }

    /// `keep`: none, all, or a comma list of provenance, icc, exif, xmp, iptc (``MetadataKeep``;
    /// absent: the library's default, the provenance label only).
    static func keep(_ value: String?) throws(APIError) -> MetadataKeep? {
        guard let value else { return nil }
        do { return try MetadataKeep(parsing: value, name: "keep") } catch { throw APIError.from(error, door: .openAI, param: "keep") }
    }

    /// `fail_on`: none, truncated or warning.
    static func failOn(_ value: String?) throws(APIError) -> FailOn? {
        guard let value else { return nil }
        do { return try FailOn(parsing: value, name: "fail_on") } catch { throw APIError.from(error, door: .openAI, param: "fail_on") }
    }

    /// Parses the gateway's own fields (`output_format`, `output_compression`, `background`, …)
    /// with the library's ``GatewayRequest``, numbers checked strictly first.
    static func gatewayRequest(_ fields: [String: String]) throws(APIError) -> GatewayRequest {
        for name in ["output_compression", "n"] {
            if let text = fields[name] {
                let range = name == "n" ? GatewayRequest.nRange : GatewayRequest.compressionRange
                _ = try integer(text, param: name, in: range)
            }
        }
        do { return try GatewayRequest(form: fields) } catch { throw APIError.from(error, door: .openAI) }
    }

    // MARK: Output limits

    /// The server's bounds on what one image may become, checked from the header and the asked
    /// size before anything is decoded: at most `maxPixels` pixels (`maxAVIFPixels` for AVIF, whose
    /// encoder cannot be stopped), each side at most `maxUpscale` × the input's.
    struct OutputLimits: Sendable {
        var maxPixels: Int
        var maxUpscale: Double
        var maxAVIFPixels: Int
        /// The input limit (`--max-pixels`), checked first: an input over it is 413 `image_too_large`.
        var maxInputPixels: Int

        init(_ configuration: DarkroomHTTPServer.Configuration) {
            maxPixels = configuration.maxOutputPixels
            maxUpscale = configuration.maxUpscale
            maxAVIFPixels = configuration.maxAVIFPixels
            maxInputPixels = configuration.maxPixels
        }

        /// Reads the header of `bytes` (a 400 or 413 for `imageParam` when it is not a usable
        /// image) and refuses an output over the limits: 400 `output_too_large` or
        /// `upscale_too_large`, `param` the field that asked for the size (for an AVIF output at
        /// the input's size, `output_format`). `format`: the output format (nil for reference
        /// preparation, which never writes AVIF).
        /// Returns the upright input size and the planned output size.
        @discardableResult
        func check(_ bytes: [UInt8], resize: ResizeGeometry?, format: ImageFormat?, door: APIError.Door, imageParam: String?,
                   sizeParam: String?) throws(APIError) -> (input: PixelSize, output: PixelSize) {
            let header: ImageHeader
            do { header = try ImageDecoder.readHeader(bytes) } catch {
                // A codec's own size limit (libavif's 16384² px): refused as over the server's limit when that is lower.
                if case let .decoding(.tooManyPixels(width, height, limit)) = error {
                    throw APIError.from(.decoding(.tooManyPixels(width: width, height: height, limit: min(limit, maxInputPixels))),
                                        door: door, imageParam: imageParam, sizeParam: sizeParam)
                }
                throw APIError.from(error, door: door, imageParam: imageParam, sizeParam: sizeParam)
            }
            // The input limit first: an input over --max-pixels is that, not an output too large.
            let (pixels, overflow) = header.width.multipliedReportingOverflow(by: header.height)
            if overflow || pixels > maxInputPixels {
                throw APIError.from(.decoding(.tooManyPixels(width: header.width, height: header.height, limit: maxInputPixels)),
                                    door: door, imageParam: imageParam, sizeParam: sizeParam)
            }
            let input = PixelSize(width: max(1, header.uprightWidth), height: max(1, header.uprightHeight))
            let size: (width: Int, height: Int) = resize?.targetSize(width: input.width, height: input.height) ?? (width: input.width, height: input.height)
            let output = PixelSize(width: size.width, height: size.height)
            let factor = max(Double(output.width) / Double(input.width), Double(output.height) / Double(input.height))
            if factor > maxUpscale {
                throw APIError(.badRequest,
                               message: "the output \(output) enlarges the \(input) input \(Self.text(factor)) times per side;"
                                   + " the server enlarges at most \(Self.text(maxUpscale)) times (set by darkroom-server --max-upscale)",
                               param: sizeParam, code: "upscale_too_large")
            }
            // Sides are at most 2^30 each (ResizeGeometry clamps), so the product fits.
            if output.width.multipliedReportingOverflow(by: output.height).partialValue > maxPixels {
                throw APIError(.badRequest,
                               message: "the output \(output) = \(output.width * output.height) px is over the server's output limit of \(maxPixels) px"
                                   + " (set by darkroom-server --max-output-pixels)",
                               param: sizeParam, code: "output_too_large")
            }
            if format == .avif, output.width * output.height > maxAVIFPixels {
                throw APIError(.badRequest,
                               message: "the output \(output) = \(output.width * output.height) px is over the server's AVIF limit of \(maxAVIFPixels) px"
                                   + " (set by darkroom-server --max-avif-pixels: the AVIF encoder cannot be stopped once started);"
                                   + " ask a smaller size or another output_format",
                               param: sizeParam ?? "output_format", code: "output_too_large")
            }
            return (input, output)
        }

        /// `4`, `2000`, `4.0005`, `81.25`: up to four decimals, trailing zeros dropped.
        static func text(_ value: Double) -> String {
            if value == value.rounded() && value < 1e15 { return String(Int(value)) }
            var text = String(format: "%.4f", value)
            while text.hasSuffix("0") { text.removeLast() }
            return text
        }
    }

    // MARK: Answers

    /// The quality the encoder used for `format` at `quality`: nil for the lossless formats
    /// (PNG, GIF), where `output_compression` has no effect.
    static func qualityUsed(_ format: ImageFormat, _ quality: Int) -> Int? {
        format == .png || format == .gif ? nil : quality
    }

    /// `Darkroom-Quality`'s value: the number, or `lossless`.
    static func qualityHeader(_ quality: Int?) -> String { quality.map(String.init) ?? "lossless" }

    /// The JSON of a warning the answer carries: the decoder's (``DecodeWarning``),
    /// `{"kind":"animation","message":…,"count":1}` for frames dropped, then the metadata not
    /// carried over (``MetadataWarning``: `{"kind":"metadata","block":…,"reason":…,"message":…,"count":1}`).
    static func warningsJSON(_ image: GatewayImage) -> [JSONValue] {
        var list = image.warnings.map(\.json)
        if let dropped = image.framesDropped {
            list.append(.object(["kind": .string("animation"), "message": .string(dropped.description), "count": .int(1)]))
        }
        return list + image.metadataWarnings.map(\.json)
    }

    /// An image answer: its MIME type, `Darkroom-Format`, `Darkroom-Quality`, the route's headers,
    /// and for an input the decoder warned about (let through by `fail_on`) `Darkroom-Warnings`
    /// (how many) and `Darkroom-Warning` (the first, e.g. `truncated: Premature end of JPEG file`).
    /// `framesDropped`: an animation answered as its first frame, after the decoder's warnings
    /// (`animation: animated (12 frames): only the first frame was converted (…)`);
    /// `metadataWarnings`: the metadata not carried over, last (`metadata: C2PA manifest (JPEG
    /// APP11, 18204 bytes) dropped: …`).
    /// `passedThrough`: the input's own bytes (a reference needing no change): `Darkroom-Quality: original`.
    static func imageResponse(_ bytes: [UInt8], format: ImageFormat, quality: Int?, passedThrough: Bool = false, warnings: [DecodeWarning],
                              framesDropped: ConversionResult.FramesDropped? = nil, metadataWarnings: [MetadataWarning] = [],
                              headers: [String: String]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = format.mimeType
        fields[HTTPField.Name("Darkroom-Format")!] = format.rawValue
        fields[HTTPField.Name("Darkroom-Quality")!] = passedThrough ? "original" : qualityHeader(quality)
        let texts = warnings.map { "\($0.kind.rawValue): \($0.message)" } + (framesDropped.map { ["animation: \($0)"] } ?? [])
            + metadataWarnings.map(\.description)
        if let first = texts.first {
            fields[HTTPField.Name("Darkroom-Warnings")!] = "\(texts.count)"
            // Header values are visible ASCII: escaped controls, anything else as '?'.
            let text = ValueParser.printable(first)
            fields[HTTPField.Name("Darkroom-Warning")!] = String(text.unicodeScalars.map { $0.isASCII ? Character($0) : "?" })
        }
        for (name, value) in headers { if let n = HTTPField.Name(name) { fields[n] = value } }
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON answer (keys sorted) with the given extra headers.
    static func jsonResponse(_ status: HTTPResponse.Status, _ value: JSONValue, headers: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in headers { if let n = HTTPField.Name(name) { fields[n] = value } }
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.jsonData())))
    }
}
