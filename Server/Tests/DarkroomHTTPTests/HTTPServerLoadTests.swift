@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ServiceLifecycle
import Testing
@testable import Darkroom

/// The sidecar under load: admission, 503 + Retry-After, readiness, timeouts, drain and metrics.
///
/// Workers are held busy by a gate in `Configuration.beforeWork`, so a full pool is a fact, not a
/// race; nothing asserts absolute timings.
@Suite struct HTTPServerLoadTests {
    /// Holds every worker that reaches it until `open()`. Nothing here can hang a test run: a test
    /// waits for a worker with `arrival()`, which gives up (recording an issue and opening the gate)
    /// after a minute; tests open the gate on every way out (`defer { gate.open() }`); and a worker
    /// is let go after two minutes whatever happens (a task group or `async let` awaits its running
    /// request before a `defer` runs).
    final class WorkerGate: @unchecked Sendable {
        private let condition = NSCondition()
        private var isOpen = false
        private var arrived = 0
        private var taken = 0

        func hold() {
            condition.lock()
            arrived += 1
            let giveUp = Date(timeIntervalSinceNow: 120)
            while !isOpen && condition.wait(until: giveUp) {}
            condition.unlock()
        }

        func open() {
            condition.lock()
            isOpen = true
            condition.broadcast()
            condition.unlock()
        }

        private func takeArrival() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            guard arrived > taken else { return false }
            taken += 1
            return true
        }

