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
            requests finish, new ones get 503, then the process exits. See docs/server.md for the full \
            route table and metric names.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "Port to listen on, 1 to 65535.")
    var port = "8080"

    @Option(parsing: .unconditional, help: "Largest request body in bytes, 1 to 2^40.")
    var maxBodyBytes = String(64 << 20)

    @Option(parsing: .unconditional, help: "Refuse inputs and outputs with more pixels than this (checked before decoding; 1 to 2^36).")
    var maxPixels = String(DecodeOptions.defaultMaxPixels)

    @Option(parsing: .unconditional, help: "Conversion worker threads, 1 to 256 (default: the number of cores).")
    var workers: String?

    @Option(parsing: .unconditional, help: "Conversions that may wait for a worker, 0 to 10000; more get 503 at once (default: 2 × workers).")
    var queueSize: String?

    @Option(parsing: .unconditional, help: "Seconds (above 0, up to 86400) from admission within which a request's body must arrive and its conversion start (else 503) and finish (else 504).")
    var requestTimeout = "30"

    @Option(parsing: .unconditional, help: "Seconds sent in Retry-After with a 503, 0 to 3600.")
    var retryAfter = "1"

    /// Exit status 2 for a bad flag value, as the `darkroom` CLI.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }

    func run() async throws {
        let configuration: DarkroomHTTPServer.Configuration
        do {
            typealias Bounds = DarkroomHTTPServer.Configuration
            configuration = try DarkroomHTTPServer.Configuration(
                host: host, port: try ValueParser.integer(port, name: "port", in: 1...65_535),
                maxBodyBytes: try ValueParser.integer(maxBodyBytes, name: "max-body-bytes", in: Bounds.maxBodyBytesRange),
                maxPixels: try ValueParser.pixelLimit(maxPixels),
                workers: try workers.map { try ValueParser.integer($0, name: "workers", in: Bounds.workersRange) },
                queueSize: try queueSize.map { try ValueParser.integer($0, name: "queue-size", in: Bounds.queueSizeRange) },
                requestTimeout: try ValueParser.number(requestTimeout, name: "request-timeout", above: 0,
                                                       atMost: Bounds.maxRequestTimeout, unit: " seconds"),
                retryAfter: try ValueParser.integer(retryAfter, name: "retry-after", in: Bounds.retryAfterRange))
        } catch {
            FileHandle.standardError.write(Data("darkroom-server: \(error)\n".utf8))
            throw ExitCode(2)
        }
        try await DarkroomHTTPServer.run(configuration)
    }
}
