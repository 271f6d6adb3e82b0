import Foundation
import Testing
@testable import Darkroom

/// Issue #17: a target file size. The quality search finds the highest quality that fits in at
/// most ``TargetSize/maxAttempts`` encodes of the one resized image; when nothing from
/// `minQuality` up fits, the smallest attempt is the output and `met` is false.
@Suite struct TargetSizeTests {
    // MARK: The search alone, on synthetic sizes

    /// A strictly growing size curve: `base + q + scale·e^(k·q)` bytes.
    struct Curve: CustomStringConvertible {
        var k: Double
        var scale: Double
        func size(_ q: Int) -> Int { 1000 + q + Int(scale * exp(k * Double(q))) }
        var description: String { "k \(k) scale \(scale)" }
    }

    static let curves = [Curve(k: 0.001, scale: 1000), Curve(k: 0.03, scale: 1000), Curve(k: 0.08, scale: 10),
                         Curve(k: 0.3, scale: 1), Curve(k: 0, scale: 0)]

    @Test(arguments: [(30, 100), (0, 100), (30, 85), (100, 100), (50, 51), (0, 0), (99, 100)])
    func theSearchFindsTheExactBoundaryWithinTheBudget(floor: Int, cap: Int) throws {
        for curve in Self.curves {
            for answer in (floor - 1)...cap {
                let maxBytes = answer >= floor ? curve.size(answer) : curve.size(floor) - 1
                var encoded: [Int] = []
                let found = try TargetSizeSearch(maxBytes: maxBytes, floor: floor, cap: cap).run { q in
                    encoded.append(q)
                    return repeatElement(UInt8(0), count: curve.size(q))
                }
                let context = Comment(rawValue: "\(curve) floor \(floor) cap \(cap) answer \(answer) tried \(encoded)")
                #expect(encoded.count <= TargetSize.maxAttempts, context)
                #expect(Set(encoded).count == encoded.count, context)
                #expect(found.attempts.map(\.quality) == encoded, context)
                #expect(found.met == (answer >= floor), context)
                // Met: the answer itself; unmet: the floor, the smallest of a growing curve.
                #expect(found.quality == max(answer, floor), context)
                #expect(found.bytes.count == curve.size(found.quality), context)
            }
        }
    }

