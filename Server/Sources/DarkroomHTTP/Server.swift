import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

extension DarkroomHTTPServer {
    /// Sets the C allocator's thresholds for a long-running server; `darkroom-server` calls it
    /// first thing. Allocations of 1 MiB or more (image rows, decoded images, encoded outputs)
    /// get their own mapping, returned to the system when freed; the free top of each arena is
    /// returned above 4 MiB; and there are at most as many arenas as cores the process may use
    /// (``CPUBudget/cores()``, at least 2; glibc's default is 8 per core), since no more threads
    /// than that allocate at once. Without it glibc raises both thresholds on the fly (up to 32
    /// and 64 MiB) after the first large image, and the soak (scripts/soak.sh) measured a quiet
    /// server at 120–150 MB RSS that grew 20 % over 18,000 requests with 4 MB of heap in use; with
    /// the thresholds alone, 68 → 78 MB (+15 %) over 60,000; with the arena bound as well,
    /// 62 → 63 MB (docs/server.md, Soak). The cost is a fresh mapping (page faults) for each large
    /// buffer. An application that mounts the routes in its own process decides for itself.
    /// glibc only; does nothing elsewhere.
    public static func configureAllocator() { MemoryRelease.configureForServing() }

    /// One server's shared state, its ``WorkerPool``, its ``UploadGate`` and its ``ServerMetrics``;
    /// every router or application built from it shares them.
    public final class Server: Sendable {
        /// The configuration the pool and routes were built from.
        public let configuration: Configuration
        /// The conversion workers and admission queue.
        public let pool: WorkerPool
        /// The conversion bodies being read.
        public let uploads: UploadGate
        /// The `/metrics` series.
        public let metrics: ServerMetrics
        /// The requests in flight, and the allocator trim once there are none.
        let quietTrim = MemoryRelease.QuietTrim()

        /// A server's state from `configuration`; its worker threads start with the first conversion.
        public init(_ configuration: Configuration = .standard) {
            self.configuration = configuration
            let metrics = ServerMetrics(registry: configuration.metricsRegistry)
            self.metrics = metrics
            uploads = UploadGate(limit: configuration.maxUploads)
            pool = WorkerPool(workers: configuration.workers, queueSize: configuration.queueSize,
                              beforeWork: configuration.beforeWork,
                              observer: { metrics.recordPool($0) })
        }

        /// The routes, sharing this server's pool and metrics.
        public func router() -> Router<BasicRequestContext> { DarkroomHTTPServer.router(self) }

        /// The Hummingbird application on `configuration.host`:`configuration.port`, served by
        /// ``DarkroomHTTP1Channel`` (`100 Continue` at once, parser errors as JSON).
        /// - Parameter onRunning: called with the bound port once the server listens (the port
        ///   the system chose when `configuration.port` is 0).
        public func application(onRunning: (@Sendable (_ port: Int) async -> Void)? = nil)
            -> Application<RouterResponder<BasicRequestContext>> {
            let log = configuration.requestLog
            var quiet = Logger(label: "darkroom-server")
            quiet.logLevel = .warning  // the executable prints its own start and shutdown lines
            return Application(
                router: router(),
                // A connection that sends no whole request head within --request-timeout is closed.
                server: .darkroomHTTP1(headerTimeout: .nanoseconds(Int64(configuration.requestTimeout * 1e9)), onParseError: log.map { log -> DarkroomHTTP1Channel.ParseErrorObserver in
                    { (reason: String) in
                        log.info("request", metadata: ["method": "-", "path": "-", "status": "400", "bytes_in": "0",
                                                       "bytes_out": "-", "ms": "0", "request_id": "-",
                                                       "error": "\(reason)"])
                    }
                }),
                configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "darkroom"),
                onServerRunning: { channel in await onRunning?(channel.localAddress?.port ?? 0) },
                logger: quiet)
        }

        /// Serves until one of `gracefulShutdownSignals`, then drains and returns.
        ///
        /// On the signal, ``DrainService`` runs first: `/readyz` and new conversions answer 503 while
        /// admitted requests finish; then the HTTP server shuts down. A second signal does not cancel
        /// (the drain is bounded by the request timeout plus the longest conversion).
        /// - Parameter onRunning: called with the bound port once the server listens.
        /// - Throws: what binding throws (an `IOError` with `EADDRINUSE` for a busy port).
        public func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
                        onRunning: (@Sendable (_ port: Int) async -> Void)? = nil) async throws {
            let app = application(onRunning: onRunning)
            let group = ServiceGroup(configuration: .init(
                services: [
                    .init(service: app),
                    .init(service: DrainService(pool: pool), successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: gracefulShutdownSignals,
                logger: app.logger))
            try await group.run()
        }
    }
}
