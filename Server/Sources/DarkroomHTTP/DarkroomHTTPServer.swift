import Darkroom
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// An HTTP sidecar exposing the conversion stage to gateways that are not written in Swift.
///
/// | route | body | fields | answer |
/// |---|---|---|---|
/// | `POST /v1/images/convert` | multipart: `image` or `image[]` (1–16 files) | `output_format`, `output_compression`, `background`, `size` (fit), `response_format` (`b64_json`, `binary`), `strict`, `fail_on` | OpenAI's images response plus a `darkroom` block (``ImagesRoutes``) |
/// | `POST /v1/images/references` | multipart: `image`/`image[]` (1–16), `mask` | `format`, `max_mp`, `fail_on`, `all_or_nothing` | each image prepared by the gateway's rule, per-image errors |
/// | `POST /v1/convert` | image bytes | query: `output_format`, `output_compression`, `background`, `resize`, `strict`, `fail_on` | the converted image, `Darkroom-*` headers |
/// | `POST /v1/references` | one image | query: `max_mp`, `format`, `name`, `fail_on` | the prepared image |
/// | `POST /v1/size` | JSON (`size`, `aspect_ratio`, `resolution`) | query: `profile`, `multiple` | `{"width","height"}` |
/// | `GET /healthz`, `/readyz`, `/metrics` | – | – | liveness, readiness, Prometheus |
/// | `GET /openapi.json` | – | – | the OpenAPI document of every route (``OpenAPIRoute``) |
///
/// Errors are OpenAI's envelope with all four keys (``APIError``). Conversions run on a
/// ``WorkerPool`` (dedicated threads); a request takes its slot once its whole body is in, and
/// the bodies still arriving are bounded by ``UploadGate`` and a minimum rate (``BodyReader``).
public enum DarkroomHTTPServer {
    /// Every setting of a server. ``init(host:port:maxBodyBytes:maxPixels:maxOutputPixels:maxUpscale:maxAVIFPixels:workers:queueSize:maxUploads:requestTimeout:minBodyRate:retryAfter:metricsRegistry:requestLog:beforeWork:)``
    /// checks each against its bounds.
    public struct Configuration: Sendable {
        /// The address to listen on.
        public var host: String
        /// The port; 0 binds a free one (``Server/run(gracefulShutdownSignals:onRunning:)`` reports which).
        public var port: Int
        /// Largest request body accepted.
        public var maxBodyBytes: Int
        /// Decoder pixel limit: inputs (and outputs) with more pixels are refused before decoding.
        public var maxPixels: Int
        /// Most scans a JPEG input may have (``DecodeOptions/maxJPEGScans``, 1...``Limits/maxJPEGScanLimit``,
        /// checked by each conversion): more is answered 400 `image_too_complex` before any row is decoded.
        public var maxJPEGScans: Int = DecodeOptions.defaultMaxJPEGScans
        /// Largest output in pixels, checked from the header and the asked size before any decode.
        public var maxOutputPixels: Int
        /// Largest enlargement per side (output side / input side), checked with ``maxOutputPixels``.
        public var maxUpscale: Double
        /// Largest AVIF output in pixels, checked with ``maxOutputPixels``: libavif's encoder cannot
        /// be stopped once started, and beyond about 12 MP it takes 10 s and more and over 1 GB
        /// (docs/server.md, "Limits").
        public var maxAVIFPixels: Int
        /// Worker threads running conversions (default: the cores this process may use, the cgroup CPU quota included: ``CPUBudget/cores()``).
        public var workers: Int
        /// Conversions that may wait for a worker; beyond `workers + queueSize` admitted requests the
        /// answer is 503 (default: 2 × workers).
        public var queueSize: Int
        /// Conversion bodies read at once; beyond it the answer is 503 before the body is read
        /// (default: 2 × (workers + queueSize)).
        public var maxUploads: Int
        /// Seconds from a request's arrival within which its body must arrive (else 408) and its
        /// conversion start (else 503) and finish (else 504).
        public var requestTimeout: Double
        /// Bytes per second a body must keep arriving at, over every ``BodyReader/rateWindow``
        /// once the first has passed (else 408); 0 turns the check off.
        public var minBodyRate: Int
        /// Seconds sent in `Retry-After` with a 503.
        public var retryAfter: Int
        /// Where `/metrics` series live. Each configuration gets its own registry by default, so
        /// several servers in one process (tests) never share or clash; nothing bootstraps the global
        /// `MetricsSystem`.
        public var metricsRegistry: PrometheusCollectorRegistry
        /// One line per answered request (``RequestLogMiddleware``); nil: no request log.
        public var requestLog: Logger?
        /// Test hook: called on the worker thread just before each conversion; may block to hold a worker.
        public var beforeWork: (@Sendable () -> Void)?
        /// Proxy mode: where `/v1/images/generations` and `/v1/images/edits` are forwarded
        /// (``UpstreamConfiguration``); nil: they answer 404 `no_upstream`.
        public var upstream: UpstreamConfiguration? = nil

