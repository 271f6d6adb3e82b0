import ArgumentParser
import Darkroom
import DarkroomHTTP

@main
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darkroom-server",
        abstract: "Serve Darkroom's conversion stage over HTTP for gateways not written in Swift.",
        discussion: """
            POST /v1/convert?output_format=webp&output_compression=80 with image bytes returns the \
            converted image; POST /v1/references prepares a reference image (fit within 4 MP); \
            POST /v1/size resolves size/aspect_ratio/resolution; GET /healthz. Errors are \
            OpenAI-style JSON. See the README for the full route table.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = 64 << 20

    @Option(help: "Refuse images with more pixels than this (checked before decoding).")
    var maxPixels = DecodeOptions.defaultMaxPixels

    func run() async throws {
        let app = DarkroomHTTPServer.application(.init(host: host, port: port, maxBodyBytes: maxBodyBytes, maxPixels: maxPixels))
        try await app.runService()
    }
}
