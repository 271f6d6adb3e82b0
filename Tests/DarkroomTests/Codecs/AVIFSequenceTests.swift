import Foundation
import Testing
@testable import Darkroom

/// AVIF image sequences: reading (frames, durations from the track's timing, loop count 0 as
/// players loop them, the pixel limit over frames, `--frames`), writing through
/// ``AVIFAnimWriter`` (timescale 1000 Hz: durations exact; no loop count), and libavif's corpus
/// sequences against Pillow's reading of them.
@Suite struct AVIFSequenceTests {
    static let corpusSequences = [
        "conform/avif/libavif/colors-animated-8bpc.avif",
        "conform/avif/libavif/colors-animated-8bpc-alpha-exif-xmp.avif",
        "conform/avif/libavif/colors-animated-12bpc-keyframes-0-2-3.avif",
    ]

    /// PSNR in dB of the RGB samples of pixels opaque in both (99 when identical).
    static func psnr(_ a: Image, _ b: Image) -> Double {
        var sum = 0.0, n = 0
        for y in 0..<a.height {
            for x in 0..<a.width {
                let p = AnimationTests.pixel(a, x, y), q = AnimationTests.pixel(b, x, y)
                guard p[3] == 255 && q[3] == 255 else { continue }
                for c in 0..<3 { let d = Double(p[c]) - Double(q[c]); sum += d * d }
                n += 3
            }
        }
        guard n > 0, sum > 0 else { return 99 }
        return 10 * log10(255 * 255 / (sum / Double(n)))
    }

    /// A sequence of `AnimationTests.synthetic()` written by the AVIF writer at `quality`.
    /// 4:4:4 chroma: the test picture's 1-pixel colour edges stay sharp.
    static func sequence(quality: Int = 90, frames: Int = 8) throws -> (bytes: [UInt8], source: [(Image, Int)]) {
        let source = AnimationTests.synthetic(frames: frames)
        let writer = try AnimationWriter(format: .avif, width: 24, height: 16, loopCount: 3,
                                         options: EncodeOptions(quality: quality, chroma: .yuv444), lossless: false, embedding: .none)
        for (image, ms) in source { try writer.add(image, durationMs: ms) }
        return (try writer.finish(), source)
    }

    @Test func writtenSequenceKeepsFramesDurationsAndPixels() throws {
        let (bytes, source) = try Self.sequence()
        #expect(ImageFormat.sniff(bytes) == .avif)
        let reader = try AnimationReader(bytes)
        // Every duration exact (a 1000 Hz timescale); no loop count in the file: read as forever.
        #expect(reader.format == .avif && reader.frameCount == 8 && reader.loopCount == 0)
        #expect(reader.durationsMs == source.map(\.1))
        #expect(reader.width == 24 && reader.height == 16)
        var k = 0
        while let frame = try reader.next() {
            #expect(frame.index == k && frame.durationMs == source[k].1)
            // Lossy, but close: the opaque colours at quality 90 (4:4:4), and the transparent corner stays
            // transparent (alpha within 16 of the source everywhere).
            let p = Self.psnr(frame.image, source[k].0)
            #expect(p >= 30, "frame \(k): PSNR \(p)")
            let holes = (0..<3).flatMap { y in (0..<3).map { x in AnimationTests.pixel(frame.image, x, y)[3] } }
            #expect(holes.allSatisfy { k % 2 == 1 ? $0 <= 16 : $0 >= 239 }, "frame \(k) corner alpha \(holes)")
            k += 1
        }
        #expect(k == 8)
        let inspected = try ImageInspection.inspect(bytes)
        #expect(inspected.frameCount == 8 && inspected.loopCount == 0 && inspected.durationMs == source.map(\.1).reduce(0, +))
    }

