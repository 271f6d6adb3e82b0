import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

extension DarkroomHTTPServer {
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
                server: .darkroomHTTP1(onParseError: log.map { log -> DarkroomHTTP1Channel.ParseErrorObserver in
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
