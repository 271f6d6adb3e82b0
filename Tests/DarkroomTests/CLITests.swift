import Foundation
import Testing
@testable import Darkroom

/// Runs the built `darkroom` binary: exit codes, error lines, no partial output, no overwrite.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"))
struct CLITests {
    @Test func convertsToEveryFormat() throws {
        let dir = try CLI.tempDir()
        for format in ImageFormat.allCases {
            let out = dir + "/photo." + format.fileExtension
            let r = try CLI.run(["convert", TestImages.root.path + "/kodim23.jpg", "-f", format.rawValue, "-o", out])
            #expect(r.status == 0, "\(r.stderr)")
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
            #expect(ImageFormat.sniff(bytes) == format)
        }
    }

    /// An output that already exists is refused before the input is read (new-user report: a
    /// large AVIF was converted for 9 s before "already exists"): with a non-image input the
    /// error is the output's, and the existing file is untouched.
    @Test func anExistingOutputIsRefusedBeforeTheInputIsRead() throws {
        let dir = try CLI.tempDir()
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: dir + "/junk.png"))
        try Data("keep".utf8).write(to: URL(fileURLWithPath: dir + "/out.webp"))
        let r = try CLI.run(["convert", dir + "/junk.png", "-f", "webp", "-o", dir + "/out.webp"])
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: \(dir)/junk.png: \(dir)/out.webp already exists (use --overwrite to replace it)\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.webp")) == Data("keep".utf8))
        let again = try CLI.run(["convert", dir + "/junk.png", "-f", "webp", "-o", dir + "/out.webp", "--overwrite"])
        #expect(again.status == 1 && again.stderr.contains("not a PNG, JPEG, WebP, AVIF or GIF file"), "\(again.stderr)")
    }

    @Test func formatFollowsTheOutputExtension() throws {
        let dir = try CLI.tempDir()
        let r = try CLI.run(["convert", TestImages.root.path + "/rgba.png", "-o", dir + "/x.webp"])
        #expect(r.status == 0)
        #expect(ImageFormat.sniff(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/x.webp")))) == .webp)
    }

    /// JPEG is written without Huffman optimisation unless `--optimize-coding` is given, with or
    /// without `--fast` (`--fast` changes the decode scale, not the entropy coding). The pixels are
    /// the same either way (only the entropy coding differs).
    @Test func jpegIsWrittenWithoutHuffmanOptimisationUnlessAsked() throws {
        let dir = try CLI.tempDir()
        func bytes(_ flags: [String], _ name: String) throws -> [UInt8] {
            let out = dir + "/" + name + ".jpg"
            let r = try CLI.run(["convert", TestImages.root.path + "/kodim23.jpg", "--resize", "50%", "-q", "80", "-o", out] + flags)
            #expect(r.status == 0, "\(flags): \(r.stderr)")
            return try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
        }
        let fast = try bytes(["--fast"], "fast")
        let fastPlain = try bytes(["--fast", "--no-optimize-coding"], "fast-plain")
        let fastOptimized = try bytes(["--fast", "--optimize-coding"], "fast-optimized")
        let normal = try bytes([], "normal")
        let normalOptimized = try bytes(["--optimize-coding"], "normal-optimized")
        let normalPlain = try bytes(["--no-optimize-coding"], "normal-plain")
        #expect(fast == fastPlain)
        #expect(normal == normalPlain)
        #expect(fastOptimized.count < fastPlain.count)
        #expect(normalOptimized.count < normal.count)
        let a = try ImageDecoder.decode(fastPlain).image, b = try ImageDecoder.decode(fastOptimized).image
        #expect(a == b)
        let c = try ImageDecoder.decode(normalPlain).image, d = try ImageDecoder.decode(normalOptimized).image
        #expect(c == d)
    }

    @Test func doesNotOverwriteWithoutPermission() throws {
        let dir = try CLI.tempDir()
        let out = dir + "/out.png"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))
        let r = try CLI.run(["convert", TestImages.root.path + "/rgba.png", "-o", out])
        #expect(r.status == 1)
        #expect(r.stderr.contains("already exists"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me")
        let again = try CLI.run(["convert", TestImages.root.path + "/rgba.png", "-o", out, "--overwrite"])
        #expect(again.status == 0)
        #expect(ImageFormat.sniff(try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))) == .png)
    }

    @Test func badInputLeavesNoFileAndSaysWhy() throws {
        let dir = try CLI.tempDir()
        let bad = dir + "/broken.jpg"
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A]).write(to: URL(fileURLWithPath: bad))
        let r = try CLI.run(["convert", bad, TestImages.root.path + "/rgba.png", "-f", "png", "--out-dir", dir + "/out"])
        #expect(r.status == 1, "one input failed, the other succeeded")
        #expect(r.stderr.hasPrefix("darkroom: \(bad): cannot decode jpeg"))
        let made = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        #expect(made == ["rgba.png"], "no partial or temporary file: \(made)")
    }

    @Test func usageErrorsExitWithTwo() throws {
        #expect(try CLI.run(["convert", "x.png", "-f", "bmp"]).status == 2)
        #expect(try CLI.run(["convert", "x.png", "-q", "101", "-f", "jpeg"]).status == 2)
        #expect(try CLI.run(["convert", "--no-such-flag"]).status == 2)
        #expect(try CLI.run(["convert", "a.png", "b.png", "-o", "c.png"]).status == 2)
    }

    @Test func strictOpenAIModeUsesOpenAIsError() throws {
        let dir = try CLI.tempDir()
        let r = try CLI.run(["convert", TestImages.root.path + "/rgba.png", "-f", "png", "-q", "50", "--strict-openai", "-o", dir + "/a.png"])
        #expect(r.status == 2)   // the request is refused before any file is read
        #expect(r.stderr == "darkroom: Compression less than 100 is not supported for PNG output format (invalid_png_output_compression)\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.png"))
    }

    /// Issue #9: `--strict-openai` and the gateway give the same answer for the same request,
    /// because both call `GatewayRequest.validate(strictOpenAI:)`.
    @Test(arguments: [("png", "50"), ("gif", "50"), ("gif", "100"), ("jpeg", "50"), ("webp", "0"), ("png", "100")])
    func strictOpenAIAgreesWithTheGateway(format: String, quality: String) throws {
        let dir = try CLI.tempDir()
        let cli = try CLI.run(["convert", TestImages.root.path + "/rgba.png", "-f", format, "-q", quality,
                               "--strict-openai", "-o", dir + "/out." + format])
        var gatewayError: DarkroomError?
        do {
            _ = try GatewayRequest(form: ["output_format": format, "output_compression": quality], strictOpenAI: true)
        } catch {
            gatewayError = error
        }
        if let gatewayError {
            #expect(cli.status == 2)
            #expect(cli.stderr == "darkroom: \(gatewayError)\n")
        } else {
            #expect(cli.status == 0, "\(cli.stderr)")
        }
        // Without -f the output format is the input's (PNG here): refused per file, same text.
        if format == "png" {
            let kept = try CLI.run(["convert", TestImages.root.path + "/rgba.png", "-q", quality, "--strict-openai",
                                    "-o", dir + "/kept.png"])
            #expect(kept.status == (gatewayError == nil ? 0 : 2))
        }
    }

    @Test func readsStdinAndWritesStdout() throws {
        let input = try Data(contentsOf: TestImages.root.appendingPathComponent("rgba.png"))
        let r = try CLI.run(["convert", "-", "-f", "gif", "-o", "-"], stdin: input)
        #expect(r.status == 0)
        #expect(ImageFormat.sniff([UInt8](r.stdoutData)) == .gif)
    }

    @Test func jsonReportDescribesEveryInput() throws {
        let dir = try CLI.tempDir()
        let r = try CLI.run(["convert", TestImages.root.path + "/hopper-orientation-6.jpg", "missing.png",
                             "-f", "webp", "--out-dir", dir, "--json"])
        #expect(r.status == 1)
        let (lines, summary) = try CLI.jsonLines(r.stdoutData)
        // In the order they finish (each carries its index in the run).
        let items = lines.sorted { ($0["index"] as? Int ?? 0) < ($1["index"] as? Int ?? 0) }
        #expect(items.map { $0["index"] as? Int } == [0, 1])
        #expect(items.count == 2)
        #expect(summary["ok"] as? Int == 1 && summary["failed"] as? Int == 1 && summary["inputs"] as? Int == 2)
        #expect(items[0]["ok"] as? Bool == true)
        #expect(items[0]["orientation"] as? Int == 6)
        #expect(items[0]["format"] as? String == "webp")
        #expect(items[1]["ok"] as? Bool == false)
        #expect((items[1]["error"] as? String)?.contains("no such file") == true)
    }
}

