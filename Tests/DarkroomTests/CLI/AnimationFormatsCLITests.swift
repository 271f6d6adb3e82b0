import Foundation
import Testing
@testable import Darkroom

/// `darkroom inspect` and `convert --frames` on the built binary with an APNG and an AVIF
/// sequence: frames, one play's duration and the loop count (an AVIF's is read as forever), frame
/// ranges as animations and single frames as stills.
@Suite(.enabled(if: CLI.binaryExists, "darkroom binary not built"))
struct AnimationFormatsCLITests {
    /// A 3-frame 4x4 APNG: red 100 ms, a blue 2x2 square at (1, 1) 200 ms, green 300 ms; 2 plays.
    static func apng() throws -> [UInt8] {
        typealias T = APNGTests
        return try T.apng(width: 4, height: 4, frames: [
            T.Frame(width: 4, height: 4, rgba: T.solid(T.red, 4, 4), delay: (1, 10)),
            T.Frame(x: 1, y: 1, width: 2, height: 2, rgba: T.solid(T.blue, 2, 2), delay: (2, 10)),
            T.Frame(width: 4, height: 4, rgba: T.solid(T.green, 4, 4), delay: (3, 10)),
        ], plays: 2)
    }

    /// A 3-frame 24x16 AVIF sequence of 100, 200 and 300 ms.
    static func avif() throws -> [UInt8] {
        let frames = AnimationTests.synthetic(frames: 3)
        let writer = try AnimationWriter(format: .avif, width: 24, height: 16, loopCount: 2, options: EncodeOptions(),
                                         lossless: false, embedding: .none)
        for (k, frame) in frames.enumerated() { try writer.add(frame.0, durationMs: 100 * (k + 1)) }
        return try writer.finish()
    }

    static func write(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    @Test func inspectShowsFramesDurationAndLoop() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = try Self.write(try Self.apng(), "anim.png", in: dir)
        let avif = try Self.write(try Self.avif(), "anim.avif", in: dir)
        for (path, loopText, loop) in [(png, "plays 2 times", 2), (avif, "loops forever", 0)] {
            let line = try CLI.run(["inspect", path])
            #expect(line.status == 0, "\(line.stderr)")
            let text = String(decoding: line.stdoutData, as: UTF8.self)
            #expect(text.contains("3 frames (600 ms, \(loopText))"), "\(text)")
            let json = try CLI.run(["inspect", path, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutData.split(separator: UInt8(ascii: "\n"))[0])) as? [String: Any])
            #expect(object["frames"] as? Int == 3 && object["duration_ms"] as? Int == 600 && object["loop"] as? Int == loop, "\(object)")
        }
    }

    @Test func framesOptionOnAPNGAndAVIF() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = try Self.write(try Self.apng(), "anim.png", in: dir)
        let avif = try Self.write(try Self.avif(), "anim.avif", in: dir)
        for input in [png, avif] {
            let name = URL(fileURLWithPath: input).pathExtension
            // Frames 1-2 as an animated GIF: their durations, in order.
            let gif = dir.appendingPathComponent("\(name)-sub.gif").path
            let sub = try CLI.run(["convert", input, "-o", gif, "--frames", "1-2", "--json"])
            #expect(sub.status == 0, "\(sub.stderr)")
            let item = try #require(try CLI.jsonLines(sub.stdoutData).items.first)
            #expect(item["output_frames"] as? Int == 2 && item["frames"] as? Int == 3, "\(item)")
            let reader = try AnimationReader([UInt8](try Data(contentsOf: URL(fileURLWithPath: gif))))
            #expect(reader.frameCount == 2 && reader.durationsMs == [200, 300])
            // Frame 1 as a still JPEG, without the first-frame warning.
            let jpeg = dir.appendingPathComponent("\(name)-one.jpg").path
            let one = try CLI.run(["convert", input, "-o", jpeg, "--frames", "1"])
            #expect(one.status == 0 && !one.stderr.contains("only the first frame"), "\(one.stderr)")
            // Every frame into JPEG: a usage error; frame 3 does not exist.
            let all = try CLI.run(["convert", input, "-o", jpeg, "--overwrite", "--frames", "all"])
            #expect(all.status == 2 && all.stderr.contains("--frames all needs an output format that can animate"), "\(all.stderr)")
            let missing = try CLI.run(["convert", input, "-o", jpeg, "--overwrite", "--frames", "3"])
            #expect(missing.status == 1 && missing.stderr.contains("frames from 0 to 2 (the file has 3 frames)"), "\(missing.stderr)")
            // By default a JPEG output gets the first frame, with the warning naming the count.
            let still = try CLI.run(["convert", input, "-o", jpeg, "--overwrite"])
            #expect(still.status == 0 && still.stderr.contains("animated (3 frames): only the first frame was converted (jpeg cannot animate"),
                    "\(still.stderr)")
        }
    }

    @Test func apngFramesCompositeInTheConversion() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = try Self.write(try Self.apng(), "anim.png", in: dir)
        // Frame 1 is the blue square drawn over frame 0's red (dispose NONE, blend SOURCE).
        let out = dir.appendingPathComponent("one.webp").path
        let r = try CLI.run(["convert", png, "-o", out, "--frames", "1", "--lossless"])
        #expect(r.status == 0, "\(r.stderr)")
        let image = try ImageDecoder.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))).image.converted(to: .rgba8)
        #expect(AnimationTests.pixel(image, 0, 0) == APNGTests.red && AnimationTests.pixel(image, 1, 1) == APNGTests.blue
                && AnimationTests.pixel(image, 2, 2) == APNGTests.blue && AnimationTests.pixel(image, 3, 3) == APNGTests.red)
    }
}
