import Darkroom
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Batches as users run them (issue #17): folders, patterns, lists, names that start with '-'
/// or are not UTF-8, collisions, resuming, reports, shards and interruption, against the built
/// binary.
@Suite(.enabled(if: CLI.binaryExists, "needs the built darkroom binary"), .serialized)
struct BatchCLITests {
    let root: String

    init() throws {
        root = try CLI.tempDir()
    }

    /// Creates a file whose name is `bytes` (any bytes but '/' and NUL) inside `folder`.
    func write(_ data: [UInt8], folder: String, nameBytes: [UInt8]) throws {
        let path = Array(folder.utf8) + [UInt8(ascii: "/")] + nameBytes + [0]
        let fd = path.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: path.count) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        #expect(fd >= 0)
        _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func exists(folder: String, nameBytes: [UInt8]) -> Bool {
        let path = Array(folder.utf8) + [UInt8(ascii: "/")] + nameBytes + [0]
        var st = stat()
        return path.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: path.count) { stat($0, &st) == 0 }
        }
    }

    func copy(_ name: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestImages.root.path + "/" + name, toPath: path)
    }

    func files(_ dir: String) -> [String] {
        let e = FileManager.default.enumerator(atPath: dir)
        var out: [String] = []
        while let f = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir + "/" + f, isDirectory: &isDir), !isDir.boolValue { out.append(f) }
        }
        return out.sorted()
    }

    /// The mixed downloads folder: good images in a tree, a damaged one, a non-image, hidden
    /// files, a name starting with '-', a name with a non-UTF-8 byte, a link loop.
    func makeDownloads() throws -> String {
        let dir = root + "/in"
        try copy("hopper.jpg", to: dir + "/hopper.jpg")
        try copy("rgba.png", to: dir + "/stickers/rgba.png")
        try copy("gray.jpg", to: dir + "/phone/2024/gray.jpg")
        try copy("hopper.jpg", to: dir + "/-photo.jpg")
        try copy("gray.jpg", to: dir + "/.hidden.jpg")
        try copy("gray.jpg", to: dir + "/.cache/x.jpg")
        try Data("just notes".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        let jpeg = try TestImages.bytes("kodim23.jpg")
        try Data(jpeg.prefix(jpeg.count / 2)).write(to: URL(fileURLWithPath: dir + "/phone/cut.jpg"))
        try write(try TestImages.bytes("gray.jpg"), folder: dir, nameBytes: Array("caf".utf8) + [0xE9] + Array(".jpg".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/phone/loop", withDestinationPath: "..")
        return dir
    }

    @Test func aFolderTreeIsConvertedKeepingItsTreeAndOneBadFileDoesNotStopIt() throws {
        let input = try makeDownloads()
        let out = root + "/out"
        let r = try CLI.run(["convert", input, "--recursive", "-f", "webp", "--out-dir", out, "--json", "--report", root + "/report.jsonl"])
        #expect(r.status == 1, "\(r.stderr)")  // the damaged file failed; the others were converted
        #expect(files(out).count == 4, "FileManager lists the UTF-8 names: \(files(out))")
        #expect(Set(["-photo.webp", "hopper.webp", "phone/2024/gray.webp", "stickers/rgba.webp"]).isSubset(of: files(out)))
        #expect(exists(folder: out, nameBytes: Array("caf".utf8) + [0xE9] + Array(".webp".utf8)), "the non-UTF-8 name kept its byte")
        #expect(files(out).filter { $0.hasSuffix(".tmp") || $0.hasPrefix(".") }.isEmpty)
        let (items, summary) = try CLI.jsonLines(r.stdoutData)
        #expect(items.count == 6)
        #expect(summary["ok"] as? Int == 5 && summary["failed"] as? Int == 1)
        let notInputs = try #require(summary["not_inputs"] as? [String: Any])
        #expect(notInputs["hidden"] as? Int == 2 && notInputs["other"] as? Int == 1 && notInputs["revisited_folders"] as? Int == 1)
        let failed = try #require(items.first { $0["status"] as? String == "failed" })
        #expect((failed["input"] as? String)?.hasSuffix("phone/cut.jpg") == true)
        #expect((failed["error"] as? String)?.contains("truncated") == true)
        // The report holds the same lines as --json, after its header and plan.
        let report = try String(contentsOfFile: root + "/report.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(report.first?.contains(#""report":"darkroom""#) == true)
        #expect(report.filter { $0.contains(#""planned":"#) }.count == 6)
        #expect(report.filter { $0.contains(#""status":"#) }.count == 6)
        #expect(report.last?.hasPrefix(#"{"summary""#) == true)
        // Again: every output exists. Without a flag each is an error that says how to resume.
        let again = try CLI.run(["convert", input, "-R", "-f", "webp", "--out-dir", out])
        #expect(again.status == 1)
        #expect(again.stderr.contains("5 outputs already existed: add --skip-existing to resume a run"), "\(again.stderr)")
        let resumed = try CLI.run(["convert", input, "-R", "-f", "webp", "--out-dir", out, "--skip-existing", "--json"])
        let (_, s2) = try CLI.jsonLines(resumed.stdoutData)
        #expect(s2["skipped"] as? Int == 5 && s2["failed"] as? Int == 1 && s2["ok"] as? Int == 0)
    }

    /// Nothing to do is said: a folder holding only a subfolder, without -R, names what it left out.
    @Test func aFolderWithNothingToTakeSaysSo() throws {
        try copy("rgba.png", to: root + "/only/sub/rgba.png")
        let r = try CLI.run(["convert", root + "/only", "--out-dir", root + "/o"])
        #expect(r.status == 0 && r.stderr == "darkroom: no input to convert found (in folders: 1 subfolder (add -R))\n", "\(r.stderr)")
        let json = try CLI.run(["convert", root + "/only", "--out-dir", root + "/o", "--json"])
        let (_, summary) = try CLI.jsonLines(json.stdoutData)
        #expect(summary["inputs"] as? Int == 0 && (summary["not_inputs"] as? [String: Any])?["subfolders"] as? Int == 1)
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        let empty = try CLI.run(["prep-refs", root + "/empty", "--out-dir", root + "/o"])
        #expect(empty.status == 0 && empty.stderr == "darkroom: no input to prep-refs found\n", "\(empty.stderr)")
        let quiet = try CLI.run(["convert", root + "/only", "--out-dir", root + "/o", "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty)
    }

    @Test func namesThatStartWithADashAreNeverFlags() throws {
        try copy("hopper.jpg", to: root + "/-photo.jpg")
        // As the shell expands a glob: a usage error (2) that says what to do, never help with 0.
        let stray = try CLI.run(["convert", "-photo.jpg", "-f", "png"], in: URL(fileURLWithPath: root))
        #expect(stray.status == 2)
        #expect(stray.stderr.contains("unknown option '-photo.jpg'") && stray.stderr.contains("goes after '--'"), "\(stray.stderr)")
        #expect(stray.stdoutData.isEmpty)
        let ended = try CLI.run(["convert", "-f", "png", "--suffix", "-conv", "--", "-photo.jpg"], in: URL(fileURLWithPath: root))
        #expect(ended.status == 0, "\(ended.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/-photo-conv.png"))
        // Expanded by Darkroom, a pattern's '-' names are files.
        let pattern = try CLI.run(["convert", "*.jpg", "-f", "webp", "--out-dir", "o"], in: URL(fileURLWithPath: root))
        #expect(pattern.status == 0, "\(pattern.stderr)")
        #expect(files(root + "/o") == ["-photo.webp"])
        let empty = try CLI.run(["convert", root + "/-photo.jpg", "-o", ""])
        #expect(empty.status == 2 && empty.stderr.contains("-o/--output needs a file name"), "\(empty.stderr)")
    }

    @Test func everyCollisionIsListedBeforeAnyWorkWithAdviceThatFixesIt() throws {
        for folder in ["a", "b", "c"] {
            try copy("hopper.jpg", to: "\(root)/\(folder)/photo.jpg")
            try copy("gray.jpg", to: "\(root)/\(folder)/x.jpg")
        }
        let out = root + "/out"
        let r = try CLI.run(["convert", root + "/a", root + "/b", root + "/c", "-f", "webp", "--out-dir", out])
        #expect(r.status == 2)
        #expect(r.stderr.contains("2 outputs would be written by more than one input (6 inputs); nothing was converted"), "\(r.stderr)")
        #expect(r.stderr.contains("\(out)/photo.webp <- \(root)/a/photo.jpg, \(root)/b/photo.jpg, \(root)/c/photo.jpg"))
        #expect(r.stderr.contains("\(out)/x.webp <- \(root)/a/x.jpg, \(root)/b/x.jpg, \(root)/c/x.jpg"))
        #expect(!FileManager.default.fileExists(atPath: out))
        // The advice works.
        let fixed = try CLI.run(["convert", root + "/a", root + "/b", root + "/c", "-f", "webp", "--out-dir", out,
                                 "--name", "{dir}/{stem}-{index}.{ext}"])
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(files(out) == ["photo-0.webp", "photo-2.webp", "photo-4.webp", "x-1.webp", "x-3.webp", "x-5.webp"])
        // A pattern keeps the tree under its fixed part: no collision at all.
        let tree = try CLI.run(["convert", root + "/*/*.jpg", "-f", "png", "--out-dir", root + "/tree", "--name", "{dir}/{stem}-{w}x{h}-q{q}.{ext}"])
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(files(root + "/tree") == ["a/photo-128x128-qnone.png", "a/x-128x128-qnone.png", "b/photo-128x128-qnone.png",
                                          "b/x-128x128-qnone.png", "c/photo-128x128-qnone.png", "c/x-128x128-qnone.png"])
    }

    @Test func listsPatternsAndDryRuns() throws {
        try copy("hopper.jpg", to: root + "/d/one.jpg")
        try copy("gray.jpg", to: root + "/d/deep/er/two.jpg")
        try copy("rgba.png", to: root + "/d/deep/three.png")
        let list = root + "/list"
        try Data("\(root)/d/one.jpg\0\(root)/d/deep/three.png\0".utf8).write(to: URL(fileURLWithPath: list))
        let dry = try CLI.run(["convert", "--from-list", list, "--null", "-f", "avif", "--out-dir", root + "/o", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let (items, summary) = try CLI.jsonLines(dry.stdoutData)
        #expect(items.map { $0["output"] as? String } == ["\(root)/o/one.avif", "\(root)/o/three.avif"])
        #expect(summary["planned"] as? Int == 2)
        #expect(!FileManager.default.fileExists(atPath: root + "/o"))
        let deep = try CLI.run(["convert", root + "/d/**/*.jpg", "-f", "png", "--out-dir", root + "/p", "--dry-run", "--json"])
        #expect(try CLI.jsonLines(deep.stdoutData).items.map { $0["output"] as? String }
                == ["\(root)/p/one.png", "\(root)/p/deep/er/two.png"])  // `**` is zero folders first, then each level
        let none = try CLI.run(["convert", root + "/d/*.gif", "-f", "png", "--out-dir", root + "/p"])
        #expect(none.status == 1 && none.stderr.contains("\(root)/d/*.gif: no such file"), "\(none.stderr)")
    }

    /// `--shard` as Slurm, Kubernetes and a person set it: the shards cover every input exactly
    /// once, and `report merge` says so (and says when a shard is missing).
    @Test func shardsCoverEveryInputExactlyOnce() throws {
        for i in 0..<30 { try copy(i % 2 == 0 ? "gray.jpg" : "rgba.png", to: "\(root)/in/\(i / 10)/img\(i).\(i % 2 == 0 ? "jpg" : "png")") }
        let base = ["convert", root + "/in", "-R", "-f", "png", "--out-dir", root + "/out", "--shard", "auto", "-j", "1"]
        var reports: [String] = []
        for task in 1...3 {  // sbatch --array=1-3
            let report = "\(root)/slurm-\(task).jsonl"
            reports.append(report)
            let r = try CLI.run(base + ["--report", report], environment: [
                "SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "3"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(files(root + "/out").count == 30)
        let merged = try CLI.run(["report", "merge"] + reports)
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stderr.contains("every input finished exactly once"))
        let missing = try CLI.run(["report", "merge"] + reports.dropLast())
        #expect(missing.status == 1 && missing.stderr.contains("missing shard 3/3"), "\(missing.stderr)")
        // Kubernetes: the same split, indices from 0.
        for index in 0..<3 {
            let k8s = try CLI.run(base + ["--dry-run", "--json"], environment: ["JOB_COMPLETION_INDEX": "\(index)", "JOB_COMPLETIONS": "3"])
            let slurm = try String(contentsOfFile: reports[index], encoding: .utf8)
            let planned = try CLI.jsonLines(k8s.stdoutData).items.compactMap { $0["input"] as? String }
            #expect(!planned.isEmpty)
            #expect(planned.allSatisfy { slurm.contains(#""planned":"\#($0)""#) })
        }
        // I/N by hand equals auto; auto with nothing set is a usage error naming the variables.
        let byHand = try CLI.run(["convert", root + "/in", "-R", "-f", "png", "--out-dir", root + "/out", "--shard", "2/3", "--dry-run", "--json"])
        #expect(try CLI.jsonLines(byHand.stdoutData).items.count == (try String(contentsOfFile: reports[1], encoding: .utf8)).split(separator: "\n").filter { $0.contains(#""planned":"#) }.count)
        let unset = try CLI.run(["convert", root + "/in", "-f", "png", "--shard", "auto"], environment: [:])
        #expect(unset.status == 2 && unset.stderr.contains("SLURM_ARRAY_TASK_ID"), "\(unset.stderr)")
        for bad in ["0/3", "4/3", "1/0", "x", "1/3/4", "-1/3"] {
            let r = try CLI.run(["convert", root + "/in", "-f", "png", "--shard", bad])
            #expect(r.status == 2 && r.stderr.contains("invalid shard"), "\(bad): \(r.stderr)")
        }
    }

    /// Ctrl-C mid-batch: exit 130, the summary and the JSON summary still come out, nothing
    /// partial is left, and the same command with --skip-existing finishes the rest.
    @Test func anInterruptedBatchSaysWhatItDidAndResumes() throws {
        for i in 0..<24 { try copy("kodim23.jpg", to: "\(root)/in/k\(i).jpg") }
        let out = root + "/out", report = root + "/r.jsonl"
        let args = ["convert", root + "/in", "-f", "avif", "--speed", "4", "-j", "1", "--out-dir", out, "--report", report, "--json"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Wait until two inputs are done, then interrupt.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
            if text.components(separatedBy: #""status":"ok""#).count > 2 { break }
            usleep(50_000)
        }
        kill(process.processIdentifier, SIGINT)
        let r = try CLI.collect(process, stdout: stdout, stderr: stderr, what: "interrupted convert")
        #expect(r.status == 130)
        #expect(r.stderr.contains("interrupted (SIGINT) after"), "\(r.stderr)")
        #expect(r.stderr.contains("run the same command with --skip-existing"))
        let (items, summary) = try CLI.jsonLines(r.stdoutData)
        #expect(summary["interrupted"] as? String == "SIGINT")
        #expect(items.count >= 2 && items.count < 24)
        let written = files(out)
        #expect(written.allSatisfy { $0.hasSuffix(".avif") }, "no temporaries: \(written)")
        #expect(written.count >= items.count)
        for name in written { #expect(ImageFormat.sniff([UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/" + name)))) == .avif) }
        let resumed = try CLI.run(args.filter { $0 != "--json" } + ["--skip-existing", "-j", "2"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(files(out).count == 24)
        let merged = try CLI.run(["report", "merge", report])
        #expect(merged.status == 0, "\(merged.stderr)")
    }

    @Test func decodeTakesManyResponsesAndTheOldDashOStillWorks() throws {
        let responses = root + "/responses"
        try FileManager.default.createDirectory(atPath: responses, withIntermediateDirectories: true)
        for name in ["b64-single.json", "b64-two.json"] {
            try FileManager.default.copyItem(atPath: GatewayFixtures.response(name).path, toPath: responses + "/" + name)
        }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: responses + "/readme.txt"))
        let r = try CLI.run(["decode", responses, "--out-dir", root + "/out", "--name", "{stem}-{n}.{ext}", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let (items, summary) = try CLI.jsonLines(r.stdoutData)
        #expect(items.count == 2 && summary["ok"] as? Int == 2)
        #expect((summary["not_inputs"] as? [String: Any])?["other"] as? Int == 1)
        #expect(files(root + "/out") == ["b64-single-1.png", "b64-two-1.png", "b64-two-2.png"])
        let old = try CLI.run(["decode", responses + "/b64-single.json", "-o", root + "/old"])
        #expect(old.status == 0 && old.stderr.contains("-o is the old name of --out-dir"), "\(old.stderr)")
    }

    /// `--max-bytes`: outputs fit and report the quality chosen; a target that cannot be met
    /// writes the smallest attempt and exits 3, or with --fail-on-unmet writes nothing (exit 1).
    @Test func maxBytesOutputsFitOrAreReportedUnmet() throws {
        try copy("kodim23.jpg", to: root + "/k.jpg")
        for (format, target) in [("jpeg", 20_000), ("webp", 12_000), ("avif", 9_000)] {
            let out = "\(root)/k-\(format).\(format == "jpeg" ? "jpg" : format)"
            let r = try CLI.run(["convert", root + "/k.jpg", "-f", format, "--max-bytes", "\(target / 1000)k", "-o", out, "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let item = try #require(try CLI.jsonLines(r.stdoutData).items.first)
            let size = try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int ?? 0
            #expect(size > 0 && size <= target, "\(format): \(size) bytes")
            #expect(item["target_met"] as? Bool == true && (item["attempts"] as? Int ?? 99) <= 8)
            #expect(Int(item["quality"] as? String ?? "") != nil)
        }
        let unmet = try CLI.run(["convert", root + "/k.jpg", "-f", "webp", "--max-bytes", "1500", "-o", root + "/tiny.webp"])
        #expect(unmet.status == 3, "\(unmet.stderr)")
        #expect(unmet.stderr.contains("over --max-bytes 1500 even at quality 30"))
        #expect(FileManager.default.fileExists(atPath: root + "/tiny.webp"))
        let strict = try CLI.run(["convert", root + "/k.jpg", "-f", "webp", "--max-bytes", "1500", "--fail-on-unmet", "-o", root + "/none.webp"])
        #expect(strict.status == 1 && !FileManager.default.fileExists(atPath: root + "/none.webp"), "\(strict.stderr)")
        #expect(strict.stderr.contains("k.jpg: over --max-bytes 1500: the smallest attempt (quality 30) is "), "\(strict.stderr)")
        #expect(strict.stderr.contains("bytes; nothing written (--fail-on-unmet)"), "\(strict.stderr)")
        let lonely = try CLI.run(["convert", root + "/k.jpg", "-f", "webp", "--min-quality", "50", "-o", root + "/x.webp"])
        #expect(lonely.status == 2 && lonely.stderr.contains("min-quality"), "\(lonely.stderr)")
        let above = try CLI.run(["convert", root + "/k.jpg", "-f", "webp", "-q", "50", "--max-bytes", "1M", "--min-quality", "80", "-o", root + "/x.webp"])
        #expect(above.status == 2 && above.stderr == "darkroom: invalid min-quality '80': expected at most the quality cap -q 50 (the search runs from -q down to --min-quality)\n", "\(above.stderr)")
    }

    /// Hidden names a pattern skips (its `*` does not match a leading dot) are counted as a
    /// folder walk counts them: `in/*.jpg` skips `.hidden.jpg`, a trailing `**` skips both.
    @Test func patternsCountTheHiddenFilesTheySkip() throws {
        let input = try makeDownloads()
        for (pattern, hidden) in [(input + "/*.jpg", 1), (input + "/**", 2), (input + "/.*.jpg", 0)] {
            let r = try CLI.run(["convert", pattern, "-f", "png", "--out-dir", root + "/o", "--dry-run", "--json"])
            let summary = try CLI.jsonLines(r.stdoutData).summary
            let notInputs = summary["not_inputs"] as? [String: Any] ?? [:]
            #expect(notInputs["hidden"] as? Int ?? 0 == hidden, "\(pattern): \(summary)")
        }
        // A link below a trailing ** that leads back to the pattern's folder is a loop: counted,
        // not walked again (before, in/phone/loop/hopper.jpg was a second input).
        let r = try CLI.run(["convert", input + "/**", "-f", "png", "--out-dir", root + "/o", "--dry-run", "--json"])
        let (items, summary) = try CLI.jsonLines(r.stdoutData)
        #expect(!items.contains { ($0["input"] as? String)?.contains("/loop/") == true }, "\(items)")
        #expect((summary["not_inputs"] as? [String: Any])?["revisited_folders"] as? Int == 1)
    }

    /// When every input is missing nothing is written, and no --out-dir is left behind either.
    @Test func missingInputsLeaveNoOutputFolder() throws {
        for command in [["convert", "-f", "png"], ["prep-refs"], ["decode"]] {
            let out = root + "/never-\(command[0])"
            let r = try CLI.run(command + [root + "/missing.jpg", "--out-dir", out])
            #expect(r.status != 0 && r.stderr.contains("missing.jpg"), "\(command): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(command)")
        }
    }

    /// An animated input converted to a format without animation keeps its first frame and says
    /// so: a line on stderr, and with --json also a warning of kind `animation` in the input's object.
    @Test func animationDroppedIsAWarningInEveryStyle() throws {
        try copy("animated.gif", to: root + "/a.gif")
        let plain = try CLI.run(["convert", root + "/a.gif", "-f", "jpeg", "-o", root + "/a.jpg"])
        #expect(plain.status == 0 && plain.stderr.contains("a.gif: animated (2 frames): only the first frame was converted"), "\(plain.stderr)")
        let json = try CLI.run(["convert", root + "/a.gif", "-f", "jpeg", "-o", root + "/b.jpg", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        // Standard error gets the line in every style (the issue: --json had no warning at all).
        #expect(json.stderr.contains("a.gif: animated (2 frames): only the first frame was converted"), "\(json.stderr)")
        let item = try #require(try CLI.jsonLines(json.stdoutData).items.first)
        let warnings = item["warnings"] as? [[String: Any]] ?? []
        #expect(warnings.contains { $0["kind"] as? String == "animation" && ($0["message"] as? String)?.contains("2 frames") == true },
                "\(item)")
        #expect(item["frames"] as? Int == 2)
    }

    /// prep-refs and decode run -j workers too, and keep a folder's tree under --out-dir: the
    /// outputs of -j 2 are those of -j 1, byte for byte.
    @Test func prepRefsInParallelWritesWhatOneWorkerWrites() throws {
        try copy("hopper-orientation-6.jpg", to: root + "/r/a.jpg")
        try copy("rgba.png", to: root + "/r/sub/b.png")
        try copy("kodim23.jpg", to: root + "/r/sub/c.jpg")
        try copy("gray.jpg", to: root + "/r/d.jpg")
        for j in ["1", "2"] {
            let r = try CLI.run(["prep-refs", root + "/r", "-R", "--out-dir", root + "/j\(j)", "-j", j])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(files(root + "/j1") == ["a.ref.jpg", "d.ref.jpg", "sub/b.ref.png", "sub/c.ref.jpg"])
        #expect(files(root + "/j2") == files(root + "/j1"))
        for name in files(root + "/j1") {
            #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/j1/" + name)) == Data(contentsOf: URL(fileURLWithPath: root + "/j2/" + name)), "\(name)")
        }
    }

    /// New-user findings: a report may not damage an input; a `..` stem never climbs out of
    /// --out-dir; a report is trusted only for outputs that are still there; a cut report line
    /// does not glue to the next run's header; an --out-dir inside the input folder is not input.
    @Test func reportsAndNamesCannotDamageOrEscape() throws {
        try copy("hopper.jpg", to: root + "/in/x.jpg")
        try copy("gray.jpg", to: root + "/in/y.jpg")
        let before = try Data(contentsOf: URL(fileURLWithPath: root + "/in/x.jpg"))
        let onInput = try CLI.run(["convert", root + "/in", "-f", "webp", "--out-dir", root + "/o1", "--report", root + "/in/x.jpg"])
        #expect(onInput.status == 2 && onInput.stderr.contains("is an input of this run"), "\(onInput.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/in/x.jpg")) == before)
        let onOutput = try CLI.run(["convert", root + "/in", "-f", "webp", "--out-dir", root + "/o1", "--report", root + "/o1/x.webp"])
        #expect(onOutput.status == 2 && onOutput.stderr.contains("is also an output of this run"), "\(onOutput.stderr)")

        try copy("gray.jpg", to: root + "/esc/...jpg")
        let escape = try CLI.run(["convert", root + "/esc/...jpg", "-f", "png", "--out-dir", root + "/e/f", "--name", "{stem}/{stem}/x.{ext}"])
        #expect(escape.status == 0, "\(escape.stderr)")
        #expect(files(root + "/e") == ["f/__/__/x.png"])

        let report = root + "/r.jsonl"
        #expect(try CLI.run(["convert", root + "/in", "-f", "webp", "--out-dir", root + "/w", "--report", report]).status == 0)
        // Another format and folder: the report's outputs are not this run's, so nothing is skipped.
        let other = try CLI.run(["convert", root + "/in", "-f", "png", "--out-dir", root + "/p", "--skip-existing", "--report", report, "--json"])
        #expect(try CLI.jsonLines(other.stdoutData).summary["ok"] as? Int == 2, "\(other.stderr)")
        // A cut line, then a resumed run: the header starts a line of its own.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: report))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"input":"cut"#.utf8))
        try handle.close()
        try FileManager.default.removeItem(atPath: root + "/w/y.webp")
        let resumed = try CLI.run(["convert", root + "/in", "-f", "webp", "--out-dir", root + "/w", "--skip-existing", "--report", report, "--json"])
        let summary = try CLI.jsonLines(resumed.stdoutData).summary
        #expect(summary["ok"] as? Int == 1 && summary["skipped"] as? Int == 1, "y.webp was deleted, so it is converted again: \(summary)")
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n")
        #expect(lines.contains { $0 == #"{"input":"cut"# })
        #expect(lines.filter { $0.contains(#""report":"darkroom""#) }.allSatisfy { $0.hasPrefix("{") && $0.hasSuffix("}") })

        try copy("hopper.jpg", to: root + "/nest/h.jpg")
        let first = try CLI.run(["convert", root + "/nest", "-R", "-f", "webp", "--out-dir", root + "/nest/webp"])
        #expect(first.status == 0, "\(first.stderr)")
        let again = try CLI.run(["convert", root + "/nest", "-R", "-f", "webp", "--out-dir", root + "/nest/webp", "--skip-existing", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try CLI.jsonLines(again.stdoutData).summary["inputs"] as? Int == 1, "its own outputs are not inputs")
    }
}
