import Foundation
import Testing
@testable import Darkroom

/// Faults around files and streams, checked on the built `darkroom` binary: full disks, read-only
/// folders, broken and full standard output, signals mid-batch, oversized input, output paths
/// that collide with each other or with the inputs.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"), .serialized)
struct CLIFaultTests {
    static let kodim = TestImages.root.path + "/kodim23.jpg"
    static let rgba = TestImages.root.path + "/rgba.png"
    static var isRoot: Bool { getuid() == 0 }

    // MARK: helpers

    /// Copies a test image to `dir/name`.
    static func copy(_ source: String, to dir: String, as name: String) throws -> String {
        let path = (dir as NSString).appendingPathComponent(name)
        try FileManager.default.copyItem(atPath: source, toPath: path)
        return path
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Visible and hidden names in a folder.
    static func listing(_ dir: String) throws -> (visible: [String], hidden: [String]) {
        let all = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        return (all.filter { !$0.hasPrefix(".") }, all.filter { $0.hasPrefix(".") })
    }

    /// Every file decodes completely (no partial output).
    static func expectDecodable(_ paths: [String]) throws {
        for path in paths {
            let data = try bytes(path)
            #expect(ImageFormat.sniff(data) != nil, "\(path)")
            #expect(throws: Never.self, "\(path) must decode") { _ = try ImageDecoder.decode(data) }
        }
    }

    /// Runs `/bin/sh -c script` (the binary is `$DR`).
    static func shell(_ script: String) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(["DR": CLI.binary]) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return try CLI.collect(process, stdout: out, stderr: err, what: "sh -c \(script)")
    }

