import Foundation
import Testing
@testable import Darkroom

/// `darkroom convert` and `inspect` with animations on the built binary: `--frames`, the
/// first-frame warning on standard error and in `--json`, loop and duration in `inspect`, cut files
/// under `--fail-on`.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"))
struct AnimationCLITests {
    static let animated = TestImages.root.appendingPathComponent("animated.gif").path

    @Test func animationIsKeptForWebPGIFAndPNG() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for ext in ["webp", "gif", "png"] {
            let out = dir.appendingPathComponent("out.\(ext)").path
            let r = try CLI.run(["convert", Self.animated, "-o", out, "--json"])
            #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
            let item = try #require(try CLI.jsonLines(r.stdoutData).items.first)
            #expect(item["output_frames"] as? Int == 2 && item["frames"] as? Int == 2 && item["warnings"] == nil)
            #expect(item["loop"] as? Int == 0 && item["duration_ms"] as? Int == 200)
            let reader = try AnimationReader([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
            #expect(reader.frameCount == 2 && reader.loopCount == 0 && reader.durationsMs == [100, 100])
        }
    }

    @Test func stillOutputWarnsOnStderrAndInJSON() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out.jpg").path
        let r = try CLI.run(["convert", Self.animated, "-o", out, "--json"])
        #expect(r.status == 0)
        #expect(r.stderr.contains("animated (2 frames): only the first frame was converted (jpeg cannot animate; webp, gif, png and avif can"), "\(r.stderr)")
        let item = try #require(try CLI.jsonLines(r.stdoutData).items.first)
        let warnings = try #require(item["warnings"] as? [[String: Any]])
        #expect(warnings.contains { $0["kind"] as? String == "animation" })
        #expect(item["output_frames"] as? Int == 1)
        // --frames first says it is meant: no warning.
        let quiet = try CLI.run(["convert", Self.animated, "-o", out, "--overwrite", "--frames", "first"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("only the first frame"), "\(quiet.stderr)")
    }

    @Test func framesOption() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("one.jpg").path
        // all into a format that cannot animate: a usage error before any work.
        let all = try CLI.run(["convert", Self.animated, "-o", png, "--frames", "all"])
        #expect(all.status == 2 && all.stderr.contains("--frames all needs an output format that can animate"), "\(all.stderr)")
        #expect(!FileManager.default.fileExists(atPath: png))
        // A bad value: a usage error naming the accepted ones.
        let bad = try CLI.run(["convert", Self.animated, "-o", png, "--frames", "2-1"])
        #expect(bad.status == 2 && bad.stderr.contains("all, first, a frame number N or a range A-B"), "\(bad.stderr)")
        // Frame 1 as a still; frame 5 does not exist.
        let one = try CLI.run(["convert", Self.animated, "-o", png, "--frames", "1"])
        #expect(one.status == 0 && !one.stderr.contains("only the first frame"), "\(one.stderr)")
        let missing = try CLI.run(["convert", Self.animated, "-o", png, "--overwrite", "--frames", "5"])
        #expect(missing.status == 1 && missing.stderr.contains("frames from 0 to 1 (the file has 2 frames)"), "\(missing.stderr)")
        // --max-bytes with an animated output: one quality searched for every frame.
        let t = dir.appendingPathComponent("t.webp").path
        let target = try CLI.run(["convert", Self.animated, "-o", t, "--max-bytes", "10k", "--json"])
        #expect(target.status == 0, "\(target.stderr)")
        let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: t)))
        #expect(try written.count <= 10_000 && AnimationReader(written).frameCount == 2)
        let item = try #require(try CLI.jsonLines(target.stdoutData).items.first)
        #expect(item["output_frames"] as? Int == 2 && item["quality"] != nil, "\(item)")
    }

    @Test func inspectShowsDurationAndLoop() throws {
        let r = try CLI.run(["inspect", Self.animated, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdoutData.split(separator: UInt8(ascii: "\n"))[0])) as? [String: Any])
        #expect(object["frames"] as? Int == 2 && object["duration_ms"] as? Int == 200 && object["loop"] as? Int == 0)
        let line = try CLI.run(["inspect", Self.animated])
        #expect(String(decoding: line.stdoutData, as: UTF8.self).contains("2 frames (200 ms, loops forever)"))
    }

    @Test func cutGIFUnderEachFailOn() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = AnimationTests.sixFrames()
        let cut = dir.appendingPathComponent("cut.gif")
        try Data(whole.prefix(whole.count / 2)).write(to: cut)
        let expectedFrames = try AnimationReader(Array(whole.prefix(whole.count / 2)), options: DecodeOptions(failOn: .none)).frameCount
        #expect(expectedFrames < 6)
        for (failOn, status) in [("none", Int32(0)), ("truncated", 1), ("warning", 1)] {
            let out = dir.appendingPathComponent("out-\(failOn).webp").path
            let r = try CLI.run(["convert", cut.path, "-o", out, "--fail-on", failOn, "--json"])
            #expect(r.status == status, "--fail-on \(failOn): \(r.stderr)")
            #expect(r.stderr.contains("truncated or corrupt"), "--fail-on \(failOn): \(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: out) == (status == 0))
            if status == 0 {
                let item = try #require(try CLI.jsonLines(r.stdoutData).items.first)
                #expect(item["frames"] as? Int == expectedFrames)
            }
        }
        let inspect = try CLI.run(["inspect", cut.path, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdoutData.split(separator: UInt8(ascii: "\n"))[0])) as? [String: Any])
        #expect(object["frames"] as? Int == expectedFrames && object["status"] as? String == "damaged")
    }

    /// An APNG input on the command line: inspect shows its frames, duration and loop; convert
    /// keeps them (into WebP and back into APNG) and `--frames` picks from them.
    @Test func apngInspectConvertAndFrames() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("anim.png")
        // 3 frames of 4x4 (100, 200, 300 ms), played twice.
        let frames = [APNGTests.red, APNGTests.green, APNGTests.blue].enumerated().map { k, colour in
            APNGTests.Frame(width: 4, height: 4, rgba: APNGTests.solid(colour, 4, 4), delay: (k + 1, 10))
        }
        try Data(try APNGTests.apng(width: 4, height: 4, frames: frames, plays: 2)).write(to: input)
        let inspect = try CLI.run(["inspect", input.path, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdoutData.split(separator: UInt8(ascii: "\n"))[0])) as? [String: Any])
        #expect(object["frames"] as? Int == 3 && object["duration_ms"] as? Int == 600 && object["loop"] as? Int == 2, "\(object)")
        let line = try CLI.run(["inspect", input.path])
        #expect(String(decoding: line.stdoutData, as: UTF8.self).contains("3 frames (600 ms, plays 2 times)"))
        for ext in ["webp", "png"] {
            let out = dir.appendingPathComponent("out.\(ext)").path
            let r = try CLI.run(["convert", input.path, "-o", out, "--json", "--lossless"])
            #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
            let item = try #require(try CLI.jsonLines(r.stdoutData).items.first)
            #expect(item["output_frames"] as? Int == 3 && item["loop"] as? Int == 2 && item["duration_ms"] as? Int == 600, "\(item)")
            let reader = try AnimationReader([UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
            #expect(reader.frameCount == 3 && reader.loopCount == 2 && reader.durationsMs == [100, 200, 300])
        }
        // --frames 1-2 into APNG, --frames 2 into a still PNG.
        let range = dir.appendingPathComponent("range.png").path
        #expect(try CLI.run(["convert", input.path, "-o", range, "--frames", "1-2"]).status == 0)
        #expect(try AnimationReader([UInt8](try Data(contentsOf: URL(fileURLWithPath: range)))).durationsMs == [200, 300])
        let one = dir.appendingPathComponent("one.png").path
        #expect(try CLI.run(["convert", input.path, "-o", one, "--frames", "2"]).status == 0)
        let still = [UInt8](try Data(contentsOf: URL(fileURLWithPath: one)))
        #expect(APNGScan(still) == nil)
        #expect(AnimationTests.pixel(try ImageDecoder.decode(still).image.converted(to: .rgba8), 0, 0) == APNGTests.blue)
    }
}
