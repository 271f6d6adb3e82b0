import Foundation
import Testing
@testable import Darkroom

/// The built `darkroom` binary against hostile numbers, oversized outputs and damaged input
/// (issue #8). Runs after `swift build` (scripts/test.sh does it).
@Suite(.enabled(if: CLI.binaryExists, "needs .build/debug/darkroom: run `swift build` first (scripts/test.sh does)"))
struct CLIHardeningTests {
    let dir: String
    let photo: String
    init() throws {
        dir = try CLI.tempDir()
        photo = TestImages.root.appendingPathComponent("kodim23.jpg").path
    }

    func files() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    @Test(arguments: [
        ["convert", "PHOTO", "--resize", "31415926535897932384626mp", "-o", "OUT/a.png"],
        ["convert", "PHOTO", "--resize", "2e308%", "-o", "OUT/a.png"],
        ["convert", "PHOTO", "--max-pixels", "1e12", "-o", "OUT/a.png"],
        ["convert", "PHOTO", "--threads", "4294967296", "-o", "OUT/a.png"],
        ["convert", "PHOTO", "-q", "100.5", "-o", "OUT/a.jpg"],
        ["convert", "PHOTO", "--fail-on", "sometimes", "-o", "OUT/a.png"],
        ["prep-refs", "PHOTO", "--max-mp=-inf", "--out-dir", "OUT"],
        ["prep-refs", "PHOTO", "--max-mp", "7e777", "--out-dir", "OUT"],
        ["prep-refs", "PHOTO", "--max-refs", "99999999999999999999", "--out-dir", "OUT"],
        ["cost", "--output", "1024x1024", "--output-price", "nan"],
        ["size", "--size", "1024x1024", "--multiple", "18446744073709551617"],
        // Negative values reach the bounded parser (not "missing value"), and sizes out of range are usage errors.
        ["convert", "PHOTO", "-r", "-5", "-o", "OUT/a.png"],
        ["size", "--resolution", "-5"],
        ["size", "--size", "-5x3"],
        ["cost", "--ref", "99999999x99999999", "--output", "1024x1024"],
        ["cost", "--ref", "-5x5", "--output", "1024x1024"],
        ["convert", "PHOTO", "-j", "0", "--out-dir", "OUT"],
        ["convert", "PHOTO", "--suffix", "a/b", "--out-dir", "OUT"],
        ["convert", "PHOTO", "--suffix", "a\nb", "--out-dir", "OUT"],
        // The bench commands' numbers go through the same bounded parsers.
        ["bench", "resize", "--threads", "-2"],
        ["bench", "resize", "--runs", "0"],
        ["bench", "resize", "--size", "100000x100000"],
        ["bench", "resize", "--bit-depth", "12"],
        ["bench", "encode", "PHOTO", "-f", "webp", "--runs", "0"],
        ["bench", "encode", "PHOTO", "-f", "webp", "-q", "-5"],
    ])
    func hostileNumbersAreUsageErrors(_ template: [String]) throws {
        let args = template.map { $0 == "PHOTO" ? photo : $0.replacingOccurrences(of: "OUT", with: dir).replacingOccurrences(of: "\\n", with: "\n") }
        let r = try CLI.run(args)
        #expect(r.status == 2, "\(args): \(r.stderr)")
        #expect(r.stderr.contains("invalid"), "\(r.stderr)")
        // One error style: "darkroom: ...", never ArgumentParser's "Error: ...".
        #expect(r.stderr.hasPrefix("darkroom: "), "\(r.stderr)")
        #expect(try files().isEmpty)
    }

    @Test func controlCharactersInFileNamesAreEscapedInErrors() throws {
        let name = "\(dir)/a\nb\u{1B}[31m.jpg"
        let r = try CLI.run(["convert", name, "-o", "\(dir)/out.png"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("a\\nb\\u{1B}[31m.jpg"), "\(r.stderr)")
        #expect(!r.stderr.dropLast().contains("\n") && !r.stderr.contains("\u{1B}"), "one line, no raw escape: \(r.stderr)")
    }

    /// Every line that names a file escapes it: the success line, usage errors about outputs
    /// (unknown extension, extension mismatch) and the line of `prep-refs`.
    @Test func controlCharactersInFileNamesAreEscapedEverywhere() throws {
        let input = "\(dir)/in\u{1B}[31m.jpg"
        try FileManager.default.copyItem(atPath: photo, toPath: input)
        let lines: [(args: [String], status: Int32, stdout: Bool)] = [
            (["convert", input, "-o", "\(dir)/ok\tx.png"], 0, false),
            (["convert", input, "-o", "\(dir)/bad\n.xyz"], 2, false),
            (["convert", input, "-f", "webp", "-o", "\(dir)/mis\u{1B}.png"], 2, false),
            (["prep-refs", input, "--out-dir", dir], 0, false),
        ]
        for (args, status, stdout) in lines {
            let r = try CLI.run(args)
            #expect(r.status == status, "\(args): \(r.stderr)")
            let text = stdout ? String(decoding: r.stdoutData, as: UTF8.self) : r.stderr
            #expect(!text.contains("\u{1B}") && !text.contains("\t"), "\(args): \(text)")
            #expect(text.contains("\\u{1B}") || text.contains("\\t") || text.contains("\\n"), "\(args): \(text)")
            #expect(text.filter { $0 == "\n" }.count == 1, "one line: \(text)")
        }
    }

    /// ArgumentParser's own errors echo values and option names as given: they are escaped too
    /// (a choice value with an escape, an unknown option with a newline, a bidi override).
    @Test(arguments: [["-f", "\u{1B}[2Jpng"], ["--filter", "x\ny"], ["--bo\ngus"], ["--keep", "a\u{202E}b"]])
    func argumentParserErrorsEscapeWhatTheyEcho(_ flags: [String]) throws {
        let r = try CLI.run(["convert", photo, "-o", "\(dir)/x.png"] + flags)
        #expect(r.status == 2)
        #expect(!r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{202E}"), "\(r.stderr)")
        let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("darkroom: ") && (first.contains("\\u{1B}") || first.contains("\\n") || first.contains("\\u{202E}")), "\(first)")
    }

