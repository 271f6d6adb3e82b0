import Foundation
import Testing
@testable import Darkroom

/// Round trips between the four animated formats (GIF, WebP, APNG, AVIF sequence): every
/// conversion from one to another keeps the frame count, each duration (within 10 ms; exact for
/// these durations) and the loop count where both formats hold one (an AVIF's is read as
/// forever); lossless paths keep every visible pixel, AVIF ones stay close.
@Suite struct AnimationRoundTripTests {
    static let formats: [ImageFormat] = [.gif, .webp, .png, .avif]
    static let plays = 3

    /// `AnimationTests.synthetic()` (8 frames, 30 colours, a blinking transparent corner, 20–90 ms)
    /// written as `format`.
    static func source(_ format: ImageFormat) throws -> [UInt8] {
        let frames = AnimationTests.synthetic()
        var options = EncodeOptions(quality: 90, chroma: .yuv444, lossless: true)
        if format == .avif { options.lossless = false }
        let writer = try AnimationWriter(format: format, width: 24, height: 16, loopCount: plays, options: options,
                                         lossless: options.lossless, embedding: .none)
        for (image, ms) in frames { try writer.add(image, durationMs: ms) }
        return try writer.finish()
    }

    /// Options converting to `format`: lossless WebP, AVIF at quality 90 with 4:4:4 chroma.
    static func options(_ format: ImageFormat) -> ConvertOptions {
        var options = ConvertOptions(format: format)
        options.encode.lossless = format == .webp
        options.encode.quality = format == .avif ? 90 : nil
        options.encode.chroma = .yuv444
        return options
    }

    /// The loop count read back after `from` → `to`: AVIF stores none (read as forever).
    static func expectedLoop(from: ImageFormat, to: ImageFormat) -> Int {
        from == .avif || to == .avif ? 0 : plays
    }

    static let pairs: [(ImageFormat, ImageFormat)] = formats.flatMap { a in formats.filter { $0 != a }.map { (a, $0) } }

    @Test(arguments: pairs)
    func conversionKeepsFramesDurationsAndLoop(_ from: ImageFormat, _ to: ImageFormat) throws {
        let input = try Self.source(from)
        let source = try AnimationReader(input)
        #expect(source.format == from && source.frameCount == 8, "\(from) source")
        let converted = try Converter(options: Self.options(to)).convert(input)
        #expect(converted.format == to && converted.frameCount == 8, "\(from) → \(to): \(converted.frameCount) frames")
        let out = try AnimationReader(converted.bytes)
        #expect(out.format == to && out.frameCount == 8, "\(from) → \(to)")
        let want = AnimationTests.synthetic().map(\.1)
        #expect(zip(out.durationsMs, want).allSatisfy { abs($0 - $1) <= 10 } && out.durationsMs.count == 8,
                "\(from) → \(to): durations \(out.durationsMs)")
        // These durations (multiples of 10 ms over 10) every format holds exactly.
        #expect(out.durationsMs == want, "\(from) → \(to): durations \(out.durationsMs)")
        #expect(out.loopCount == Self.expectedLoop(from: from, to: to), "\(from) → \(to): loop \(out.loopCount)")
        // Pixels: exact between the lossless formats; within AVIF's loss otherwise.
        let a = try AnimationTests.frames(input), b = try AnimationTests.frames(converted.bytes)
        for k in 0..<min(a.count, b.count) {
            if from != .avif && to != .avif {
                #expect(AnimationTests.firstDifference(a[k].image, b[k].image) == nil, "\(from) → \(to): frame \(k)")
            } else {
                let psnr = AVIFSequenceTests.psnr(a[k].image, b[k].image)
                #expect(psnr >= 30, "\(from) → \(to): frame \(k) PSNR \(psnr)")
            }
        }
    }

    /// GIF → WebP → APNG → AVIF → GIF: eight frames and their durations all the way; the loop
    /// count until the AVIF, forever after it.
    @Test func chainThroughAllFour() throws {
        var bytes = try Self.source(.gif)
        let want = AnimationTests.synthetic().map(\.1)
        for (k, format) in [ImageFormat.webp, .png, .avif, .gif].enumerated() {
            bytes = try Converter(options: Self.options(format)).convert(bytes).bytes
            let reader = try AnimationReader(bytes)
            #expect(reader.format == format && reader.frameCount == 8 && reader.durationsMs == want, "step \(k): \(format)")
            #expect(reader.loopCount == (k < 2 ? Self.plays : 0), "step \(k): \(format) loop \(reader.loopCount)")
        }
    }
}