    @Test func zeroAndOddDurationsAreWrittenAsMilliseconds() throws {
        let frames = AnimationTests.synthetic(frames: 4)
        let writer = try AnimationWriter(format: .avif, width: 24, height: 16, loopCount: 0, options: EncodeOptions(),
                                         lossless: false, embedding: .none)
        // libavif coerces a duration of 0 to one timescale unit: 1 ms.
        for (k, ms) in [0, 7, 1234, 65_536].enumerated() { try writer.add(frames[k].0, durationMs: ms) }
        let reader = try AnimationReader(try writer.finish())
        #expect(reader.durationsMs == [1, 7, 1234, 65_536])
    }

    @Test func framesTimesCanvasCountAgainstThePixelLimit() throws {
        let (bytes, _) = try Self.sequence(frames: 6)
        // 24x16 = 384 px a frame: six frames are 2,304 px; a still of one would pass.
        var options = DecodeOptions()
        options.maxPixels = 2_000
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 24, height: 96, limit: 2_000))) {
            try AnimationReader(bytes, options: options)
        }
        options.maxPixels = 2_304
        #expect(try AnimationReader(bytes, options: options).frameCount == 6)
        // A conversion that keeps frames 0-1 decodes two: 768 px.
        var convert = ConvertOptions(format: .avif, frames: .range(0...1))
        convert.decode.maxPixels = 768
        let two = try Converter(options: convert).convert(bytes)
        let count = try AnimationReader(two.bytes).frameCount
        #expect(two.frameCount == 2 && count == 2)
    }

    @Test func frameSelectionAndStillOutputs() throws {
        let (bytes, source) = try Self.sequence()
        // A range as an animation: the frames' durations, in order.
        let sub = try Converter(options: ConvertOptions(format: .webp, frames: .range(2...4))).convert(bytes)
        let reader = try AnimationReader(sub.bytes)
        #expect(sub.frameCount == 3 && reader.frameCount == 3 && reader.durationsMs == source[2...4].map(\.1))
        // One frame as a still PNG: frame 5 exactly as the reader gives it, not the first.
        let still = try Converter(options: ConvertOptions(format: .png, frames: .range(5...5))).convert(bytes)
        #expect(still.frameCount == 1 && still.format == .png)
        let decoded = try ImageDecoder.decode(still.bytes).image.converted(to: .rgba8)
        let frames = try AnimationTests.frames(bytes)
        #expect(AnimationTests.firstDifference(decoded, frames[5].image) == nil)
        #expect(AnimationTests.firstDifference(decoded, frames[0].image) != nil)
        // Past the last frame: refused, naming the count.
        #expect(throws: DarkroomError.self) { try Converter(options: ConvertOptions(format: .webp, frames: .range(8...9))).convert(bytes) }
    }

    /// libavif 0.11 times frame n by adding the n durations before it, each found by walking the
    /// `stts` entries: the cost is bounded before any frame is read.
    @Test func timingCostIsBounded() throws {
        // Eight different durations: eight stts entries in the written track.
        let (bytes, _) = try Self.sequence()
        #expect(AVIFBoxes.largestTimeToSampleCount(bytes) == 8)
        #expect(AVIFBoxes.largestTimeToSampleCount(try AVIFCodec.encode(AnimationTests.synthetic(frames: 1)[0].0, quantizer: 30,
                                                                         alphaQuantizer: 15, speed: 8, chroma: .yuv420,
                                                                         icc: nil, exif: nil)) == 0)
        #expect(AVIFCodec.File.timingSteps(frames: 8, entries: 8) == 256)
        #expect(AVIFCodec.File.timingSteps(frames: 1000, entries: 3) == 1_500_000)
        // A constant frame rate (one entry): up to 89,442 frames; one entry per frame: 2,000.
        #expect(AVIFCodec.File.timingSteps(frames: 89_442, entries: 1) <= AVIFCodec.File.maxTimingSteps)
        #expect(AVIFCodec.File.timingSteps(frames: 89_443, entries: 1) > AVIFCodec.File.maxTimingSteps)
        #expect(AVIFCodec.File.timingSteps(frames: 2_000, entries: 2_000) <= AVIFCodec.File.maxTimingSteps)
        #expect(AVIFCodec.File.timingSteps(frames: 2_100, entries: 2_100) > AVIFCodec.File.maxTimingSteps)
        // libavif's own frame limit (2,592,000) with as many entries is far over; 2^32 frames
        // saturate instead of overflowing.
        #expect(AVIFCodec.File.timingSteps(frames: 2_592_000, entries: 2_592_000) == 8_707_129_344_000_000_000)
        #expect(AVIFCodec.File.timingSteps(frames: Int(UInt32.max), entries: 1) == Int.max)
    }

    @Test func cutSequenceIsRefused() throws {
        let (bytes, _) = try Self.sequence()
        let cut = Array(bytes.prefix(bytes.count * 2 / 3))
        #expect(throws: DarkroomError.self) {
            let reader = try AnimationReader(cut)
            while try reader.next() != nil {}
        }
    }

    @Test func gifToAVIFKeepsFramesAndDurations() throws {
        let gif = try AnimationTests.write(AnimationTests.synthetic(), as: .gif, loop: 5)
        let avif = try Converter(options: ConvertOptions(format: .avif)).convert(gif)
        #expect(avif.format == .avif && avif.frameCount == 8)
        let reader = try AnimationReader(avif.bytes)
        // The loop count (5 plays) cannot be stored: read back as forever.
        #expect(reader.frameCount == 8 && reader.loopCount == 0 && reader.durationsMs == AnimationTests.synthetic().map(\.1))
    }

    @Test(.enabled(if: TestSupport.hasCorpus && AnimationTests.hasPillow,
                   "Pillow (~/.cache/darkroom-peers/bin/python) or ../shared/corpus missing: sequences not compared with Pillow"))
    func corpusSequencesMatchPillow() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected: [String: (frames: Int, durations: [Int])] = [
            "colors-animated-8bpc.avif": (5, [33, 33, 33, 33, 33]),
            "colors-animated-8bpc-alpha-exif-xmp.avif": (5, [167, 167, 167, 167, 167]),
            "colors-animated-12bpc-keyframes-0-2-3.avif": (5, [1000, 1000, 1000, 1000, 1000]),
        ]
        for path in Self.corpusSequences {
            let input = TestSupport.corpus.appendingPathComponent(path)
            let bytes = [UInt8](try Data(contentsOf: input))
            let reader = try AnimationReader(bytes)
            let want = try #require(expected[input.lastPathComponent])
            #expect(reader.frameCount == want.frames && reader.durationsMs == want.durations && reader.loopCount == 0, "\(path)")
            // Lossless WebP of the frames, compared with Pillow's reading of the AVIF.
            var options = ConvertOptions(format: .webp)
            options.encode.lossless = true
            let converted = try Converter(options: options).convert(bytes)
            #expect(converted.frameCount == want.frames)
            let output = dir.appendingPathComponent("out.webp")
            try Data(converted.bytes).write(to: output)
            let report = try AnimationTests.pillowCompare(input.path, output.path)
            let frames = try #require(report["frames"] as? [Int])
            let durations = try #require(report["durations"] as? [[Int]])
            let diff = try #require(report["max_diff"] as? [Int])
            let mismatched = try #require(report["mismatched"] as? [Int])
            #expect(frames == [want.frames, want.frames], "\(path): \(frames)")
            #expect(durations[0] == want.durations && durations[1] == want.durations, "\(path): \(durations)")
            #expect(mismatched.allSatisfy { $0 == 0 }, "\(path): \(mismatched)")
            // 8-bit sequences: the same samples as Pillow's libavif; 12-bit ones are narrowed to 8
            // bits by libavif versions that round differently (at most 4 levels).
            let tolerance = path.contains("12bpc") ? 4 : 0
            #expect(diff.allSatisfy { $0 <= tolerance }, "\(path): max diff \(diff)")
        }
    }
}