    /// `decode --name` refuses a template with control characters (as `--suffix` does).
    @Test func aNameTemplateWithControlCharactersIsRefused() throws {
        let response = TestImages.root.appendingPathComponent("responses/b64-single.json").path
        let r = try CLI.run(["decode", response, "--name", "x\n{n}", "--out-dir", dir])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("darkroom: invalid name x\\n{n}: expected a file name template without control characters"), "\(r.stderr)")
        #expect(try files().isEmpty)
    }

    /// The bench commands' file errors name the file and what is expected, in the one error style.
    @Test func benchFileErrorsNameTheFile() throws {
        let short = try CLI.run(["bench", "resize", "--size", "64x64", "--input", "/dev/null"])
        #expect(short.status == 2)
        #expect(short.stderr.hasPrefix("darkroom: --input /dev/null holds 0 bytes; expected exactly 16384"), "\(short.stderr)")
        #expect(!short.stderr.contains("<subcommand>"), "\(short.stderr)")
        let folder = try CLI.run(["bench", "resize", "--size", "64x64", "--runs", "1", "--output", dir])
        #expect(folder.status == 1)
        #expect(folder.stderr.hasPrefix("darkroom: \(dir): ") && !folder.stderr.contains("CocoaError"), "\(folder.stderr)")
        let text = TestImages.root.appendingPathComponent("README.md").path
        let notImage = try CLI.run(["bench", "encode", text, "-f", "webp"])
        #expect(notImage.status == 1)
        #expect(notImage.stderr.hasPrefix("darkroom: \(text): not a PNG, JPEG, WebP, AVIF or GIF file"), "\(notImage.stderr)")
    }

    @Test func anOversizedOutputFailsFastAndWritesNothing() throws {
        let r = try CLI.run(["convert", photo, "--resize", "45000x45000!", "-o", "\(dir)/big.png"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("45000x45000 = 2025000000 px is over the limit of 268402689 px"), "\(r.stderr)")
        let gif = try CLI.run(["convert", photo, "--resize", "65536x3!", "-f", "gif", "-o", "\(dir)/wide.gif"])
        #expect(gif.status == 1)
        #expect(gif.stderr.contains("65536x3 is too large for gif: at most 65535 px per side"), "\(gif.stderr)")
        let webp = try CLI.run(["convert", photo, "--resize", "16384x12!", "-f", "webp", "-o", "\(dir)/tall.webp"])
        #expect(webp.status == 1)
        #expect(webp.stderr.contains("is too large for webp: at most 16383 px per side"), "\(webp.stderr)")
        #expect(try files().isEmpty)
    }

    @Test func aTruncatedDownloadIsAnErrorUnlessFailOnNone() throws {
        let bytes = try TestImages.bytes("kodim23.jpg")
        let cut = "\(dir)/cut.jpg"
        try Data(bytes.prefix(bytes.count * 2 / 3)).write(to: URL(fileURLWithPath: cut))
        let strict = try CLI.run(["convert", cut, "-f", "png", "-o", "\(dir)/strict.png"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains("jpeg data is truncated or corrupt: Premature end of JPEG file"), "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/strict.png"))

        let lenient = try CLI.run(["convert", cut, "-f", "png", "-o", "\(dir)/lenient.png", "--fail-on", "none", "--json"])
        #expect(lenient.status == 0)
        #expect(lenient.stderr.contains("truncated or corrupt: Premature end of JPEG file"), "\(lenient.stderr)")
        let report = try CLI.jsonLines(lenient.stdoutData).items
        let warnings = try #require(report.first?["warnings"] as? [[String: Any]])
        #expect(warnings.first?["kind"] as? String == "truncated")
        #expect(warnings.first?["message"] as? String == "Premature end of JPEG file")
        #expect(FileManager.default.fileExists(atPath: "\(dir)/lenient.png"))
    }

    @Test func versionNamesEveryCodecLibrary() throws {
        let r = try CLI.run(["--version"])
        #expect(r.status == 0)
        let lines = String(decoding: r.stdoutData, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.first == "darkroom \(CodecLibraries.darkroomVersion)")
        #expect(lines.dropFirst().map { String($0.split(separator: " ")[0]) }
                == ["libjpeg-turbo", "libpng", "libwebp", "libavif", "lcms2", "giflib"])
        for line in lines.dropFirst() {
            let version = line.split(separator: " ")[1]
            #expect(version.first?.isNumber == true && version.contains("."), "\(line)")
        }
    }
}