    /// Sizes that do not grow with quality (random): the search still ends within the budget, on
    /// a quality that fits whose next one does not, and an unmet search returns its smallest attempt.
    @Test func theSearchEndsWithinTheBudgetWhateverTheSizes() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let floor = Int.random(in: 0...100, using: &generator)
            let cap = Int.random(in: floor...100, using: &generator)
            let sizes = (0...100).map { _ in Int.random(in: 1...10_000, using: &generator) }
            let maxBytes = Int.random(in: 1...10_000, using: &generator)
            var encoded: [Int] = []
            let found = try TargetSizeSearch(maxBytes: maxBytes, floor: floor, cap: cap).run { q in
                encoded.append(q)
                return repeatElement(UInt8(0), count: sizes[q])
            }
            let context = Comment(rawValue: "floor \(floor) cap \(cap) max \(maxBytes) tried \(encoded)")
            #expect(encoded.count <= TargetSize.maxAttempts && Set(encoded).count == encoded.count, context)
            #expect(encoded.allSatisfy { (floor...cap).contains($0) }, context)
            if found.met {
                #expect(sizes[found.quality] <= maxBytes && found.bytes.count == sizes[found.quality], context)
                #expect(found.quality == cap || (encoded.contains(found.quality + 1) && sizes[found.quality + 1] > maxBytes), context)
            } else {
                #expect(encoded.contains(floor) && encoded.allSatisfy { sizes[$0] > maxBytes }, context)
                #expect(found.bytes.count == encoded.map { sizes[$0] }.min(), context)
            }
        }
    }

    // MARK: Conversions

    static func convert(_ name: String, _ options: ConvertOptions) throws -> (ConversionResult, TargetSize.Outcome, encodes: Int) {
        let events = PipelineEvents.Counter()
        let result = try PipelineEvents.$counter.withValue(events) {
            try Converter(options: options).convert(TestImages.bytes(name))
        }
        let outcome = try #require(result.targetSize)
        return (result, outcome, events["target-size-encode"])
    }

    @Test(arguments: [(ImageFormat.jpeg, [20_000, 45_000, 90_000]), (.webp, [12_000, 30_000]), (.avif, [8_000, 15_000])])
    func outputsFitAtTheHighestQualityThatFits(format: ImageFormat, targets: [Int]) throws {
        for maxBytes in targets {
            let (result, outcome, encodes) = try Self.convert("kodim23.jpg", ConvertOptions(format: format,
                                                              targetSize: TargetSize(maxBytes: maxBytes)))
            let quality = try #require(outcome.quality)
            #expect(outcome.met && result.bytes.count <= maxBytes, "\(format) \(maxBytes): \(outcome.attempts)")
            #expect((1...TargetSize.maxAttempts).contains(outcome.attempts.count), "\(outcome.attempts)")
            #expect(encodes == outcome.attempts.count)
            #expect(outcome.attempts.contains(TargetSize.Attempt(quality: quality, bytes: result.bytes.count)))
            #expect(outcome.target == TargetSize(maxBytes: maxBytes))
            let decoded = try ImageDecoder.decode(result.bytes)
            #expect(ImageFormat.sniff(result.bytes) == format && decoded.image.width == 768 && decoded.image.height == 512)
            // Q is the output's quality, and Q + 1 does not fit.
            let again = try Self.convert("kodim23.jpg", ConvertOptions(format: format, quality: quality,
                                                                       targetSize: TargetSize(maxBytes: Int.max >> 30)))
            #expect(again.0.bytes == result.bytes)
            try #require(quality < 100, "kodim23 fits at 100 under \(maxBytes): pick a smaller target")
            let above = try Self.convert("kodim23.jpg", ConvertOptions(format: format, quality: quality + 1,
                                                                       targetSize: TargetSize(maxBytes: maxBytes, minQuality: quality + 1)))
            #expect(!above.1.met && above.1.attempts.count == 1 && above.0.bytes.count > maxBytes,
                    "\(format) \(maxBytes): Q \(quality + 1) gives \(above.0.bytes.count) bytes")
        }
    }

    @Test func theQualityGivenIsTheCap() throws {
        // Everything fits: one encode, at the quality given.
        let (result, outcome, _) = try Self.convert("kodim23.jpg", ConvertOptions(format: .jpeg, quality: 70,
                                                                                 targetSize: TargetSize(maxBytes: 10_000_000)))
        #expect(outcome.met && outcome.quality == 70 && outcome.attempts == [TargetSize.Attempt(quality: 70, bytes: result.bytes.count)])
        // Without a quality, the cap is 100.
        let free = try Self.convert("hopper.jpg", ConvertOptions(format: .webp, targetSize: TargetSize(maxBytes: 10_000_000)))
        #expect(free.1.met && free.1.quality == 100 && free.1.attempts.count == 1)
        // A cap below the minimum quality is the one quality tried.
        let low = try Self.convert("kodim23.jpg", ConvertOptions(format: .jpeg, quality: 20,
                                                                 targetSize: TargetSize(maxBytes: 1000, minQuality: 30)))
        #expect(!low.1.met && low.1.quality == 20 && low.1.attempts.map(\.quality) == [20])
    }

    @Test(arguments: [ImageFormat.jpeg, .webp, .avif])
    func unmetReturnsTheSmallestAttempt(format: ImageFormat) throws {
        let (result, outcome, _) = try Self.convert("kodim23.jpg", ConvertOptions(format: format,
                                                                                 targetSize: TargetSize(maxBytes: 1500, minQuality: 30)))
        #expect(!outcome.met && result.bytes.count > 1500)
        #expect(outcome.attempts.count <= TargetSize.maxAttempts)
        #expect(outcome.attempts.contains { $0.quality == 30 }, "the minimum quality was tried: \(outcome.attempts)")
        #expect(result.bytes.count == outcome.attempts.map(\.bytes).min())
        #expect(outcome.attempts.first { $0.bytes == result.bytes.count }?.quality == outcome.quality)
        _ = try ImageDecoder.decode(result.bytes)
    }

    @Test func losslessOutputsAreEncodedOnce() throws {
        for (format, lossless) in [(ImageFormat.png, false), (.gif, false), (.webp, true)] {
            var options = ConvertOptions(format: format, targetSize: TargetSize(maxBytes: 2000))
            options.encode.lossless = lossless
            let (over, outcome, encodes) = try Self.convert("kodim23.jpg", options)
            #expect(!outcome.met && outcome.quality == nil && encodes == 1, "\(format)")
            #expect(outcome.attempts == [TargetSize.Attempt(quality: nil, bytes: over.bytes.count)] && over.bytes.count > 2000)
            options.targetSize = TargetSize(maxBytes: over.bytes.count)
            let fits = try Self.convert("kodim23.jpg", options)
            #expect(fits.1.met && fits.0.bytes == over.bytes, "\(format)")
        }
    }

    /// JPEG → JPEG under a target size takes the planar route too: the planes are resized once,
    /// kept whole and encoded at each quality tried, so the quality found is the file `-q` with it
    /// (and optimised Huffman tables) writes. A PNG's rows still stream into the resampler, but the
    /// JPEG is not encoded from them: the resized image is made once and encoded at each quality.
    @Test func aTargetSizeKeepsTheResizedImageForEveryEncode() throws {
        let resize = try ResizeGeometry(parsing: "50%")
        var options = ConvertOptions(format: .jpeg, resize: resize, resampling: ResizeOptions(threads: 2))
        options.targetSize = TargetSize(maxBytes: 7_311)
        if ResampleKernel.selected != .scalar {
            #expect(try TestPlan.plan(TestImages.bytes("kodim23.jpg"), options).route == .planes)
        }
        let events = PipelineEvents.Counter()
        let result = try PipelineEvents.$counter.withValue(events) {
            try Converter(options: options).convert(TestImages.bytes("kodim23.jpg"))
        }
        let outcome = try #require(result.targetSize)
        let quality = try #require(outcome.quality)
        #expect(outcome.met && result.bytes.count <= 7_311 && result.width == 384 && result.height == 256)
        #expect(outcome.attempts.count > 1 && events["target-size-encode"] == outcome.attempts.count)
        if ResampleKernel.selected != .scalar { #expect(events["planar-route"] == 1, "the planes are resized once") }
        var same = ConvertOptions(format: .jpeg, quality: quality, resize: resize, resampling: ResizeOptions(threads: 2))
        same.encode.optimizeCoding = true
        #expect(try Converter(options: same).convert(TestImages.bytes("kodim23.jpg")).bytes == result.bytes,
                "-q \(quality) writes the file the search chose")
        same.encode.quality = quality + 1
        #expect(try Converter(options: same).convert(TestImages.bytes("kodim23.jpg")).bytes.count > 7_311)

        let png = try PNGCodec.encode(try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image, icc: nil, exif: nil)
        options.targetSize = TargetSize(maxBytes: 12_000)
        let plan = try TestPlan.plan(png, options)
        if ResampleKernel.selected != .scalar {
            #expect(plan.route == .rows(.init(format: .rgb8, background: true, restartBands: false, encodeRows: false, ringRows: 0)))
        }
        let rowEvents = PipelineEvents.Counter()
        let rows = try PipelineEvents.$counter.withValue(rowEvents) { try Converter(options: options).convert(png) }
        let rowOutcome = try #require(rows.targetSize)
        #expect(rowOutcome.met && rows.bytes.count <= 12_000 && rows.width == 384 && rows.height == 256)
        #expect(rowOutcome.attempts.count > 1 && rowEvents["target-size-encode"] == rowOutcome.attempts.count)
        #expect(rowEvents["ring-output"] == 0)
        // Without a target: no outcome.
        #expect(try Converter(options: ConvertOptions(format: .jpeg)).convert(TestImages.bytes("hopper.jpg")).targetSize == nil)
    }
}