        /// The bounds of each setting: the one owner of these numbers. `darkroom-server` parses its
        /// flags with them and the initialiser refuses a value outside them, so no value can make
        /// the pool's arithmetic overflow or the timers misbehave.
        /// Ports; 0 asks the system for a free one.
        public static let portRange = 0...65_535
        /// Body bytes: 1 to 2^40.
        public static let maxBodyBytesRange = 1...Limits.maxByteCount
        /// Worker threads: 1 to 256.
        public static let workersRange = 1...Limits.maxThreads
        /// Waiting conversions.
        public static let queueSizeRange = 0...10_000
        /// Bodies read at once.
        public static let maxUploadsRange = 1...100_000
        /// Seconds: above 0 up to a day.
        public static let maxRequestTimeout = 86_400.0
        /// Bytes per second; 0 turns the check off.
        public static let minBodyRateRange = 0...(1 << 30)
        /// Seconds in `Retry-After`.
        public static let retryAfterRange = 0...3600
        /// The enlargement factor: at least 1 (never enlarge), at most 1000.
        public static let maxUpscaleRange = 1.0...1000.0
        /// 64 MP (8192 × 8192): a 50 MP camera photo converts at its size; a small input asked
        /// for `16000x16000!` does not.
        public static let defaultMaxOutputPixels = 1 << 26
        /// 4 × per side (16 × the pixels).
        public static let defaultMaxUpscale = 4.0
        /// 8 MP (2^23 px: 3840 × 2160, OpenAI's largest size, fits): about 1 s and 300 MB to encode.
        public static let defaultMaxAVIFPixels = 1 << 23
        /// 1000 bytes per second (Apache's mod_reqtimeout asks 500).
        public static let defaultMinBodyRate = 1000

        /// The defaults: port 8080 on loopback, 64 MiB bodies, the decoder's default pixel limit,
        /// 64 MP outputs (8 MP for AVIF) enlarged at most 4 ×, a worker per active core, a queue of 2 × workers,
        /// 2 × (workers + queue) uploads, 30 s, 1000 B/s, 1 s, no request log.
        public static var standard: Configuration { try! Configuration() }

        /// A worker per active core, within ``workersRange``.
        static var defaultWorkers: Int { min(CPUBudget.cores(), workersRange.upperBound) }

        /// Throws ``DarkroomError/option(_:)`` naming the setting and its bounds for a value outside
        /// them (``portRange``, ``maxBodyBytesRange``, 1…``Limits/maxPixelLimit`` px for the pixel
        /// limits, ``maxUpscaleRange``, ``workersRange``, ``queueSizeRange``, ``maxUploadsRange``,
        /// above 0 up to ``maxRequestTimeout`` seconds, ``minBodyRateRange``, ``retryAfterRange``).
        public init(host: String = "127.0.0.1", port: Int = 8080, maxBodyBytes: Int = 64 << 20,
                    maxPixels: Int = DecodeOptions.defaultMaxPixels,
                    maxOutputPixels: Int = Configuration.defaultMaxOutputPixels,
                    maxUpscale: Double = Configuration.defaultMaxUpscale,
                    maxAVIFPixels: Int = Configuration.defaultMaxAVIFPixels,
                    workers: Int? = nil, queueSize: Int? = nil, maxUploads: Int? = nil,
                    requestTimeout: Double = 30, minBodyRate: Int = Configuration.defaultMinBodyRate,
                    retryAfter: Int = 1,
                    metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                    requestLog: Logger? = nil,
                    beforeWork: (@Sendable () -> Void)? = nil) throws(DarkroomError) {
            let workers = workers ?? Self.defaultWorkers
            try ValueParser.check(port, name: "port", in: Self.portRange)
            try ValueParser.check(maxBodyBytes, name: "max-body-bytes", in: Self.maxBodyBytesRange)
            try ValueParser.check(maxPixels, name: "max-pixels", in: 1...Limits.maxPixelLimit)
            try ValueParser.check(maxOutputPixels, name: "max-output-pixels", in: 1...Limits.maxPixelLimit)
            guard maxUpscale.isFinite, Self.maxUpscaleRange.contains(maxUpscale) else {
                throw .option(OptionError(name: "max-upscale", value: "\(maxUpscale)", expected: "a number from 1 to 1000"))
            }
            try ValueParser.check(maxAVIFPixels, name: "max-avif-pixels", in: 1...Limits.maxPixelLimit)
            try ValueParser.check(workers, name: "workers", in: Self.workersRange)
            let queueSize = queueSize ?? min(2 * workers, Self.queueSizeRange.upperBound)
            try ValueParser.check(queueSize, name: "queue-size", in: Self.queueSizeRange)
            let maxUploads = maxUploads ?? min(2 * (workers + queueSize), Self.maxUploadsRange.upperBound)
            try ValueParser.check(maxUploads, name: "max-uploads", in: Self.maxUploadsRange)
            guard requestTimeout.isFinite, requestTimeout > 0, requestTimeout <= Self.maxRequestTimeout else {
                throw .option(OptionError(name: "request-timeout", value: "\(requestTimeout)",
                                          expected: "a number above 0 up to \(Int(Self.maxRequestTimeout)) seconds"))
            }
            try ValueParser.check(minBodyRate, name: "min-body-rate", in: Self.minBodyRateRange)
            try ValueParser.check(retryAfter, name: "retry-after", in: Self.retryAfterRange)
            self.host = host
            self.port = port
            self.maxBodyBytes = maxBodyBytes
            self.maxPixels = maxPixels
            self.maxOutputPixels = maxOutputPixels
            self.maxUpscale = maxUpscale
            self.maxAVIFPixels = maxAVIFPixels
            self.workers = workers
            self.queueSize = queueSize
            self.maxUploads = maxUploads
            self.requestTimeout = requestTimeout
            self.minBodyRate = minBodyRate
            self.retryAfter = retryAfter
            self.metricsRegistry = metricsRegistry
            self.requestLog = requestLog
            self.beforeWork = beforeWork
        }
    }

