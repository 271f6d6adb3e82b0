import Foundation
import Testing

/// The user documentation follows the code: every help block of the CLI reference (`docs/cli/*.md`)
/// is `COLUMNS=100 darkroom <command> --help` verbatim from its `USAGE:` line (regenerate them with
/// `scripts/gen-cli-docs.sh`), every subcommand has its page, README.md stays a front page, and
/// every relative link of README.md, CONTRIBUTING.md and `docs/` points to a file (and heading)
/// that exists.
@Suite struct CLIReferenceTests {
    static let root = TestSupport.packageRoot
    static let cliPages = root.appendingPathComponent("docs/cli")

    /// The Markdown files of `docs/cli`, by name.
    static let pageNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cliPages.path)) ?? []
        return names.filter { $0.hasSuffix(".md") }.sorted()
    }()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// `darkroom <arguments> --help` as printed at 100 columns.
    static func help(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments + ["--help"]
        process.environment = ProcessInfo.processInfo.environment.merging(["COLUMNS": "100"]) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let what = (["darkroom"] + arguments + ["--help"]).joined(separator: " ")
        let watchdog = CLI.Watchdog(process, timeLimit: 60)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.finish(what)
        return String(decoding: data, as: UTF8.self)
    }

    /// The help from its `USAGE:` line on, ending in exactly one newline: what a help block holds.
    static func usageOn(_ help: String) -> String? {
        let start: String.Index
        if help.hasPrefix("USAGE: ") {
            start = help.startIndex
        } else if let line = help.range(of: "\nUSAGE: ") {
            start = help.index(after: line.lowerBound)
        } else {
            return nil
        }
        var text = String(help[start...])
        while text.hasSuffix("\n") { text.removeLast() }
        return text + "\n"
    }

    /// The subcommands a help text lists under `SUBCOMMANDS:` (names indented by two spaces exactly;
    /// wrapped descriptions are indented further, and the closing "See 'darkroom help …'" line is
    /// not a name followed by a column gap).
    static func subcommands(_ help: String) -> [String] {
        guard let section = help.range(of: "\nSUBCOMMANDS:\n") else { return [] }
        return help[section.upperBound...].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            let name = line.dropFirst(2).prefix { $0 != " " }
            guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0 == "-" }),
                  line.dropFirst(2 + name.count).hasPrefix("  ") else { return nil }
            return String(name)
        }
    }

    /// A help block of a page: the command its begin marker names and the fenced text it holds.
    struct HelpBlock {
        var command: [String]
        var text: String
        var line: Int
    }

    /// The blocks between `<!-- help:begin darkroom ARGS -->` and `<!-- help:end -->`.
    static func helpBlocks(_ page: String) throws -> [HelpBlock] {
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var blocks: [HelpBlock] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard line.hasPrefix("<!-- help:begin darkroom"), line.hasSuffix(" -->") else { continue }
            let command = line.dropFirst("<!-- help:begin darkroom".count).dropLast(" -->".count)
                .split(separator: " ").map(String.init)
            try #require(index < lines.count && lines[index] == "```", "line \(index): the begin marker is not followed by ```")
            index += 1
            var body: [String] = []
            while index < lines.count, lines[index] != "```" {
                body.append(lines[index])
                index += 1
            }
            try #require(index + 1 < lines.count && lines[index + 1] == "<!-- help:end -->",
                         "line \(index + 1): the block is not closed by ``` and <!-- help:end -->")
            blocks.append(HelpBlock(command: command, text: body.map { $0 + "\n" }.joined(), line: index))
            index += 2
        }
        return blocks
    }

    // MARK: - Help blocks

    @Test(.enabled(if: CLI.binaryExists, "needs .build/debug/darkroom: run `swift build` first (scripts/test.sh does)"),
          arguments: pageNames)
    func everyHelpBlockIsTheHelpVerbatim(_ name: String) throws {
        let blocks = try Self.helpBlocks(try Self.text("docs/cli/\(name)"))
        #expect(!blocks.isEmpty, "docs/cli/\(name) has no <!-- help:begin darkroom … --> block")
        for block in blocks {
            let command = (["darkroom"] + block.command).joined(separator: " ")
            let expected = try #require(Self.usageOn(try Self.help(block.command)), "`\(command) --help` printed no USAGE line")
            #expect(block.text == expected,
                    "docs/cli/\(name): the block of `\(command)` is not its help: run scripts/gen-cli-docs.sh")
        }
    }

    @Test(.enabled(if: CLI.binaryExists, "needs .build/debug/darkroom: run `swift build` first (scripts/test.sh does)"))
    func everySubcommandHasItsPage() throws {
        let commands = Self.subcommands(try Self.help([]))
        #expect(commands.count >= 6 && commands.contains("convert") && commands.contains("bench"),
                "the subcommands parsed from `darkroom --help`: \(commands)")
        let rootBlocks = try Self.helpBlocks(try Self.text("docs/cli/darkroom.md"))
        #expect(rootBlocks.map(\.command) == [[]], "docs/cli/darkroom.md should hold the block of `darkroom` itself")
        for command in commands {
            let name = "darkroom-\(command).md"
            guard Self.pageNames.contains(name) else {
                Issue.record("docs/cli/\(name) is missing (one page per subcommand of `darkroom --help`)")
                continue
            }
            let documented = try Self.helpBlocks(try Self.text("docs/cli/\(name)")).map(\.command)
            // A command with subcommands of its own (bench) shows each of them on its page too.
            let expected = [[command]] + Self.subcommands(try Self.help([command])).map { [command, $0] }
            for wanted in expected {
                #expect(documented.contains(wanted), "docs/cli/\(name) has no help block of `darkroom \(wanted.joined(separator: " "))`")
            }
            let readme = try Self.text("README.md")
            #expect(readme.contains("(docs/cli/\(name))"), "README.md does not link docs/cli/\(name)")
        }
    }

    // MARK: - README

    @Test func readmeIsAFrontPage() throws {
        let readme = try Self.text("README.md")
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).count - (readme.hasSuffix("\n") ? 1 : 0)
        #expect(lines <= 250, "README.md has \(lines) lines; move details to docs/ (at most 250)")
        let start = try #require(readme.range(of: "\n## Quick start\n"), "README.md has no Quick start section")
        let rest = readme[start.upperBound...]
        let quickStart = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        for command in ["scripts/demo.sh", "scripts/test.sh"] {
            #expect(quickStart.contains("\n\(command) "), "README.md's quick start does not name \(command)")
        }
    }

    // MARK: - Links

    /// GitHub's anchor of a heading: lower case, punctuation and symbols dropped, spaces as hyphens.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().compactMap { c -> Character? in
            if c == " " { return "-" }
            return c.isLetter || c.isNumber || c == "-" || c == "_" ? c : nil
        })
    }

    /// The anchors of a Markdown file's headings (outside fenced blocks); repeats get -1, -2, ….
    static func anchors(_ text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var result: Set<String> = []
        var fenced = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") { fenced.toggle(); continue }
            guard !fenced, line.hasPrefix("#") else { continue }
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            let slug = anchor(title)
            let count = seen[slug, default: 0]
            seen[slug] = count + 1
            result.insert(count == 0 ? slug : "\(slug)-\(count)")
        }
        return result
    }

    /// `[text](target)` targets outside fenced blocks, with their line numbers.
    static func links(_ text: String) -> [(target: String, line: Int)] {
        var found: [(String, Int)] = []
        var fenced = false
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("```") { fenced.toggle(); continue }
            guard !fenced else { continue }
            var rest = line[...]
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                found.append((String(after[..<close]), number + 1))
                rest = after[after.index(after: close)...]
            }
        }
        return found
    }

    /// README.md, CONTRIBUTING.md and every Markdown file under docs/.
    static func documents() -> [String] {
        let docs = root.appendingPathComponent("docs")
        let files = FileManager.default.enumerator(atPath: docs.path)?.compactMap { $0 as? String } ?? []
        return ["README.md", "CONTRIBUTING.md"] + files.filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
    }

    @Test func everyRelativeLinkResolves() throws {
        let documents = Self.documents()
        #expect(documents.contains("docs/cli/darkroom-convert.md") && documents.contains("docs/performance.md"),
                "docs/ not found: \(documents)")
        for document in documents {
            let text = try Self.text(document)
            let folder = document.lastIndex(of: "/").map { String(document[..<$0]) + "/" } ?? ""
            for (target, line) in Self.links(text) {
                if target.contains("://") || target.hasPrefix("mailto:") { continue }
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let path = parts[0], fragment = parts.count > 1 ? parts[1] : nil
                let place = "\(document):\(line): \(target)"
                var linked = text
                if !path.isEmpty {
                    let resolved = Self.root.appendingPathComponent(folder + path).standardized
                    #expect(resolved.path.hasPrefix(Self.root.standardized.path + "/"), "\(place) leaves the repository")
                    guard FileManager.default.fileExists(atPath: resolved.path) else {
                        Issue.record("\(place): no such file")
                        continue
                    }
                    guard fragment != nil, resolved.pathExtension == "md" else { continue }
                    linked = try String(contentsOf: resolved, encoding: .utf8)
                }
                if let fragment {
                    #expect(Self.anchors(linked).contains(fragment), "\(place): no heading with that anchor")
                }
            }
        }
    }
}