/// Issue #17's measurement: attempts and time per file for 20 varied images (testimages/ and the
/// shared corpus, sides capped at 2000 px) and targets of 50k, 200k and 500k bytes, as JPEG, WebP
/// and AVIF. Run only when asked: `DARKROOM_MEASURE_TARGET_SIZE=1 swift test --filter TargetSizeMeasurement`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["DARKROOM_MEASURE_TARGET_SIZE"] == "1" && TestSupport.hasCorpus))
struct TargetSizeMeasurement {
    static let files = [
        "kodim23.jpg", "hopper.jpg", "cmyk.jpg", "gray.jpg",
    ].map { TestImages.root.appendingPathComponent($0) } + [
        "orientation/recurser/Landscape_0.jpg", "orientation/recurser/Portrait_0.jpg",
        "color/jpeg/adobe-rgb-1998_xmp_test.jpg", "color/avif/display-p3_3024x4032.avif",
        "conform/jpeg/pillow/junk_jpeg_header.jpg", "conform/jpeg/libavif/paris_extended_xmp.jpg",
        "conform/jpeg/libavif/seine_sdr_gainmap_srgb.jpg", "color/png/monkey16.png",
        "orientation/pillow/exif_imagemagick_orientation.png", "conform/png/misc/uncompressed_rgb.png",
        "conform/png/misc/itxt_chunks.png", "conform/avif/libavif/sofa_grid1x5_420.avif",
        "color/jpeg/display-p3_apple_gainmap_new.jpg", "conform/webp/golang/blue-purple-pink-large.no-filter.lossy.webp",
        "conform/avif/libavif/kodim03_yuv420_8bpc.avif", "conform/avif/libavif/weld_sato_12B_8B_q0.avif",
    ].map { TestSupport.corpus.appendingPathComponent($0) }

