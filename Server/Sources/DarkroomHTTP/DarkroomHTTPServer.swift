import Darkroom
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Prometheus

/// An HTTP sidecar exposing the conversion stage to gateways that are not written in Swift.
///
/// | route | body | query | answer |
/// |---|---|---|---|
/// | `GET /healthz` | – | – | `ok` (liveness; never touches the worker pool) |
/// | `GET /readyz` | – | – | `ready`, or 503 when the pool is full or draining |
/// | `GET /metrics` | – | – | Prometheus text format (see ``ServerMetrics``) |
/// | `POST /v1/convert` | image bytes (PNG, JPEG, WebP, AVIF, GIF) | the gateway's fields: `output_format`, `output_compression`, `background`; plus `resize` (geometry), `strict` (`true`/`1`: OpenAI parity errors; `false`/`0`; anything else is a 400), `fail_on` (`none`, `truncated`, `warning`) | the converted image; `Darkroom-Width`, `-Height`, `-Format`, `-Billed-MP` headers, and `Darkroom-Warnings` / `-Warning` for an input the decoder warned about |
/// | `POST /v1/references` | one reference image | `max_mp` (default 4, above 0 up to 65536), `format` (`keep`, `png`, `jpeg`, `webp`), `fail_on` | the prepared image; `Darkroom-Resized`, `-Passed-Through`, size and billing headers |
/// | `POST /v1/size` | JSON request fields (`size`, `aspect_ratio`, `resolution`) | `profile`, `multiple` | `{"width","height"}` |
///
/// Errors come back as OpenAI-style JSON, `{"error":{"message","type","code"}}`, with 400 for a bad
/// request, 413 for a body or image over the limits, 422 for bytes that are not a usable image.
///
/// Conversions and reference preparation run on a ``WorkerPool`` (dedicated threads, never the event
/// loops). A request is admitted before its body is read; beyond `workers + queueSize` admitted
/// requests, or while draining, the answer is 503 with `Retry-After` at once. A request not started
/// within `requestTimeout` seconds gets 503 `queue_timeout`; one still running then gets 504 `timeout`.
public enum DarkroomHTTPServer {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Largest request body accepted.
        public var maxBodyBytes: Int
        /// Decoder pixel limit.
        public var maxPixels: Int
        /// Worker threads running conversions (default: the number of active cores).
        public var workers: Int
        /// Conversions that may wait for a worker; beyond `workers + queueSize` admitted requests the
        /// answer is 503 (default: 2 × workers).
        public var queueSize: Int
        /// Seconds from admission (body reading included) within which a conversion must finish.
        public var requestTimeout: Double
        /// Seconds sent in `Retry-After` with a 503.
        public var retryAfter: Int
        /// Where `/metrics` series live. Each configuration gets its own registry by default, so
        /// several servers in one process (tests) never share or clash; nothing bootstraps the global
        /// `MetricsSystem`.
        public var metricsRegistry: PrometheusCollectorRegistry
        /// Test hook: called on the worker thread just before each conversion; may block to hold a worker.
        public var beforeWork: (@Sendable () -> Void)?

        /// The bounds of each setting: the one owner of these numbers. `darkroom-server` parses its
        /// flags with them and ``init(host:port:maxBodyBytes:maxPixels:workers:queueSize:requestTimeout:retryAfter:metricsRegistry:beforeWork:)``
        /// refuses a value outside them, so no value can make the pool's arithmetic overflow or the
        /// timers misbehave.
        public static let maxBodyBytesRange = 1...Limits.maxByteCount
        public static let workersRange = 1...Limits.maxThreads
        public static let queueSizeRange = 0...10_000
        /// Seconds: above 0 up to a day.
        public static let maxRequestTimeout = 86_400.0
        public static let retryAfterRange = 0...3600