        /// Waits until one more worker than before has reached the gate; `false` (and an issue)
        /// after `limit`, e.g. when the job never reached a worker.
        func arrival(within limit: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if takeArrival() { return true }
                try? await Task.sleep(for: .milliseconds(1))
            }
            Issue.record("no worker reached the gate within \(limit)", sourceLocation: sourceLocation)
            open()
            return false
        }
    }

    static func server(workers: Int = 1, queueSize: Int, timeout: Double = 60, gate: WorkerGate) -> DarkroomHTTPServer.Server {
        DarkroomHTTPServer.Server(try! .init(maxBodyBytes: 1 << 20, workers: workers, queueSize: queueSize,
                                        requestTimeout: timeout, retryAfter: 7, beforeWork: { gate.hold() }))
    }

    static let convertURI = "/v1/convert?output_format=webp&output_compression=80"

    static func errorCode(_ response: TestResponse) throws -> (code: String?, type: String?) {
        let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
        let error = try #require((object as? [String: Any])?["error"] as? [String: Any])
        return (error["code"] as? String, error["type"] as? String)
    }

    /// Waits (yielding, no fixed sleep) until `condition` holds; fails after about 10 s of polling.
    static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<10_000 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(1))
        }
        Issue.record("condition never became true")
    }

    @Test func overloadGets503WithRetryAfterAtOnce() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        let server = Self.server(queueSize: 1, gate: gate)
        let image = ByteBuffer(bytes: try TestImages.bytes("rgba.png"))
        try await Application(router: server.router()).test(.router) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                group.addTask { try await client.execute(uri: Self.convertURI, method: .post, body: image).status }
                guard await gate.arrival() else { return }  // the one worker is now busy
                group.addTask { try await client.execute(uri: Self.convertURI, method: .post, body: image).status }
                try await Self.eventually { server.pool.snapshot.queued == 1 }  // the one queue slot is taken

                let refused = try await client.execute(uri: Self.convertURI, method: .post, body: image)
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.headers[.retryAfter] == "7")
                let error = try Self.errorCode(refused)
                #expect(error.code == "server_overloaded")
                #expect(error.type == "server_error")
                let refusedReference = try await client.execute(uri: "/v1/references", method: .post, body: image)
                #expect(refusedReference.status == .serviceUnavailable)

                let ready = try await client.execute(uri: "/readyz", method: .get)
                #expect(ready.status == .serviceUnavailable)
                #expect(ready.headers[.retryAfter] == "7")
                let health = try await client.execute(uri: "/healthz", method: .get)
                #expect(health.status == .ok)
                #expect(String(buffer: health.body) == "ok")
                #expect(server.pool.snapshot == .init(admitted: 2, queued: 1, running: 1, draining: false))

                gate.open()
                for try await status in group { #expect(status == .ok) }
            }
            // Slots come back before the answers are delivered, so the pool is free again now.
            #expect(server.pool.snapshot == .init(admitted: 0, queued: 0, running: 0, draining: false))
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(String(buffer: ready.body) == "ready")
        }
    }

    @Test func timeoutsAnswer503WhenNotStartedAnd504WhenRunning() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        // 5 s: long enough for an idle worker to pick the first job up on a machine busy with the other suites.
        let server = Self.server(queueSize: 1, timeout: 5, gate: gate)
        let image = ByteBuffer(bytes: try TestImages.bytes("rgba.png"))
        try await Application(router: server.router()).test(.router) { client in
            async let running = client.execute(uri: Self.convertURI, method: .post, body: image)
            guard await gate.arrival() else { return }
            async let queued = client.execute(uri: Self.convertURI, method: .post, body: image)

            let late = try await running  // answered at its deadline while the worker is still held
            #expect(late.status == .gatewayTimeout)
            #expect(late.headers[.retryAfter] == nil)
            #expect(try Self.errorCode(late).code == "timeout")
            let neverStarted = try await queued
            #expect(neverStarted.status == .serviceUnavailable)
            #expect(neverStarted.headers[.retryAfter] == "7")
            #expect(try Self.errorCode(neverStarted).code == "queue_timeout")

            // The runaway job still holds its worker and its slot; the queued one gave its slot back.
            #expect(server.pool.snapshot == .init(admitted: 1, queued: 0, running: 1, draining: false))
            gate.open()
            await server.pool.waitUntilIdle()
            #expect(server.pool.snapshot == .init(admitted: 0, queued: 0, running: 0, draining: false))

            let metrics = try await client.execute(uri: "/metrics", method: .get)
            let text = String(buffer: metrics.body)
            #expect(text.contains(#"darkroom_pool_rejections_total{reason="run_timeout"} 1"#))
            #expect(text.contains(#"darkroom_pool_rejections_total{reason="queue_timeout"} 1"#))
            #expect(text.contains(#"darkroom_http_requests_total{route="/v1/convert",status="504"} 1"#))
            #expect(text.contains(#"darkroom_http_requests_total{route="/v1/convert",status="503"} 1"#))
        }
    }

    @Test func metricsListTheNamedSeriesAfterAConversion() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        gate.open()
        let server = Self.server(workers: 2, queueSize: 4, gate: gate)
        let jpeg = try TestImages.bytes("kodim23.jpg")  // 768 × 512
        try await Application(router: server.router()).test(.router) { client in
            let converted = try await client.execute(uri: Self.convertURI, method: .post, body: ByteBuffer(bytes: jpeg))
            #expect(converted.status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let text = String(buffer: metrics.body)
            for line in [
                #"darkroom_http_requests_total{route="/v1/convert",status="200"} 1"#,
                #"darkroom_http_request_duration_seconds_count{route="/v1/convert"} 1"#,
                #"darkroom_http_request_body_bytes_total{route="/v1/convert"} \#(jpeg.count)"#,
                #"darkroom_http_response_body_bytes_total{route="/v1/convert"} \#(converted.body.readableBytes)"#,
                #"darkroom_pixels_decoded_total{route="/v1/convert"} 393216"#,
                "darkroom_http_requests_in_flight 1.0",  // the /metrics request itself
                "darkroom_pool_queue_depth 0.0",
                "darkroom_pool_busy_workers 0.0",
                "darkroom_pool_admitted 0.0",
            ] {
                #expect(text.split(separator: "\n").contains(Substring(line)), "missing: \(line)")
            }
            // The memory gauges are read at the scrape: positive numbers on glibc.
            for name in ["darkroom_heap_in_use_bytes", "darkroom_process_resident_bytes"] {
                let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                let value = line.flatMap { Double($0.split(separator: " ").last ?? "") }
                #expect((value ?? 0) > 0, "\(name): \(String(describing: line))")
            }
            #expect(text.contains("darkroom_heap_free_held_bytes "))
        }
    }

    @Test func headProbesAnswerAsGetWithoutABody() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        gate.open()
        try await Application(router: Self.server(queueSize: 1, gate: gate).router()).test(.router) { client in
            for path in ["/healthz", "/readyz"] {
                let head = try await client.execute(uri: path, method: .head)
                #expect(head.status == .ok, "\(path)")
                #expect(head.body.readableBytes == 0, "\(path)")
            }
            let metrics = try await client.execute(uri: "/metrics", method: .head)
            #expect(metrics.status == .methodNotAllowed)
            #expect(metrics.headers[.allow] == "GET")
        }
    }

    @Test func quietTrimRunsOnceTheServerStaysQuiet() async throws {
        let quiet = MemoryRelease.QuietTrim()
        quiet.enter()
        quiet.enter()
        quiet.leave()
        try await Task.sleep(for: .milliseconds(600))
        #expect(quiet.trims.withLockedValue { $0 } == 0, "a request is still in flight")
        quiet.leave()
        quiet.enter()  // back within the delay: the first quiet moment does not count
        try await Task.sleep(for: .milliseconds(600))
        #expect(quiet.trims.withLockedValue { $0 } == 0)
        quiet.leave()
        for _ in 0..<100 where quiet.trims.withLockedValue({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(quiet.trims.withLockedValue { $0 } == 1)
    }

    @Test func metricsRegistriesAreSeparatePerServer() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        gate.open()
        let first = Self.server(queueSize: 1, gate: gate)
        let second = Self.server(queueSize: 1, gate: gate)
        try await Application(router: first.router()).test(.router) { client in
            _ = try await client.execute(uri: "/healthz", method: .get)
        }
        #expect(first.metrics.registry.emitToString().contains(#"route="/healthz""#))
        #expect(!second.metrics.registry.emitToString().contains(#"route="/healthz""#))
    }

    @Test func drainFinishesAdmittedWorkAndRefusesNewWork() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        let server = Self.server(queueSize: 2, gate: gate)
        let image = ByteBuffer(bytes: try TestImages.bytes("rgba.png"))
        let group = ServiceGroup(configuration: .init(services: [DrainService(pool: server.pool)],
                                                      logger: .init(label: "drain-test")))
        try await Application(router: server.router()).test(.router) { client in
            async let inFlight = client.execute(uri: Self.convertURI, method: .post, body: image)
            guard await gate.arrival() else { return }

            async let drained: Void = group.run()
            await group.triggerGracefulShutdown()
            try await Self.eventually { server.pool.snapshot.draining }

            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(try Self.errorCode(ready).code == "shutting_down")
            let refused = try await client.execute(uri: Self.convertURI, method: .post, body: image)
            #expect(refused.status == .serviceUnavailable)
            #expect(refused.headers[.retryAfter] == "7")
            #expect(try Self.errorCode(refused).code == "shutting_down")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)

            gate.open()
            #expect(try await inFlight.status == .ok)
            try await drained  // the drain service returns once the admitted request is done
            #expect(server.pool.snapshot.admitted == 0)
        }
    }

    @Test func poolRefusesBeyondCapacityAndFreesACancelledQueuedJob() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        let pool = WorkerPool(workers: 1, queueSize: 1, beforeWork: { gate.hold() })
        let running = Task { try await pool.run(try pool.admit(), timeout: 60) { 1 } }
        guard await gate.arrival() else { return }
        let queuedTicket = try pool.admit()
        #expect(throws: WorkerPoolError.saturated(capacity: 2)) { try pool.admit() }
        #expect(!pool.isReady)
        let queued = Task { try await pool.run(queuedTicket, timeout: 60) { 2 } }
        try await Self.eventually { pool.snapshot.queued == 1 }
        queued.cancel()
        await #expect(throws: WorkerPoolError.cancelled) { try await queued.value }
        #expect(pool.snapshot == .init(admitted: 1, queued: 0, running: 1, draining: false))
        #expect(pool.isReady)
        gate.open()
        #expect(try await running.value == 1)
        await pool.waitUntilIdle()
        pool.beginDrain()
        #expect(throws: WorkerPoolError.draining) { try pool.admit() }
        pool.shutdown()
    }

    @Test func oversizedBodyGivesItsSlotBack() async throws {
        let gate = WorkerGate()
        defer { gate.open() }
        gate.open()
        let server = Self.server(queueSize: 0, gate: gate)
        try await Application(router: server.router()).test(.router) { client in
            let response = try await client.execute(uri: Self.convertURI, method: .post,
                                                    body: ByteBuffer(bytes: [UInt8](repeating: 0, count: 2 << 20)))
            #expect(response.status == .contentTooLarge)
            #expect(server.pool.snapshot.admitted == 0)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
        }
    }
}
