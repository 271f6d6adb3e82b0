import Darkroom
import Foundation
import Testing

/// `darkroom decode --download` with DarkroomFetch: every forbidden kind of URL is refused
/// against a live server on this machine (which the old curl-based download reached), with a
/// message that names the URL, and nothing is requested from the server.
@Suite struct FetchCLITests {
    static let refusal = "(downloads may not reach private, loopback, link-local or metadata addresses)"

    @Test func forbiddenURLsAreRefusedAndNeverRequested() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let port = server.port
        let dir = try TestSupport.tempDir()
        let image = dir.appendingPathComponent("local.png")
        try Data(GatewayFixtures.redPixelPNG).write(to: image)
        let urls = [
            "http://127.0.0.1:\(port)/small.png", "http://[::1]:\(port)/small.png", "http://localhost:\(port)/small.png",
            "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]:\(port)/small.png", "http://0.0.0.0:\(port)/small.png",
            "http://127.0.0.1:\(port)/redirect?to=http://93.184.216.34/", image.absoluteString,
            "ftp://127.0.0.1:\(port)/small.png", "gopher://127.0.0.1:\(port)/_GET%20/small.png",
        ]
        let response = dir.appendingPathComponent("r.json")
        let items = urls.map { #"{"url":"\#($0)"}"# }.joined(separator: ",")
        try Data(#"{"created":5,"data":[\#(items)]}"#.utf8).write(to: response)
        let out = dir.appendingPathComponent("out")
        let r = try GatewayCLI.run(["decode", response.path, "--out-dir", out.path, "--download"])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == urls.count, "\(r.stderr)")
        func line(_ i: Int) -> String { lines.first { $0.hasPrefix("darkroom: \(response.path): item \(i): ") } ?? "(none for item \(i))" }
        #expect(line(0).hasSuffix("item 0: download failed: \(urls[0]): refused: 127.0.0.1 is a loopback address \(Self.refusal)"))
        #expect(line(1).hasSuffix("item 1: download failed: \(urls[1]): refused: ::1 is a loopback address \(Self.refusal)"))
        #expect(line(2).contains("item 2: download failed: \(urls[2]): refused: ") && line(2).contains("is a loopback address"))
        #expect(line(3).hasSuffix("item 3: download failed: \(urls[3]): refused: 169.254.169.254 is a cloud metadata address \(Self.refusal)"))
        #expect(line(4).hasSuffix("refused: ::ffff:127.0.0.1 is a loopback address \(Self.refusal)"))
        #expect(line(5).hasSuffix("refused: 0.0.0.0 is an unspecified address \(Self.refusal)"))
        #expect(line(6).contains("item 6: download failed: \(urls[6]): refused: 127.0.0.1 is a loopback address"))
        #expect(line(7).hasSuffix("item 7: \(urls[7]): refused: file:// URLs (local files) are read only with --allow-file-urls"))
        #expect(line(8).hasSuffix("item 8: '\(urls[8])' is not an http(s) URL"))
        #expect(line(9).hasSuffix("item 9: '\(urls[9])' is not an http(s) URL"))
        #expect(server.paths.isEmpty, "requested: \(server.paths)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("5-7.png").path))

        // With --allow-file-urls the local file is read (and only it: the rest is refused as before).
        let allowed = try GatewayCLI.run(["decode", response.path, "--out-dir", out.path, "--download", "--allow-file-urls", "--json"])
        #expect(allowed.status == 1)
        #expect([UInt8](try Data(contentsOf: out.appendingPathComponent("5-7.png"))) == GatewayFixtures.redPixelPNG)
        #expect(allowed.stderr.split(separator: "\n").count == urls.count - 1, "\(allowed.stderr)")
        #expect(server.paths.isEmpty)
    }

    /// Proxies named in the environment are not used: the CLI connects (here: would connect)
    /// directly, so the address refused is the target's, not the proxy's on 127.0.0.1, and the
    /// proxy (the test server) is never asked.
    @Test func environmentProxiesAreIgnored() throws {
        let server = try FetchTestServer()
        defer { server.stop() }
        let dir = try TestSupport.tempDir()
        let response = dir.appendingPathComponent("r.json")
        let url = "http://192.0.2.1/x.png"
        try Data(#"{"created":5,"data":[{"url":"\#(url)"}]}"#.utf8).write(to: response)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["decode", response.path, "--out-dir", dir.appendingPathComponent("out").path, "--download"]
        var environment = ProcessInfo.processInfo.environment
        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            environment[name] = "http://127.0.0.1:\(server.port)"
        }
        environment["no_proxy"] = nil
        environment["NO_PROXY"] = nil
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let r = try CLI.collect(process, stdout: out, stderr: err, what: "decode --download with proxies in the environment", timeLimit: 60)
        #expect(r.status == 1)
        #expect(r.stderr.contains("item 0: download failed: \(url): refused: 192.0.2.1 is a reserved (special-purpose) address"), "\(r.stderr)")
        #expect(server.paths.isEmpty)
    }

    /// The flag is documented where a user looks for it.
    @Test func helpNamesTheFlag() throws {
        let r = try GatewayCLI.run(["decode", "--help"])
        #expect(r.stdout.contains("--allow-file-urls"))
    }
}