    /// Runs the binary with the given file handles as stdout / stderr.
    static func run(_ arguments: [String], stdout: Any, stderr: Any) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let watchdog = CLI.Watchdog(process)
        process.waitUntilExit()
        watchdog.finish(arguments.joined(separator: " "))
        return process.terminationStatus
    }

    static func mount(_ args: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/mount")
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    static func umount(_ dir: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = [dir]
        try? process.run()
        process.waitUntilExit()
    }

    // MARK: disks and folders

    @Test(.enabled(if: CLIFaultTests.isRoot, "needs root to mount a 2 MB tmpfs"))
    func diskFullFailsCleanly() throws {
        let dir = try CLI.tempDir()
        let mnt = dir + "/full"
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        guard Self.mount(["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt]) else {
            // Root without CAP_SYS_ADMIN (a container): nothing to test here; say so in the log.
            print("diskFullFailsCleanly: not run, mount -t tmpfs failed")
            return
        }
        defer { Self.umount(mnt) }
        // Six ~1 MB PNGs into 2 MB: the first fits, later ones hit ENOSPC.
        var inputs: [String] = []
        for i in 0..<6 { inputs.append(try Self.copy(Self.kodim, to: dir, as: "shot\(i).jpg")) }
        let r = try CLI.run(["convert"] + inputs + ["-f", "png", "--out-dir", mnt, "-j", "1"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        let (visible, hidden) = try Self.listing(mnt)
        #expect(hidden.isEmpty, "temporaries left: \(hidden)")
        #expect(!visible.isEmpty && visible.count < 6, "\(visible)")
        try Self.expectDecodable(visible.map { mnt + "/" + $0 })
        // decode streams each image into a pending file: one that fills the disk half-way falls
        // back to memory and fails as before, naming its output; the first one is whole.
        for name in visible { try FileManager.default.removeItem(atPath: mnt + "/" + name) }
        let png = try ImageEncoder.encode(FailOnTests.noise(width: 600, height: 600), as: .png)   // ~1 MB
        let items = (0..<4).map { _ in #"{"b64_json":""# + Data(png).base64EncodedString() + #""}"# }
        let response = dir + "/four.json"
        try Data((#"{"created":5,"data":["# + items.joined(separator: ",") + "]}").utf8).write(to: URL(fileURLWithPath: response))
        let d = try CLI.run(["decode", response, "--out-dir", mnt])
        #expect(d.status == 1)
        #expect(d.stderr.contains("darkroom: \(response): item 1: \(mnt)/5-1.png: No space left on device"), "\(d.stderr)")
        let after = try Self.listing(mnt)
        #expect(after.hidden.isEmpty, "temporaries left: \(after.hidden)")
        #expect(after.visible == ["5-0.png"])
        #expect(try Self.bytes(mnt + "/5-0.png") == png)
    }

    /// A response without an image fails and says why on standard error, not only in `--json`.
    @Test func aResponseWithNoImageSaysSo() throws {
        let dir = try TestSupport.tempDir().path
        let response = dir + "/empty.json"
        try Data(#"{"created":1,"data":[]}"#.utf8).write(to: URL(fileURLWithPath: response))
        let run = try CLI.run(["decode", response, "--out-dir", dir + "/out"])
        #expect(run.status == 1)
        #expect(run.stderr == "darkroom: \(response): the response holds no image (its data list is empty)\n", "\(run.stderr)")
    }

    @Test func readOnlyFolderIsReported() throws {
        let dir = try CLI.tempDir()
        let ro = dir + "/ro"
        try FileManager.default.createDirectory(atPath: ro, withIntermediateDirectories: true)
        var mounted = false
        if Self.isRoot {
            // Root ignores permission bits: a read-only mount is the only read-only folder.
            guard Self.mount(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro]) else {
                print("readOnlyFolderIsReported: not run, mount -t tmpfs -o ro failed")
                return
            }
            mounted = true
        } else {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: ro)
        }
        defer { if mounted { Self.umount(ro) } }
        let r = try CLI.run(["convert", Self.rgba, "-o", ro + "/x.webp"])
        #expect(r.status == 1)
        #expect(r.stderr.contains(mounted ? "Read-only file system" : "Permission denied"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ro).isEmpty)
        // decode cannot make its pending file there either: the item fails as before, naming its output.
        let response = TestImages.root.path + "/responses/b64-single.json"
        let d = try CLI.run(["decode", response, "--out-dir", ro])
        #expect(d.status == 1)
        #expect(d.stderr == "darkroom: \(response): item 0: \(ro)/1700000000-0.png: \(mounted ? "Read-only file system" : "Permission denied")\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ro).isEmpty)
    }

    @Test func outputThatIsAFolderIsNeverReplaced() throws {
        let dir = try CLI.tempDir()
        let folder = dir + "/render.png"
        try FileManager.default.createDirectory(atPath: folder + "/inside", withIntermediateDirectories: true)
        for extra in [[], ["--overwrite"]] {
            let r = try CLI.run(["convert", Self.rgba, "-o", folder] + extra)
            #expect(r.status == 1)
            #expect(r.stderr.contains("render.png is a folder, not a regular file"), "\(r.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["inside"])
        }
        #expect(try Self.listing(dir).hidden.isEmpty)
    }

    @Test func overwriteNeverReplacesAFIFO() throws {
        let dir = try CLI.tempDir()
        let fifo = dir + "/pipe.gif"
        #expect(mkfifo(fifo, 0o600) == 0)
        let r = try CLI.run(["convert", Self.rgba, "-o", fifo, "--overwrite"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("pipe.gif is a FIFO, not a regular file"), "\(r.stderr)")
        var st = stat()
        #expect(lstat(fifo, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO)
        #expect(try Self.listing(dir).hidden.isEmpty)
    }

    @Test func overwriteKeepsPermissionBits() throws {
        let dir = try CLI.tempDir()
        let out = dir + "/kept.webp"
        try Data("old".utf8).write(to: URL(fileURLWithPath: out))
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: out)
        let r = try CLI.run(["convert", Self.rgba, "-o", out, "--overwrite"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(ImageFormat.sniff(try Self.bytes(out)) == .webp)
        let mode = try FileManager.default.attributesOfItem(atPath: out)[.posixPermissions] as? Int
        #expect(mode == 0o640)
    }

    @Test func longInputNameWorks() throws {
        let dir = try CLI.tempDir()
        let name = String(repeating: "n", count: 236) + ".png"  // 240 bytes; the output is 241
        let input = try Self.copy(Self.rgba, to: dir, as: name)
        let r = try CLI.run(["convert", input, "-f", "webp"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = dir + "/" + String(repeating: "n", count: 236) + ".webp"
        #expect(ImageFormat.sniff(try Self.bytes(out)) == .webp)
        let again = try CLI.run(["convert", input, "-f", "webp", "--overwrite", "-q", "40"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.listing(dir).hidden.isEmpty)
    }

    @Test func staleTemporariesOfDeadProcessesAreSwept() throws {
        let dir = try CLI.tempDir()
        let dead: pid_t = 4_000_000 - 17
        guard kill(dead, 0) != 0 && errno == ESRCH else { return }
        let stale = dir + "/.dr-\(dead)-00c0ffee.tmp"
        let oldStyle = dir + "/.a.png.darkroom-\(dead)-12.tmp"
        let alive = dir + "/.dr-1-0000beef.tmp"  // pid 1 runs: left alone
        for path in [stale, oldStyle, alive] { try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path)) }
        let r = try CLI.run(["convert", Self.rgba, "-f", "gif", "--out-dir", dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.listing(dir).hidden == [".dr-1-0000beef.tmp"])
    }

    @Test func missingOutputFoldersAreCreated() throws {
        let dir = try CLI.tempDir()
        let decode = try CLI.run(["decode", TestImages.root.path + "/responses/b64-two.json", "--out-dir", dir + "/d/e/c"])
        #expect(decode.status == 0, "\(decode.stderr)")
        #expect(try Self.listing(dir + "/d/e/c").visible.count == 2)
        let prep = try CLI.run(["prep-refs", Self.rgba, "--out-dir", dir + "/p/r/e/p"])
        #expect(prep.status == 0, "\(prep.stderr)")
        #expect(try Self.listing(dir + "/p/r/e/p").visible == ["rgba.ref.png"])
        let convert = try CLI.run(["convert", Self.rgba, "-f", "jpeg", "--out-dir", dir + "/c/o/n"])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(try Self.listing(dir + "/c/o/n").visible == ["rgba.jpg"])
    }

    @Test(arguments: [
        ["convert", rgba, "-f", "png", "--out-dir"],
        ["decode", TestImages.root.path + "/responses/b64-single.json", "--out-dir"],
        ["prep-refs", rgba, "--out-dir"],
    ])
    func folderThatCannotBeCreatedIsReportedOnce(_ command: [String]) throws {
        let dir = try CLI.tempDir()
        try Data("a file".utf8).write(to: URL(fileURLWithPath: dir + "/blocker"))
        let r = try CLI.run(command + [dir + "/blocker/sub"])
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: cannot create the output folder \(dir)/blocker/sub: not a directory\n")
        #expect(r.stdoutData.isEmpty)
    }

    // MARK: standard streams

    @Test func brokenPipeOnStdoutExitsOne() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["convert", Self.kodim, "-f", "png", "-o", "-"]  // ~600 KB, more than a pipe holds
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let watchdog = CLI.Watchdog(process)
        defer { watchdog.finish("convert -o - into a closed pipe") }
        let head = out.fileHandleForReading.readData(ofLength: 8)
        #expect(ImageFormat.sniff([UInt8](head) + [UInt8](repeating: 0, count: 24)) == .png)
        try out.fileHandleForReading.close()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 1)
        #expect(stderr == "darkroom: cannot write to standard output: Broken pipe\n")
    }

    @Test func fullStdoutExitsOne() throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let err = Pipe()
        let status = try Self.run(["convert", Self.rgba, "-f", "avif", "-o", "-"], stdout: full, stderr: err)
        #expect(status == 1)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr == "darkroom: cannot write to standard output: No space left on device\n")
        let err2 = Pipe()
        #expect(try Self.run(["size", "--aspect-ratio", "3:2"], stdout: full, stderr: err2) == 1)
    }

    @Test func closedStdoutExitsOne() throws {
        let r = try Self.shell("\"$DR\" convert '\(Self.rgba)' -f webp -o - >&-")
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: cannot write to standard output: it is closed\n")
    }

    @Test func fullStderrDoesNotStopTheBatch() throws {
        let dir = try CLI.tempDir()
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let inputs = try (0..<3).map { try Self.copy(Self.rgba, to: dir, as: "in\($0).png") }
        let status = try Self.run(["convert"] + inputs + ["-f", "gif", "--out-dir", dir + "/out"],
                                  stdout: FileHandle.nullDevice, stderr: full)
        #expect(status == 0)
        #expect(try Self.listing(dir + "/out").visible == ["in0.gif", "in1.gif", "in2.gif"])
    }

    // MARK: bounded input

    @Test func endlessStdinIsRefusedAtTheLimit() throws {
        let dir = try CLI.tempDir()
        let r = try Self.shell("""
            { cat '\(Self.rgba)'; cat /dev/zero; } | timeout 60 "$DR" convert - -f jpeg -o '\(dir)/never.jpg' --max-input-bytes 70000
            """)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr == "darkroom: standard input: more than 70000 bytes, over the input limit of 70000 bytes (raise it with --max-input-bytes)\n")
        #expect(try Self.listing(dir).visible.isEmpty)
    }

    @Test func zerosOnStdinAreRefusedBeforeReading() throws {
        let r = try Self.shell("timeout 60 \"$DR\" convert - -f webp -o - --max-pixels 5000 < /dev/zero")
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: standard input: not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)\n")
        #expect(r.stdoutData.isEmpty)
    }

    @Test func regularFileOverTheLimitNamesItsSize() throws {
        let size = try Self.bytes(Self.kodim).count
        let r = try CLI.run(["convert", Self.kodim, "-f", "png", "-o", "-", "--max-input-bytes", "4096"])
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: \(Self.kodim): \(size) bytes, over the input limit of 4096 bytes (raise it with --max-input-bytes)\n")
        let prep = try CLI.run(["prep-refs", Self.kodim, "--out-dir", try CLI.tempDir(), "--max-input-bytes", "4096"])
        #expect(prep.status == 1)
        #expect(prep.stderr.contains("\(size) bytes, over the input limit of 4096 bytes"))
        let decode = try CLI.run(["decode", "-", "--out-dir", try CLI.tempDir(), "--max-input-bytes", "10"],
                                 stdin: Data(String(repeating: " ", count: 11).utf8))
        #expect(decode.status == 1)
        #expect(decode.stderr.contains("darkroom: standard input: more than 10 bytes"), "\(decode.stderr)")
    }

    // MARK: output planning

    @Test(arguments: [false, true])
    func duplicateOutputsAreRefusedBeforeAnyWork(_ overwrite: Bool) throws {
        let dir = try CLI.tempDir()
        let png = try Self.copy(Self.rgba, to: dir, as: "scan.png")
        let jpg = try Self.copy(Self.kodim, to: dir, as: "scan.jpg")
        let r = try CLI.run(["convert", png, jpg, "-f", "avif", "--out-dir", dir + "/out"] + (overwrite ? ["--overwrite"] : []))
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(r.stderr)")
        #expect(lines.first == "darkroom: 1 output would be written by more than one input (2 inputs); nothing was converted:")
        #expect(lines.dropFirst().first == "  \(dir)/out/scan.avif <- \(png), \(jpg)")
        #expect(lines.last?.hasPrefix("Fix: give each output its own name, e.g. --name '{dir}/{stem}-{index}.{ext}'") == true)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
        #expect(try Self.listing(dir).visible == ["scan.jpg", "scan.png"])
    }

    @Test func defaultNameNeverReplacesTheInput() throws {
        let dir = try CLI.tempDir()
        let photo = try Self.copy(Self.kodim, to: dir, as: "holiday.jpg")
        let original = try Self.bytes(photo)
        let r = try CLI.run(["convert", photo])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.bytes(photo) == original)
        #expect(ImageFormat.sniff(try Self.bytes(dir + "/holiday.out.jpg")) == .jpeg)
        let again = try CLI.run(["convert", "holiday.jpg", "--overwrite", "-r", "25%"], in: URL(fileURLWithPath: dir))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.bytes(photo) == original)
        #expect(try Self.listing(dir).visible == ["holiday.jpg", "holiday.out.jpg"])
    }

    @Test func outputOntoAnInputIsRefused() throws {
        let dir = try CLI.tempDir()
        let photo = try Self.copy(Self.kodim, to: dir, as: "beach.jpg")
        let original = try Self.bytes(photo)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        let r = try CLI.run(["convert", photo, "-o", dir + "/sub/../beach.jpg", "--overwrite", "-q", "30"])
        #expect(r.status == 2)
        #expect(r.stderr == "darkroom: \(photo): the output \(dir)/sub/../beach.jpg is the input itself; it is never replaced (choose another -o)\n")
        #expect(try Self.bytes(photo) == original)
        // Another input of the run: beach.png would be written from beach.jpg.
        let png = try Self.copy(Self.rgba, to: dir, as: "beach.png")
        let pngBytes = try Self.bytes(png)
        let other = try CLI.run(["convert", photo, png, "-f", "png", "--overwrite"])
        #expect(other.status == 2)
        #expect(other.stderr == "darkroom: \(photo): the output \(png) would replace \(png), an input of this run\n")
        #expect(try Self.bytes(png) == pngBytes)
    }

    @Test(arguments: [
        (["-o", "card.jpeg", "-f", "webp"], "card.jpeg: the extension '.jpeg' does not match -f webp (expected .webp)"),
        (["-o", "card.tif"], "card.tif: '.tif' is not an image format Darkroom writes"),
    ])
    func outputExtensionMustMatch(_ args: [String], _ message: String) throws {
        let dir = try CLI.tempDir()
        let r = try CLI.run(["convert", Self.rgba] + args, in: URL(fileURLWithPath: dir))
        #expect(r.status == 2)
        #expect(r.stderr == "darkroom: \(message); accepted extensions: png, jpg, jpeg, webp, avif, gif\n")
        #expect(try Self.listing(dir).visible.isEmpty)
    }

    @Test func prepRefsAndDecodeProtectTheirInputs() throws {
        let dir = try CLI.tempDir()
        let ref = try Self.copy(Self.rgba, to: dir, as: "logo.ref.png")
        let before = try Self.bytes(ref)
        // logo.ref.png -> logo.ref.ref.png is fine; logo.png -> logo.ref.png would replace an input.
        let logo = try Self.copy(Self.rgba, to: dir, as: "logo.png")
        let r = try CLI.run(["prep-refs", logo, ref, "--out-dir", dir, "--overwrite"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("darkroom: \(logo): the output \(dir)/logo.ref.png would replace \(ref), an input of this run"), "\(r.stderr)")
        #expect(try Self.bytes(ref) == before)
        let response = try Self.copy(TestImages.root.path + "/responses/b64-single.json", to: dir, as: "resp.png")
        let body = try Self.bytes(response)
        let d = try CLI.run(["decode", response, "--out-dir", dir, "--name", "resp.{ext}", "--overwrite"])
        #expect(d.status == 1)
        #expect(d.stderr == "darkroom: \(response): item 0: the output \(dir)/resp.png would replace \(response), an input of this run\n")
        #expect(try Self.bytes(response) == body)
        // One name for two items: the second fails, the first is written.
        let out = dir + "/same"
        let two = try CLI.run(["decode", TestImages.root.path + "/responses/b64-two.json", "--out-dir", out, "--name", "one.{ext}"])
        #expect(two.status == 1)
        #expect(two.stderr.contains(": item 1: item 0 and item 1 would both be written to \(out)/one.png\n"), "\(two.stderr)")
        #expect(try Self.listing(out).visible == ["one.png"])
    }

    // MARK: signals

    @Test(arguments: [(SIGINT, Int32(130), false), (SIGTERM, Int32(143), true)])
    func signalMidBatchLeavesOnlyCompleteOutputs(_ signal: Int32, _ expected: Int32, _ overwrite: Bool) throws {
        let dir = try CLI.tempDir()
        let out = dir + "/out"
        var inputs: [String] = []
        for i in 0..<60 { inputs.append(try Self.copy(Self.kodim, to: dir, as: "frame\(i).jpg")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        // --overwrite goes through a named temporary and rename: the registry's case.
        process.arguments = ["convert"] + inputs + ["-f", "png", "--out-dir", out, "-j", "2"] + (overwrite ? ["--overwrite"] : [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Wait for the first finished output, then signal.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning && Date() < deadline {
            if let names = try? Self.listing(out).visible, !names.isEmpty { break }
            usleep(5_000)
        }
        #expect(process.isRunning, "the batch must still run when the signal is sent")
        let watchdog = CLI.Watchdog(process, timeLimit: 120)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        watchdog.finish("convert -j 2 after signal \(signal)")
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == expected)
        let (visible, hidden) = try Self.listing(out)
        #expect(hidden.isEmpty, "temporaries left: \(hidden)")
        #expect(!visible.isEmpty && visible.count < 60, "\(visible.count) outputs")
        try Self.expectDecodable(visible.map { out + "/" + $0 })
    }
}