    /// The routes, for embedding in another Hummingbird application or for tests. Each call makes a
    /// new ``Server`` (worker pool and metrics); use ``Server/router()`` to keep hold of them.
    public static func router(_ configuration: Configuration = .standard) -> Router<BasicRequestContext> {
        Server(configuration).router()
    }

    /// Every route and the methods it takes: the router's table, and the `Allow` header of a 405.
    static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/openapi.json", [.get]),
        ("/healthz", [.get, .head]), ("/readyz", [.get, .head]), ("/metrics", [.get]),
        ("/v1/images/convert", [.post]), ("/v1/images/references", [.post]),
        ("/convert/v1/images/edits", [.post]), ("/references/v1/images/edits", [.post]),
        ("/v1/convert", [.post]), ("/v1/references", [.post]), ("/v1/size", [.post]),
        ("/v1/images/generations", [.post]), ("/v1/images/edits", [.post]),
    ]

    /// The routes of `server`, sharing its pool and metrics.
    static func router(_ server: Server) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware(metrics: server.metrics))
        router.add(middleware: MemoryRelease.Middleware(quiet: server.quietTrim))
        // Every answer carries x-request-id, logged or not.
        router.add(middleware: RequestLogMiddleware(logger: server.configuration.requestLog))
        router.add(middleware: HTTPErrorBodyMiddleware())
        router.get("healthz") { _, _ in "ok" }
        router.get("readyz") { _, _ in readiness(server) }
        // HEAD for probes and load balancers that check with it: the status and headers of GET, no body.
        router.head("healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .contentLength: "2"])
        }
        router.head("readyz") { _, _ in
            let answer = readiness(server)
            return Response(status: answer.status, headers: answer.headers)
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: server.metrics.exposition())))
        }
        OpenAPIRoute.add(to: router)
        ImagesRoutes.add(to: router, server: server)
        RawRoutes.add(to: router, server: server)
        ProxyRoutes.add(to: router, server: server)
        return router
    }

    /// The application, ready for `runService()` (which does not drain the pool; ``run(_:)`` does).
    public static func application(_ configuration: Configuration = .standard) -> some ApplicationProtocol {
        Server(configuration).application()
    }

    /// Serves until SIGTERM or SIGINT, then drains: see ``Server/run(gracefulShutdownSignals:onRunning:)``.
    public static func run(_ configuration: Configuration = .standard) async throws {
        try await Server(configuration).run()
    }

    /// `/readyz`: 200 `ready` while the pool admits work, else the 503 a conversion would get.
    private static func readiness(_ server: Server) -> Response {
        let state = server.pool.snapshot
        if state.draining { return APIError.from(.draining, retryAfter: server.configuration.retryAfter).response }
        if state.admitted >= server.pool.capacity {
            return APIError.from(.saturated(capacity: server.pool.capacity), retryAfter: server.configuration.retryAfter).response
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "ready")))
    }
}
