import ServiceLifecycle

/// Drains the worker pool on graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`).
///
/// Put it *after* the Hummingbird application in the group's services: a `ServiceGroup` shuts its
/// services down in reverse order, so this one goes first. From that moment `/readyz` answers 503
/// and new conversions get 503 `shutting_down`, while the server keeps accepting connections;
/// once every admitted request has finished, `run()` returns and the group shuts the HTTP server
/// down (which lets responses still being written complete).
public struct DrainService: Service {
    let pool: WorkerPool

    public init(pool: WorkerPool) { self.pool = pool }

    public func run() async throws {
        // Returns when graceful shutdown starts; throws CancellationError if the group is cancelled instead.
        try await gracefulShutdown()
        pool.beginDrain()
        await pool.waitUntilIdle()
        pool.shutdown()
    }
}
