import Foundation
import Testing

/// docs/server.md's help block is `COLUMNS=100 darkroom-server --help` verbatim from its USAGE line
/// on (as CLIReferenceTests keeps docs/cli/ equal to `darkroom`'s help).
@Suite struct ServerHelpTests {
    /// The Server package's root (this file is Server/Tests/DarkroomHTTPTests/ServerHelpTests.swift).
    static let serverRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func docsServerPageHoldsTheHelpVerbatim() throws {
        let binary = Self.serverRoot.appendingPathComponent(".build/debug/darkroom-server").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build darkroom-server first (scripts/test.sh does)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--help"]
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "100"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let help = String(decoding: data, as: UTF8.self)
        let usage = try #require(help.range(of: "USAGE: "))
        var expected = String(help[usage.lowerBound...])
        while expected.hasSuffix("\n") { expected.removeLast() }
        let page = try String(contentsOf: Self.serverRoot.deletingLastPathComponent().appendingPathComponent("docs/server.md"),
                              encoding: .utf8)
        let begin = try #require(page.range(of: "<!-- help:begin darkroom-server -->\n```\n"))
        let end = try #require(page[begin.upperBound...].range(of: "\n```\n<!-- help:end -->"))
        #expect(String(page[begin.upperBound..<end.lowerBound]) == expected,
                "regenerate docs/server.md's help block from `COLUMNS=100 darkroom-server --help`")
    }
}
