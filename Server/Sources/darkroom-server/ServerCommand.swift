import ArgumentParser
import Darkroom
import DarkroomHTTP
import Foundation
import Logging
import NIOCore

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darkroom-server",
        abstract: "Serve Darkroom's conversion stage over HTTP for gateways not written in Swift.",
        discussion: """
            POST /v1/images/convert and /v1/images/references take multipart bodies as OpenAI's \
            image edits do (image or image[] files, up to 16) and answer OpenAI's images response \
            with a darkroom block; POST /v1/convert, /v1/references (raw image bodies, query \
            fields) and /v1/size are the cheap path; GET /healthz, /readyz, /metrics. Errors are \
            OpenAI's envelope {"error":{"message","type","param","code"}}. A conversion takes one \
            of --workers threads (or --queue-size waiting slots) once its body is in; beyond that \
            the answer is 503 with Retry-After at once. SIGTERM/SIGINT drain: admitted requests \
            finish, new ones get 503, then the process exits. With --upstream, \
            DARKROOM_UPSTREAM_API_KEY (environment) replaces the client's Authorization to the \
            upstream. See docs/server.md.
            """,
        version: "darkroom-server \(CodecLibraries.darkroomVersion)\n"
            + CodecLibraries.versions.map { "\($0.name) \($0.version)" }.joined(separator: "\n"))

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "Port to listen on, 0 to 65535 (0: a free port, printed in the start line).")
    var port = "8080"

    @Option(parsing: .unconditional, help: "Largest request body in bytes, 1 to 2^40.")
    var maxBodyBytes = String(64 << 20)

    @Option(parsing: .unconditional, help: "Refuse inputs and outputs with more pixels than this (checked before decoding; 1 to 2^36).")
    var maxPixels = String(DecodeOptions.defaultMaxPixels)

    @Option(parsing: .unconditional, help: "Refuse outputs with more pixels than this, from the header and the asked size before decoding (1 to 2^36).")
    var maxOutputPixels = String(DarkroomHTTPServer.Configuration.defaultMaxOutputPixels)

    @Option(parsing: .unconditional, help: "Refuse outputs whose sides are more than this many times the input's, 1 to 1000.")
    var maxUpscale = "4"

    @Option(parsing: .unconditional, help: "Refuse AVIF outputs with more pixels than this (its encoder cannot be stopped once started; 1 to 2^36).")
    var maxAvifPixels = String(DarkroomHTTPServer.Configuration.defaultMaxAVIFPixels)

    @Option(parsing: .unconditional, help: "Refuse a JPEG with more scans than this before decoding a row (a progressive file has about 10; thousands of tiny scans take minutes to decode; 1 to 65535).")
    var maxJpegScans = String(DecodeOptions.defaultMaxJPEGScans)

    @Option(parsing: .unconditional, help: "Conversion worker threads, 1 to 256 (default: the number of cores).")
    var workers: String?

    @Option(parsing: .unconditional, help: "Conversions that may wait for a worker, 0 to 10000; more get 503 at once (default: 2 × workers).")
    var queueSize: String?

    @Option(parsing: .unconditional, help: "Conversion bodies read at once, 1 to 100000; more get 503 before their body is read (default: 2 × (workers + queue size)).")
    var maxUploads: String?

    @Option(parsing: .unconditional, help: "Seconds (above 0, up to 86400) from a request's arrival within which its body must arrive (else 408) and its conversion start (else 503) and finish (else 504).")
    var requestTimeout = "30"

    @Option(parsing: .unconditional, help: "Bytes per second a request body must keep arriving at, measured over every 4 s (else 408); 0 turns it off.")
    var minBodyRate = String(DarkroomHTTPServer.Configuration.defaultMinBodyRate)

    @Option(parsing: .unconditional, help: "Seconds sent in Retry-After with a 503, 0 to 3600.")
    var retryAfter = "1"

    @Option(parsing: .unconditional, help: "Proxy mode: forward POST /v1/images/generations and /v1/images/edits to this OpenAI-compatible base URL (http or https, e.g. https://api.openai.com/v1) and convert the images it answers.")
    var upstream: String?

    @Option(parsing: .unconditional, help: "Seconds (above 0, up to 86400) the upstream has to answer, and a result URL's download to finish (else 504); separate from --request-timeout.")
    var upstreamTimeout = String(Int(UpstreamConfiguration.defaultTimeout))

    @Option(parsing: .unconditional, help: "Largest upstream answer, and largest downloaded result image, in bytes, 1024 to 2^40.")
    var upstreamMaxBytes = String(UpstreamConfiguration.defaultMaxBytes)

    @Option(parsing: .unconditional, help: "Proxied requests in flight at once, 1 to 10000 (body, upstream and conversion); more get 503 upstream_busy before anything is forwarded.")
    var maxUpstreamRequests = String(UpstreamConfiguration.defaultMaxInFlight)

    @Option(parsing: .singleValue, help: ArgumentHelp("Download result URLs only from this host (repeatable; *.example.com for its subdomains); redirects are then not followed.", valueName: "host"))
    var resultHost: [String] = []

    @Flag(help: "Tests only: let result URLs be downloaded from 127.0.0.1 and ::1 (never other private, link-local or metadata addresses).")
    var allowLoopbackResults = false

    @Flag(inversion: .prefixedNo, help: "One line per request on standard output (method, path, status, bytes in and out, ms, request id).")
    var requestLog = true

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

    /// A line on standard output, written at once (the start line is what scripts wait for).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func run() async throws {
        DarkroomHTTPServer.configureAllocator()
        var configuration: DarkroomHTTPServer.Configuration
        do {
            typealias Bounds = DarkroomHTTPServer.Configuration
            configuration = try DarkroomHTTPServer.Configuration(
                host: host, port: try ValueParser.integer(port, name: "port", in: Bounds.portRange),
                maxBodyBytes: try ValueParser.integer(maxBodyBytes, name: "max-body-bytes", in: Bounds.maxBodyBytesRange),
                maxPixels: try ValueParser.pixelLimit(maxPixels),
                maxOutputPixels: try ValueParser.pixelLimit(maxOutputPixels, name: "max-output-pixels"),
                maxUpscale: try ValueParser.number(maxUpscale, name: "max-upscale", above: Bounds.maxUpscaleRange.lowerBound,
                                                   includingLower: true, atMost: Bounds.maxUpscaleRange.upperBound),
                maxAVIFPixels: try ValueParser.pixelLimit(maxAvifPixels, name: "max-avif-pixels"),
                workers: try workers.map { try ValueParser.integer($0, name: "workers", in: Bounds.workersRange) },
                queueSize: try queueSize.map { try ValueParser.integer($0, name: "queue-size", in: Bounds.queueSizeRange) },
                maxUploads: try maxUploads.map { try ValueParser.integer($0, name: "max-uploads", in: Bounds.maxUploadsRange) },
                requestTimeout: try ValueParser.number(requestTimeout, name: "request-timeout", above: 0,
                                                       atMost: Bounds.maxRequestTimeout, unit: " seconds"),
                minBodyRate: try ValueParser.integer(minBodyRate, name: "min-body-rate", in: Bounds.minBodyRateRange),
                retryAfter: try ValueParser.integer(retryAfter, name: "retry-after", in: Bounds.retryAfterRange))
            configuration.maxJPEGScans = try ValueParser.integer(maxJpegScans, name: "max-jpeg-scans", in: 1...Limits.maxJPEGScanLimit)
            configuration.upstream = try upstream.map {
                try UpstreamConfiguration(
                    url: $0,
                    timeout: try ValueParser.number(upstreamTimeout, name: "upstream-timeout", above: 0,
                                                    atMost: UpstreamConfiguration.maxTimeout, unit: " seconds"),
                    maxBytes: try ValueParser.integer(upstreamMaxBytes, name: "upstream-max-bytes", in: UpstreamConfiguration.maxBytesRange),
                    allowLoopbackResults: allowLoopbackResults,
                    maxInFlight: try ValueParser.integer(maxUpstreamRequests, name: "max-upstream-requests",
                                                         in: UpstreamConfiguration.maxInFlightRange),
                    apiKey: ProcessInfo.processInfo.environment["DARKROOM_UPSTREAM_API_KEY"],
                    resultHosts: resultHost)
            }
        } catch {
            FileHandle.standardError.write(Data("darkroom-server: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if requestLog {
            var log = Logger(label: "darkroom-server") { StreamLogHandler.standardOutput(label: $0) }
            log.logLevel = .info
            configuration.requestLog = log
        }
        let server = DarkroomHTTPServer.Server(configuration)
        let host = configuration.host
        let summary = "\(configuration.workers) workers, queue \(configuration.queueSize), uploads \(configuration.maxUploads)"
            + (configuration.upstream.map { ", upstream \($0.baseURL)" } ?? "")
        do {
            try await server.run { port in
                Self.say("darkroom-server \(CodecLibraries.darkroomVersion): listening on http://\(host):\(port) (\(summary))")
            }
        } catch {
            if let reason = Self.bindFailure(error) {
                FileHandle.standardError.write(Data("darkroom-server: cannot listen on \(host):\(configuration.port): \(reason)\n".utf8))
                throw ExitCode(1)
            }
            FileHandle.standardError.write(Data("darkroom-server: \(error)\n".utf8))
            throw ExitCode(1)
        }
        Self.say("darkroom-server: shut down (drained)")
    }

    /// A plain reason for an error binding the listening socket, or nil for another error.
    static func bindFailure(_ error: any Error) -> String? {
        guard let io = Self.ioError(error) else { return nil }
        switch io.errnoCode {
        case EADDRINUSE: return "the address is already in use (another server listens there; choose another --port, or --port 0 for a free one)"
        case EADDRNOTAVAIL: return "the address is not one of this machine's (check --host)"
        case EACCES: return "permission denied (ports below 1024 need privileges)"
        default: return String(cString: strerror(io.errnoCode))
        }
    }

    /// The `IOError` in `error` (NIO's bind error), looking through the service group's wrapping.
    static func ioError(_ error: any Error) -> IOError? {
        if let io = error as? IOError { return io }
        let mirror = Mirror(reflecting: error)
        for child in mirror.children {
            if let inner = child.value as? any Error, let io = ioError(inner) { return io }
        }
        return nil
    }
}
