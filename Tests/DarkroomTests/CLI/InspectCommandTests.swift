import Foundation
import Testing
@testable import Darkroom

/// `darkroom inspect` on the built binary (issue #17): lines, JSON Lines, folder walks, exit status.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"))
struct InspectCommandTests {
    static func jsonLines(_ r: CLI.Result) throws -> [[String: Any]] {
        try String(decoding: r.stdoutData, as: UTF8.self).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func oneLinePerFile() throws {
        let path = TestImages.root.path + "/rgba.png"
        let r = try CLI.run(["inspect", path])
        #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
        #expect(String(decoding: r.stdoutData, as: UTF8.self)
                == "\(path): png 32x32, 0.001 MP (billed 1), 8-bit, alpha, colour gAMA 1 (converted to sRGB's curve), 1 frame, metadata none\n")
    }

    /// The JSON's code points keep the stored range flag: an invalid one is not shown as narrow range.
    @Test func cicpJSONKeepsTheStoredRangeFlag() throws {
        let dir = try TestSupport.tempDir().path
        let image = TestImages.gradient(width: 4, height: 4, alpha: false)
        for flag: UInt8 in [1, 0, 2] {
            let path = dir + "/c\(flag).png"
            try Data(try CICPColourTests.png(image, chunks: [("cICP", [12, 13, 0, flag])])).write(to: URL(fileURLWithPath: path))
            let r = try CLI.run(["inspect", "--json", path])
            let cicp = try #require((try Self.jsonLines(r).first?["colour"] as? [String: Any])?["cicp"] as? [String: Any])
            #expect(cicp["full_range"] as? Bool == (flag == 1) && cicp["video_full_range_flag"] as? Int == Int(flag), "\(cicp)")
        }
    }

    @Test func uprightSidesAndGPSInTheLine() throws {
        guard TestSupport.hasCorpus else { return }
        let corpus = TestSupport.corpus.path
        let r = try CLI.run(["inspect", corpus + "/orientation/misc/paris_exif_orientation_5.jpg", corpus + "/color/avif/display-p3_3024x4032.avif"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: r.stdoutData, as: UTF8.self) == """
            \(corpus)/orientation/misc/paris_exif_orientation_5.jpg: jpeg 403x302 (upright 302x403, orientation 5), 0.116 MP (billed 1), \
            8-bit, no alpha, colour none (sRGB assumed), 1 frame, metadata EXIF
            \(corpus)/color/avif/display-p3_3024x4032.avif: avif 3024x4032, 11.628 MP (billed 12), 8-bit, no alpha, \
            colour ICC "Display P3", 1 frame, metadata EXIF GPS ICC (GPS: location present)
            2 files: 2 ok, 0 damaged, 0 unreadable or not an image

            """)
    }

    /// A folder: walked recursively in name order, hidden files and folders skipped; a non-image
    /// and a damaged image are reported, named, and make the exit status 1; JSON Lines end with
    /// the summary.
    @Test func foldersJSONLinesAndExitStatus() throws {
        let dir = try TestSupport.tempDir().path
        let png = try TestImages.bytes("rgba.png")
        try FileManager.default.createDirectory(atPath: dir + "/sub/.hidden-dir", withIntermediateDirectories: true)
        try Data(png).write(to: URL(fileURLWithPath: dir + "/a.png"))
        try Data(png.dropLast(12)).write(to: URL(fileURLWithPath: dir + "/sub/cut.png"))
        try Data("hello".utf8).write(to: URL(fileURLWithPath: dir + "/sub/notes.txt"))
        try Data(png).write(to: URL(fileURLWithPath: dir + "/.hidden.png"))
        try Data(png).write(to: URL(fileURLWithPath: dir + "/sub/.hidden-dir/x.png"))

        let r = try CLI.run(["inspect", "--json", dir])
        #expect(r.status == 1)
        #expect(r.stderr == "darkroom: \(dir)/sub/notes.txt: not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)\n")
        let lines = try Self.jsonLines(r)
        #expect(lines.count == 4)
        #expect(lines.map { $0["path"] as? String } == ["\(dir)/a.png", "\(dir)/sub/cut.png", "\(dir)/sub/notes.txt", nil])
        #expect(lines.map { $0["status"] as? String } == ["ok", "damaged", "error", nil])
        let a = lines[0]
        #expect(a["format"] as? String == "png" && a["width"] as? Int == 32 && a["upright_height"] as? Int == 32)
        #expect(a["billed_megapixels"] as? Int == 1 && a["bit_depth"] as? Int == 8 && a["alpha"] as? Bool == true)
        #expect(a["frames"] as? Int == 1 && a["orientation"] as? Int == 1 && a["bytes"] as? Int == png.count)
        #expect((a["metadata"] as? [String: Bool]) == ["exif": false, "gps": false, "xmp": false, "icc": false, "iptc": false, "c2pa": false])
        #expect((a["provenance"] as? [String: Any])?.count == 2)
        #expect((a["provenance"] as? [String: Any])?["digital_source_type"] is NSNull && (a["provenance"] as? [String: Any])?["c2pa"] is NSNull)
        #expect((a["colour"] as? [String: Any])?["description"] as? String == "gAMA 1 (converted to sRGB's curve)")
        #expect((a["colour"] as? [String: Any])?["gamma"] as? Double == 1.0)
        let damage = try #require(lines[1]["damage"] as? [[String: Any]])
        #expect(damage.count == 1 && damage[0]["kind"] as? String == "truncated")
        #expect(damage[0]["message"] as? String == "no IEND chunk: the file ends after \(png.count - 12) bytes without it")
        #expect(lines[2]["error"] as? String == "not a PNG, JPEG, WebP, AVIF or GIF file (format is sniffed from the bytes)")
        #expect((lines[3]["summary"] as? [String: Int]) == ["files": 3, "ok": 1, "damaged": 1, "errors": 1])

        // Human output: the damage on the file's line, the error on stderr, a summary line.
        let human = try CLI.run(["inspect", dir + "/sub"])
        #expect(human.status == 1)
        let out = String(decoding: human.stdoutData, as: UTF8.self)
        #expect(out.hasPrefix("\(dir)/sub/cut.png: png 32x32, ")
                && out.contains(", DAMAGED: truncated or corrupt: no IEND chunk: the file ends after \(png.count - 12) bytes without it\n"))
        #expect(out.hasSuffix("2 files: 0 ok, 1 damaged, 1 unreadable or not an image\n"))
    }

    @Test func missingFilesAndLimitsNameTheFile() throws {
        let r = try CLI.run(["inspect", "/nonexistent/x.png", TestImages.root.path + "/kodim23.jpg", "--max-pixels", "1000"])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("darkroom: /nonexistent/x.png: "))
        #expect(r.stderr.contains("darkroom: \(TestImages.root.path)/kodim23.jpg: 768x512 = 393216 px is over the limit of 1000 px"), "\(r.stderr)")
        let usage = try CLI.run(["inspect", "--max-pixels", "zero", TestImages.root.path + "/kodim23.jpg"])
        #expect(usage.status == 2)
    }
}
