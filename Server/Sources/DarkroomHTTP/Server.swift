import Hummingbird
import ServiceLifecycle
import UnixSignals

extension DarkroomHTTPServer {
    /// One server's shared state, its ``WorkerPool`` and its ``ServerMetrics``; every router or
    /// application built from it shares both.
    public final class Server: Sendable {
        /// The configuration the pool and routes were built from.
        public let configuration: Configuration
        /// The conversion workers and admission queue.
        public let pool: WorkerPool
        /// The `/metrics` series.
        public let metrics: ServerMetrics

        public init(_ configuration: Configuration = .standard) {
            self.configuration = configuration
            let metrics = ServerMetrics(registry: configuration.metricsRegistry)
            self.metrics = metrics
            pool = WorkerPool(workers: configuration.workers, queueSize: configuration.queueSize,
                              beforeWork: configuration.beforeWork,
                              observer: { metrics.recordPool($0) })
        }

        /// The routes, sharing this server's pool and metrics.
        public func router() -> Router<BasicRequestContext> { DarkroomHTTPServer.router(self) }

        /// The Hummingbird application on `configuration.host`:`configuration.port`.
        public func application() -> Application<RouterResponder<BasicRequestContext>> {
            Application(router: router(),
                        configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                             serverName: "darkroom"))
        }

        /// Serves until one of `gracefulShutdownSignals`, then drains and returns.
        ///
        /// On the signal, ``DrainService`` runs first: `/readyz` and new conversions answer 503 while
        /// admitted requests finish; then the HTTP server shuts down. A second signal does not cancel
        /// (the drain is bounded by the request timeout plus the longest conversion).
        public func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
            let app = application()
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
