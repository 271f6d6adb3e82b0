import ArgumentParser
import Darkroom
import DarkroomHTTP
import Foundation

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darkroom-server",
        abstract: "Serve Darkroom's conversion stage over HTTP for gateways not written in Swift.",
        discussion: """
            POST /v1/convert?output_format=webp&output_compression=80 with image bytes returns the \
            converted image; POST /v1/references prepares a reference image (fit within 4 MP); \
            POST /v1/size resolves size/aspect_ratio/resolution; GET /healthz (liveness), \
            GET /readyz (503 when saturated or draining), GET /metrics (Prometheus). Errors are \
            OpenAI-style JSON. Conversions run on --workers threads with --queue-size waiting slots; \
            beyond that the answer is 503 with Retry-After at once. SIGTERM/SIGINT drain: admitted \
            requests finish, new ones get 503, then the process exits. See the README for the full \
            route table and metric names.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = 64 << 20

    @Option(help: "Refuse images with more pixels than this (checked before decoding).")
    var maxPixels = DecodeOptions.defaultMaxPixels

    @Option(help: "Conversion worker threads (default: the number of cores).")
    var workers: Int?

    @Option(help: "Conversions that may wait for a worker; more get 503 at once (default: 2 × workers).")
    var queueSize: Int?

    @Option(help: "Seconds from admission within which a conversion must start (else 503) and finish (else 504).")
    var requestTimeout: Double = 30

    @Option(help: "Seconds sent in Retry-After with a 503.")
    var retryAfter = 1

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let queueSize, queueSize < 0 { throw ValidationError("--queue-size must be 0 or more") }
        guard requestTimeout > 0 else { throw ValidationError("--request-timeout must be a positive number of seconds") }
        guard retryAfter >= 0 else { throw ValidationError("--retry-after must be 0 or more seconds") }
    }

    func run() async throws {
        let configuration = DarkroomHTTPServer.Configuration(
            host: host, port: port, maxBodyBytes: maxBodyBytes, maxPixels: maxPixels,
            workers: workers ?? ProcessInfo.processInfo.activeProcessorCount, queueSize: queueSize,
            requestTimeout: requestTimeout, retryAfter: retryAfter)
        try await DarkroomHTTPServer.run(configuration)
    }
}