    @Test(arguments: [ImageFormat.jpeg, .webp, .avif])
    func attemptsPerFile(format: ImageFormat) throws {
        // DARKROOM_MEASURE_FORMATS=jpeg,webp measures only those.
        if let only = ProcessInfo.processInfo.environment["DARKROOM_MEASURE_FORMATS"],
           !only.split(separator: ",").contains(Substring(format.rawValue)) { return }
        for maxBytes in [50_000, 200_000, 500_000] {
            var attempts: [Int] = [], seconds: [Double] = [], unmet = 0
            for file in Self.files {
                let bytes = [UInt8](try Data(contentsOf: file))
                let options = ConvertOptions(format: format, resize: try ResizeGeometry(parsing: "2000x2000>"),
                                             targetSize: TargetSize(maxBytes: maxBytes))
                let start = ContinuousClock.now
                let result = try Converter(options: options).convert(bytes)
                let elapsed = ContinuousClock.now - start
                let outcome = try #require(result.targetSize)
                #expect(outcome.attempts.count <= TargetSize.maxAttempts)
                #expect(!outcome.met || result.bytes.count <= maxBytes)
                attempts.append(outcome.attempts.count)
                seconds.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                if !outcome.met { unmet += 1 }
                print("MEASURE \(format) \(maxBytes) \(file.lastPathComponent) \(result.width)x\(result.height) "
                      + "q=\(outcome.quality.map(String.init) ?? "-") met=\(outcome.met) "
                      + outcome.attempts.map { "\($0.quality ?? -1):\($0.bytes)" }.joined(separator: " ")
                      + String(format: " %.3fs", seconds.last!))
            }
            let mean = Double(attempts.reduce(0, +)) / Double(attempts.count)
            print(String(format: "SUMMARY %@ %d: attempts mean %.2f max %d; seconds mean %.3f max %.3f; unmet %d of %d",
                         "\(format)", maxBytes, mean, attempts.max()!, seconds.reduce(0, +) / Double(seconds.count),
                         seconds.max()!, unmet, attempts.count))
        }
    }
}