/// The CLI suites are enabled only when the binary is built; this test makes a missing binary a
/// failure rather than a silent skip (scripts/test.sh builds it before `swift test`).
@Test func cliBinaryIsBuilt() {
    #expect(CLI.binaryExists, "\(CLI.binary) is missing: run `swift build` first (scripts/test.sh does)")
}

enum CLI {
    static let binary = TestSupport.packageRoot.appendingPathComponent(".build/debug/darkroom").path

    static var binaryExists: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    struct Result { var status: Int32; var stdoutData: Data; var stderr: String }

    /// `--json` output of a batch: one object per input, then `{"summary": {...}}` (JSON Lines).
    static func jsonLines(_ data: Data) throws -> (items: [[String: Any]], summary: [String: Any]) {
        var items: [[String: Any]] = []
        var summary: [String: Any] = [:]
        for line in data.split(separator: UInt8(ascii: "\n")) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            if let s = object["summary"] as? [String: Any] { summary = s } else { items.append(object) }
        }
        return (items, summary)
    }

    /// Runs the binary to its end; see ``collect(_:stdout:stderr:stdin:what:timeLimit:sourceLocation:)``.
    static func run(_ arguments: [String], stdin: Data? = nil, in directory: URL? = nil, environment: [String: String]? = nil,
                    timeLimit: Double = 300, sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        return try collect(process, stdout: out, stderr: err, stdin: (input, stdin ?? Data()),
                           what: arguments.joined(separator: " "), timeLimit: timeLimit, sourceLocation: sourceLocation)
    }

    /// Waits for a started `process` and returns what it wrote. Both pipes are drained at once
    /// (stderr on a thread of its own), so a child that fills one while the test reads the other
    /// cannot deadlock; `stdin`'s bytes are written, then its pipe closed; a child still running
    /// after `timeLimit` seconds is killed and the test fails, instead of hanging the run.
    static func collect(_ process: Process, stdout out: Pipe, stderr err: Pipe, stdin: (pipe: Pipe, bytes: Data)? = nil,
                        what: String, timeLimit: Double = 300,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let watchdog = Watchdog(process, timeLimit: timeLimit)
        let stderrData = Locked(Data())
        let stderrDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            stderrData.value = err.fileHandleForReading.readDataToEndOfFile()
            stderrDone.signal()
        }
        if let stdin {
            if !stdin.bytes.isEmpty { stdin.pipe.fileHandleForWriting.write(stdin.bytes) }
            try stdin.pipe.fileHandleForWriting.close()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        stderrDone.wait()
        process.waitUntilExit()
        watchdog.finish(what, sourceLocation: sourceLocation)
        return Result(status: process.terminationStatus, stdoutData: stdoutData,
                      stderr: String(decoding: stderrData.value, as: UTF8.self))
    }

    /// Kills a child still running `timeLimit` seconds after it started; `finish` (after the child
    /// exited) records an issue if it had to. A hung child fails its test instead of the whole run.
    final class Watchdog: @unchecked Sendable {
        private let item: DispatchWorkItem
        private let fired = Locked(false)
        let timeLimit: Double

        init(_ process: Process, timeLimit: Double = 300) {
            self.timeLimit = timeLimit
            let pid = process.processIdentifier, fired = self.fired
            item = DispatchWorkItem {
                fired.value = true
                kill(pid, SIGKILL)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeLimit, execute: item)
        }

        func finish(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            item.cancel()
            if fired.value {
                Issue.record("\(what): still running after \(Int(timeLimit)) s, killed", sourceLocation: sourceLocation)
            }
        }
    }

    /// A value handed from one thread to another under a lock.
    final class Locked<Value>: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Value
        init(_ value: Value) { stored = value }
        var value: Value {
            get { lock.withLock { stored } }
            set { lock.withLock { stored = newValue } }
        }
    }

    /// ``TestSupport/tempDir()`` as a path.
    static func tempDir() throws -> String { try TestSupport.tempDir().path }
}
