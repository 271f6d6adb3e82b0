import CDarkroomHeap
import CoreMetrics
import Foundation
import Prometheus

/// The sidecar's Prometheus series, made through swift-metrics with an injected factory.
///
/// Nothing here touches the global `MetricsSystem`: each server gets the registry of its
/// ``DarkroomHTTPServer/Configuration`` so several routers can live in one process (tests) and the
/// executable decides what else, if anything, goes to the global system.
///
/// | series | type | labels |
/// |---|---|---|
/// | `darkroom_http_requests_total` | counter | `route`, `status` |
/// | `darkroom_http_request_duration_seconds` | histogram (seconds) | `route` |
/// | `darkroom_http_requests_in_flight` | gauge | – |
/// | `darkroom_http_request_body_bytes_total` | counter (bytes read) | `route` |
/// | `darkroom_http_response_body_bytes_total` | counter (bytes) | `route` |
/// | `darkroom_pool_queue_depth` | gauge (jobs waiting for a worker) | – |
/// | `darkroom_pool_busy_workers` | gauge (jobs running) | – |
/// | `darkroom_pool_admitted` | gauge (requests holding a slot) | – |
/// | `darkroom_pool_rejections_total` | counter | `reason`: `saturated`, `draining`, `queue_timeout`, `run_timeout`, `cancelled` (the client left: queued, or before its whole body arrived; the request is counted with status 499), `uploads_saturated` (every upload slot taken), `body_timeout`, `slow_body` (a body under the minimum rate), `upstream_saturated` (proxy mode: `--max-upstream-requests` in flight) |
/// | `darkroom_pixels_decoded_total` | counter (input width × height, pixels) | `route` |
/// | `darkroom_heap_in_use_bytes` | gauge (bytes the C allocator handed out and not freed; glibc `mallinfo2`, read at each scrape) | – |
/// | `darkroom_heap_free_held_bytes` | gauge (bytes freed but still held in the allocator's arenas: fragmentation, not a leak) | – |
/// | `darkroom_process_resident_bytes` | gauge (resident set, `/proc/self/statm`, read at each scrape) | – |
/// | `darkroom_upstream_requests_total` | counter (proxy mode: calls to the upstream) | `route`, `outcome`: the upstream's status (`200`, `429`, …), `timeout`, `unreachable`, `too_large`, `invalid` |
/// | `darkroom_upstream_duration_seconds` | histogram (seconds the upstream took) | `route` |
/// | `darkroom_upstream_in_flight` | gauge (proxied requests admitted: waiting on the upstream or converting) | – |
/// | `darkroom_result_fetches_total` | counter (result URLs downloaded) | `outcome`: `ok`, `refused`, `timeout`, `failed` |
public struct ServerMetrics: Sendable {
    /// The registry `/metrics` prints.
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    let inFlight: CoreMetrics.Meter
    let queueDepth: CoreMetrics.Gauge
    let busyWorkers: CoreMetrics.Gauge
    let admitted: CoreMetrics.Gauge
    let heapInUse: CoreMetrics.Gauge
    let heapFreeHeld: CoreMetrics.Gauge
    let resident: CoreMetrics.Gauge
    let upstreamInFlight: CoreMetrics.Gauge