        /// The defaults: port 8080 on loopback, 64 MiB bodies, the decoder's default pixel limit, a
        /// worker per active core (at most ``workersRange``'s top), a queue of 2 × workers, 30 s, 1 s.
        public static var standard: Configuration {
            let workers = defaultWorkers
            return Configuration(checked: "127.0.0.1", port: 8080, maxBodyBytes: 64 << 20, maxPixels: DecodeOptions.defaultMaxPixels,
                                 workers: workers, queueSize: 2 * workers, requestTimeout: 30, retryAfter: 1,
                                 metricsRegistry: PrometheusCollectorRegistry(), beforeWork: nil)
        }

        /// A worker per active core, within ``workersRange``.
        static var defaultWorkers: Int { min(max(1, ProcessInfo.processInfo.activeProcessorCount), workersRange.upperBound) }

        /// Throws ``DarkroomError/option(_:)`` naming the setting and its bounds for a value outside
        /// them (``maxBodyBytesRange``, 1…``Limits/maxPixelLimit`` px, ``workersRange``,
        /// ``queueSizeRange``, above 0 up to ``maxRequestTimeout`` seconds, ``retryAfterRange``).
        public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 64 << 20,
                    maxPixels: Int = DecodeOptions.defaultMaxPixels,
                    workers: Int? = nil, queueSize: Int? = nil,
                    requestTimeout: Double = 30, retryAfter: Int = 1,
                    metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                    beforeWork: (@Sendable () -> Void)? = nil) throws(DarkroomError) {
            let workers = workers ?? Self.defaultWorkers
            try ValueParser.check(maxBodyBytes, name: "max-body-bytes", in: Self.maxBodyBytesRange)
            try ValueParser.check(maxPixels, name: "max-pixels", in: 1...Limits.maxPixelLimit)
            try ValueParser.check(workers, name: "workers", in: Self.workersRange)
            let queueSize = queueSize ?? min(2 * workers, Self.queueSizeRange.upperBound)
            try ValueParser.check(queueSize, name: "queue-size", in: Self.queueSizeRange)
            guard requestTimeout.isFinite, requestTimeout > 0, requestTimeout <= Self.maxRequestTimeout else {
                throw .option(OptionError(name: "request-timeout", value: "\(requestTimeout)",
                                          expected: "a number above 0 up to \(Int(Self.maxRequestTimeout)) seconds"))
            }
            try ValueParser.check(retryAfter, name: "retry-after", in: Self.retryAfterRange)
            self.init(checked: host, port: port, maxBodyBytes: maxBodyBytes, maxPixels: maxPixels, workers: workers,
                      queueSize: queueSize, requestTimeout: requestTimeout, retryAfter: retryAfter,
                      metricsRegistry: metricsRegistry, beforeWork: beforeWork)
        }

        private init(checked host: String, port: Int, maxBodyBytes: Int, maxPixels: Int, workers: Int, queueSize: Int,
                     requestTimeout: Double, retryAfter: Int, metricsRegistry: PrometheusCollectorRegistry,
                     beforeWork: (@Sendable () -> Void)?) {
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.maxPixels = maxPixels
            self.workers = workers
            self.queueSize = queueSize
            self.requestTimeout = requestTimeout
            self.retryAfter = retryAfter
            self.metricsRegistry = metricsRegistry
            self.beforeWork = beforeWork
        }
    }

    /// The routes, for embedding in another Hummingbird application or for tests. Each call makes a
    /// new ``Server`` (worker pool and metrics); use ``Server/router()`` to keep hold of them.
    public static func router(_ configuration: Configuration = .standard) -> Router<BasicRequestContext> {
        Server(configuration).router()
    }

    /// The routes of `server`, sharing its pool and metrics.
    static func router(_ server: Server) -> Router<BasicRequestContext> {
        let configuration = server.configuration
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(metrics: server.metrics))
        router.add(middleware: HTTPErrorBodyMiddleware())
        router.get("healthz") { _, _ in "ok" }
        router.get("readyz") { _, _ in readiness(server) }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: server.metrics.exposition())))
        }
        router.post("v1/convert") { request, _ in
            try await offloaded("/v1/convert", request, server) { bytes in
                let query = try queryFields(request, allowed: GatewayRequest.knownFields.union(["strict", "resize", "fail_on"]))
                var stage = GatewayConversion(request: try GatewayRequest(form: query.filter { GatewayRequest.knownFields.contains($0.key) }),
                                              strictOpenAI: try strictFlag(query["strict"]), maxPixels: configuration.maxPixels)
                if let resize = query["resize"] { stage.resize = try ResizeGeometry(parsing: resize) }
                if let failOn = query["fail_on"] { stage.failOn = try FailOn(parsing: failOn, name: "fail_on") }
                let image = try stage.convert(bytes)
                server.metrics.recordPixelsDecoded(route: "/v1/convert", image.inputPixels)
                return imageResponse(image.bytes, format: image.format, warnings: image.warnings, headers: [
                    "Darkroom-Width": "\(image.width)", "Darkroom-Height": "\(image.height)",
                    "Darkroom-Billed-MP": "\(image.billedMegapixels)",
                ])
            }
        }
        router.post("v1/references") { request, _ in
            try await offloaded("/v1/references", request, server) { bytes in
                let query = try queryFields(request, allowed: ["max_mp", "fail_on", "format", "name"])
                // The server's pixel limit bounds a reference's input as it bounds /v1/convert's.
                var options = ReferencePrepOptions(maxInputPixels: configuration.maxPixels)
                if let mp = query["max_mp"] { options.maxPixels = try ValueParser.megapixels(mp, name: "max_mp") }
                if let failOn = query["fail_on"] { options.failOn = try FailOn(parsing: failOn, name: "fail_on") }
                if let f = query["format"] { options.format = try ReferenceFormat(parsing: f) }
                let ref = try ReferencePrep.prepare(bytes: bytes, name: query["name"] ?? "reference", options: options)
                server.metrics.recordPixelsDecoded(route: "/v1/references", ref.inputWidth * ref.inputHeight)
                return imageResponse(ref.bytes, format: ref.format, warnings: ref.warnings, headers: [
                    "Darkroom-Width": "\(ref.width)", "Darkroom-Height": "\(ref.height)",
                    "Darkroom-Input-Width": "\(ref.inputWidth)", "Darkroom-Input-Height": "\(ref.inputHeight)",
                    "Darkroom-Resized": "\(ref.resized)", "Darkroom-Passed-Through": "\(ref.passedThrough)",
                    "Darkroom-Billed-MP": "\(ref.billedMegapixels)",
                ])
            }
        }
        router.post("v1/size") { request, _ in
            try await respond {
                let body = try await Self.body(of: request, limit: 1 << 20, timeout: server.configuration.requestTimeout)
                let query = try queryFields(request, allowed: ["profile", "multiple"])
                let gatewayRequest = try GatewayRequest(json: Data(body))
                let profile = try ProviderProfile.named(query["profile"] ?? "flux2")
                let multiple = try query["multiple"].map { try ValueParser.integer($0, name: "multiple", in: ProviderProfile.multipleRange) }
                let size = profile.resolve(gatewayRequest, multiple: multiple)
                return jsonResponse(.ok, ["width": size.width, "height": size.height])
            }
        }
        return router
    }

    /// The application, ready for `runService()` (which does not drain the pool; ``run(_:)`` does).
    public static func application(_ configuration: Configuration = .standard) -> some ApplicationProtocol {
        Server(configuration).application()
    }

    /// Serves until SIGTERM or SIGINT, then drains: see ``Server/run(gracefulShutdownSignals:)``.
    public static func run(_ configuration: Configuration = .standard) async throws {
        try await Server(configuration).run()
    }

    // MARK: Plumbing

    /// Admits the request to the worker pool before reading its body (503 at once when the pool is
    /// full or draining), reads the body, runs `work` on a worker thread within the request timeout
    /// and maps errors like ``respond(_:)``.
    private static func offloaded(_ route: String, _ request: Request, _ server: Server,
                                  _ work: @escaping @Sendable ([UInt8]) throws -> Response) async throws -> Response {
        try await respond {
            // A declared length over the limit is refused at once, before it can hold a pool slot
            // while the client sends (or never sends) the body.
            let limit = server.configuration.maxBodyBytes
            if let declared = request.headers[.contentLength], declaredLengthIsRefused(declared, limit: limit) {
                return errorResponse(.contentTooLarge,
                                     message: "request body of \(declared) bytes is over the limit of \(limit) bytes"
                                        + " (the server's limit, set by darkroom-server --max-body-bytes)",
                                     code: "body_too_large")
            }
            do {
                let ticket = try server.pool.admit()
                let bytes: [UInt8]
                do {
                    bytes = try await body(of: request, limit: server.configuration.maxBodyBytes,
                                           timeout: server.configuration.requestTimeout)
                } catch {
                    server.pool.release(ticket)
                    if error is BodyTimeout || error is NIOTooManyBytesError || (error as? HTTPError)?.status == .contentTooLarge {
                        throw error
                    }
                    // The connection ended before the declared body did: the client left. Not a
                    // server error (it was counted as a 500): 499, as nginx names it, and a cancelled rejection.
                    server.metrics.recordRejection(.cancelled)
                    throw ClientClosedBody()
                }
                server.metrics.recordBytesIn(route: route, bytes.count)
                return try await server.pool.run(ticket, timeout: server.configuration.requestTimeout) { try work(bytes) }
            } catch let error as WorkerPoolError {
                server.metrics.recordRejection(error)
                return poolErrorResponse(error, retryAfter: server.configuration.retryAfter)
            }
        }
    }

    /// `/readyz`: 200 `ready` while the pool admits work, else the 503 a conversion would get.
    private static func readiness(_ server: Server) -> Response {
        let state = server.pool.snapshot
        if state.draining { return poolErrorResponse(.draining, retryAfter: server.configuration.retryAfter) }
        if state.admitted >= server.pool.capacity {
            return poolErrorResponse(.saturated(capacity: server.pool.capacity), retryAfter: server.configuration.retryAfter)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "ready")))
    }

    /// 503 with `Retry-After` for refusals and queue timeouts, 504 for a conversion that ran too long.
    private static func poolErrorResponse(_ error: WorkerPoolError, retryAfter: Int) -> Response {
        let (status, code): (HTTPResponse.Status, String) = switch error {
        case .saturated: (.serviceUnavailable, "server_overloaded")
        case .draining: (.serviceUnavailable, "shutting_down")
        case .queueTimeout: (.serviceUnavailable, "queue_timeout")
        case .runTimeout: (.gatewayTimeout, "timeout")
        case .cancelled: (.serviceUnavailable, "cancelled")
        }
        var response = errorResponse(status, message: error.description, code: code, type: "server_error")
        if status == .serviceUnavailable { response.headers[.retryAfter] = "\(retryAfter)" }
        return response
    }

    /// The client closed the connection before its whole body arrived.
    struct ClientClosedBody: Error {}

    /// The body arrived too slowly (a slow or stalled upload would otherwise hold a pool slot,
    /// and a drain, for as long as the client likes).
    struct BodyTimeout: Error { var seconds: Double }

    /// Reads the whole body, at most `limit` bytes, within `timeout` seconds.
    private static func body(of request: Request, limit: Int, timeout: Double) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask { Array(try await request.body.collect(upTo: limit).readableBytesView) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(min(timeout, 86_400) * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let bytes = first else { throw BodyTimeout(seconds: timeout) }
            return bytes
        }
    }

    /// A `Content-Length` that is not a byte count from 0 to `limit` (read by the one bounded
    /// parser, ``ValueParser/integer(_:name:in:)``): the request is answered 413 before its body is read.
    static func declaredLengthIsRefused(_ declared: String, limit: Int) -> Bool {
        (try? ValueParser.integer(declared, name: "Content-Length", in: 0...limit)) == nil
    }

    /// The `strict` query field: absent, `false` or `0` is off; `true` or `1` is on; anything else is
    /// a 400 (a misspelt value must not silently turn OpenAI parity off).
    private static func strictFlag(_ value: String?) throws -> Bool {
        switch value {
        case nil, "false", "0": return false
        case "true", "1": return true
        case let other?: throw DarkroomError.option(OptionError(name: "strict", value: other, expected: "true or false (or 1 or 0)"))
        }
    }

    /// The query fields of `request`, names percent-decoded as values are (`output%5Fformat` is
    /// `output_format`). A field the route does not know is a 400 naming the fields it accepts (as
    /// OpenAI answers an unrecognized argument), so a typo such as `output_fromat` never silently
    /// gives the default; a field given twice is a 400 too (which one would win is a guess).
    private static func queryFields(_ request: Request, allowed: Set<String>) throws(DarkroomError) -> [String: String] {
        var fields: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            let name = String(key).removingPercentEncoding ?? String(key)
            guard !name.isEmpty else {
                throw .option(OptionError(name: "query", value: "=\(value)", expected: "name=value fields"))
            }
            guard allowed.contains(name) else {
                throw .option(OptionError(name: name, value: String(value),
                                          expected: "a known query field (\(allowed.sorted().joined(separator: ", ")))"))
            }
            guard fields[name] == nil else {
                throw .option(OptionError(name: name, value: String(value), expected: "the field once (it is also \(fields[name]!))"))
            }
            fields[name] = String(value)
        }
        return fields
    }

    /// An image answer: its MIME type, `Darkroom-Format`, the route's headers, and for an input
    /// the decoder warned about (let through by `fail_on`) `Darkroom-Warnings` (how many) and
    /// `Darkroom-Warning` (the first, e.g. `truncated: Premature end of JPEG file`).
    private static func imageResponse(_ bytes: [UInt8], format: ImageFormat, warnings: [DecodeWarning],
                                      headers: [String: String]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = format.mimeType
        fields[HTTPField.Name("Darkroom-Format")!] = format.rawValue
        if let first = warnings.first {
            fields[HTTPField.Name("Darkroom-Warnings")!] = "\(warnings.count)"
            // Header values are visible ASCII: escaped controls, anything else as '?'.
            let text = ValueParser.printable("\(first.kind.rawValue): \(first.message)")
            fields[HTTPField.Name("Darkroom-Warning")!] = String(text.unicodeScalars.map { $0.isASCII ? Character($0) : "?" })
        }
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
            case .option: (.badRequest, "invalid_value")
            case .gateway(.incompatible(let code, _)): (.badRequest, code)
            case .gateway: (.badRequest, "invalid_value")
            case .decoding(.tooManyPixels), .encoding(.tooManyPixels), .file(.inputTooLarge):
                (.contentTooLarge, "image_too_large")
            case .decoding: (.unprocessableContent, "invalid_image")
            case .encoding(.formatLimit): (.badRequest, "image_too_large_for_format")
            case .encoding(.codec), .file: (.internalServerError, nil)
            }
            return errorResponse(status, message: errorMessage(error), code: code)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return errorResponse(.contentTooLarge, message: "request body is over the limit", code: "body_too_large")
        } catch let timeout as BodyTimeout {
            return errorResponse(.requestTimeout, message: "the request body did not arrive within \(timeout.seconds) s",
                                 code: "request_timeout", type: "invalid_request_error")
        } catch is ClientClosedBody {
            // Nobody is left to read it; the status is what the metrics record.
            return errorResponse(HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"),
                                 message: "the client closed the connection before the whole body arrived",
                                 code: "client_closed")
        } catch is NIOTooManyBytesError {
            // What `collect(upTo:)` throws for a body over --max-body-bytes.
            return errorResponse(.contentTooLarge, message: "request body is over the limit", code: "body_too_large")
        }
    }

    private static func errorMessage(_ error: DarkroomError) -> String {
        if case let .gateway(.incompatible(_, message)) = error { return message }
        return error.message(for: .http)
    }

    static func errorResponse(_ status: HTTPResponse.Status, message: String, code: String?,
                                      type: String = "invalid_request_error") -> Response {
        var inner: [String: Any] = ["message": message, "type": type]
        inner["code"] = code ?? NSNull()
        return jsonResponse(status, ["error": inner])
    }
}
