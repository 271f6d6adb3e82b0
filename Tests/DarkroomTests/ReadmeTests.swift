import Foundation
import Testing

/// The README's CLI reference follows `--help`: the `convert` block is `darkroom convert --help`
/// verbatim (at 100 columns), and every option of every other command is named in its section.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"))
struct ReadmeTests {
    static let readme: String = {
        let url = TestImages.root.deletingLastPathComponent().appendingPathComponent("README.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// `darkroom <command> --help` as printed at 100 columns.
    static func help(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = [command, "--help"]
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "100"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let watchdog = CLI.Watchdog(process, timeLimit: 60)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.finish("\(command) --help")
        return String(decoding: data, as: UTF8.self)
    }

    /// The README text from `### \`darkroom <command>\`` up to the next heading of level 2 or 3.
    static func section(_ command: String) throws -> Substring {
        let heading = "### `darkroom \(command)`\n"
        let start = try #require(readme.range(of: heading), "README has no section \(heading)")
        let rest = readme[start.upperBound...]
        let end = rest.range(of: "\n### ")?.lowerBound ?? rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return rest[..<end]
    }

    @Test func convertReferenceIsTheHelpVerbatim() throws {
        let help = try Self.help("convert")
        let usage = try #require(help.range(of: "USAGE"))
        var expected = String(help[usage.lowerBound...])
        while expected.hasSuffix("\n") { expected.removeLast() }
        expected += "\n"
        let section = try Self.section("convert")
        let open = try #require(section.range(of: "```\n"))
        let close = try #require(section[open.upperBound...].range(of: "```"))
        let block = String(section[open.upperBound..<close.lowerBound])
        #expect(block == expected, "regenerate README's convert block from `COLUMNS=100 darkroom convert --help`")
    }

    @Test(arguments: ["decode", "prep-refs", "size", "cost", "bench"])
    func everyOptionIsNamedInItsSection(_ command: String) throws {
        let help = try Self.help(command)
        // `decode` takes every conversion flag, which the `convert` section lists.
        let section = try Self.section(command) + (command == "decode" ? Self.section("convert") : "")
        // Long options as `--help` lists them: option lines are indented by two spaces exactly
        // (wrapped descriptions are indented further); the first `--` token of each.
        let options = help.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  -") else { return nil }
            return line.split(separator: " ").lazy.map(String.init).first { $0.hasPrefix("--") }?
                .trimmingCharacters(in: CharacterSet(charactersIn: ","))
        }
        #expect(!options.isEmpty, "no options parsed from `\(command) --help`")
        for option in options where option != "--help" && option != "--version" {
            #expect(section.contains(option), "README's `darkroom \(command)` section does not name \(option)")
        }
    }
}