    /// Latency buckets, seconds: 5 ms to 30 s (the default request timeout).
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30),
    ]

    public init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.latencyBuckets
        self.factory = factory
        inFlight = CoreMetrics.Meter(label: "darkroom_http_requests_in_flight", factory: factory)
        queueDepth = CoreMetrics.Gauge(label: "darkroom_pool_queue_depth", factory: factory)
        busyWorkers = CoreMetrics.Gauge(label: "darkroom_pool_busy_workers", factory: factory)
        admitted = CoreMetrics.Gauge(label: "darkroom_pool_admitted", factory: factory)
        heapInUse = CoreMetrics.Gauge(label: "darkroom_heap_in_use_bytes", factory: factory)
        heapFreeHeld = CoreMetrics.Gauge(label: "darkroom_heap_free_held_bytes", factory: factory)
        resident = CoreMetrics.Gauge(label: "darkroom_process_resident_bytes", factory: factory)
        upstreamInFlight = CoreMetrics.Gauge(label: "darkroom_upstream_in_flight", factory: factory)
        // Present from the start, so a scrape before the first request already shows the series.
        inFlight.set(0)
        queueDepth.record(0)
        busyWorkers.record(0)
        admitted.record(0)
        upstreamInFlight.record(0)
    }

    /// One answered request: its count by status and its latency (`nanoseconds`).
    func recordRequest(route: String, status: Int, nanoseconds: UInt64) {
        CoreMetrics.Counter(label: "darkroom_http_requests_total", dimensions: [("route", route), ("status", "\(status)")],
                factory: factory).increment()
        CoreMetrics.Timer(label: "darkroom_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Request body bytes read by a route.
    func recordBytesIn(route: String, _ bytes: Int) {
        CoreMetrics.Counter(label: "darkroom_http_request_body_bytes_total", dimensions: [("route", route)], factory: factory)
            .increment(by: Int64(bytes))
    }

    /// Response body bytes produced by a route.
    func recordBytesOut(route: String, _ bytes: Int) {
        CoreMetrics.Counter(label: "darkroom_http_response_body_bytes_total", dimensions: [("route", route)], factory: factory)
            .increment(by: Int64(bytes))
    }

    /// Input pixels (width × height) decoded by a successful conversion.
    func recordPixelsDecoded(route: String, _ pixels: Int) {
        CoreMetrics.Counter(label: "darkroom_pixels_decoded_total", dimensions: [("route", route)], factory: factory)
            .increment(by: Int64(pixels))
    }

    /// A request the pool refused or abandoned.
    func recordRejection(_ error: WorkerPoolError) {
        let reason = switch error {
        case .saturated: "saturated"
        case .draining: "draining"
        case .queueTimeout: "queue_timeout"
        case .runTimeout: "run_timeout"
        case .cancelled: "cancelled"
        }
        recordRejection(reason: reason)
    }

    /// A request refused or ended for `reason` (the pool's reasons, and `uploads_saturated`,
    /// `body_timeout`, `slow_body` for bodies).
    func recordRejection(reason: String) {
        CoreMetrics.Counter(label: "darkroom_pool_rejections_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// The pool's gauges; the pool calls this after every change.
    func recordPool(_ snapshot: WorkerPool.Snapshot) {
        queueDepth.record(snapshot.queued)
        busyWorkers.record(snapshot.running)
        admitted.record(snapshot.admitted)
    }

    /// Proxy mode: one call to the upstream, by `outcome` (its status, or `timeout`,
    /// `unreachable`, `too_large`, `invalid`), and how long it took (`nanoseconds`).
    func recordUpstream(route: String, outcome: String, nanoseconds: UInt64) {
        CoreMetrics.Counter(label: "darkroom_upstream_requests_total", dimensions: [("route", route), ("outcome", outcome)],
                            factory: factory).increment()
        CoreMetrics.Timer(label: "darkroom_upstream_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(Int64(clamping: nanoseconds))
    }

    /// Proxy mode: one result URL download, by `outcome` (`ok`, `refused`, `timeout`, `failed`).
    func recordResultFetch(outcome: String) {
        CoreMetrics.Counter(label: "darkroom_result_fetches_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// The registry in Prometheus text exposition format, with the memory gauges read now.
    func exposition() -> String {
        var inUse = 0, freeHeld = 0
        if darkroom_heap_stats(&inUse, &freeHeld) != 0 {
            heapInUse.record(inUse)
            heapFreeHeld.record(freeHeld)
        }
        if let resident = Self.residentBytes() { self.resident.record(resident) }
        return registry.emitToString()
    }

    /// Resident set size in bytes: the second field of `/proc/self/statm` (pages) × the page size;
    /// nil where there is no procfs.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        let (bytes, overflow) = pages.multipliedReportingOverflow(by: Int(sysconf(Int32(_SC_PAGESIZE))))
        return overflow ? nil : bytes
    }
}
