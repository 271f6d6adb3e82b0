import Foundation
import Testing
@testable import Darkroom

/// Issue #10: a resized JPEG is decoded row by row straight into the resampler (no full-size
/// source buffer). The streamed path must give exactly the whole-image path's bytes for every
/// orientation, colour type, geometry and shrink-on-load mode.
@Suite struct StreamingTests {
    static let testImageJPEGs = ["kodim23.jpg", "gray.jpg", "hopper.jpg", "hopper-orientation-6.jpg"]
    static let corpusJPEGs = (0...8).flatMap { ["orientation/recurser/Landscape_\($0).jpg", "orientation/recurser/Portrait_\($0).jpg"] }
        + ["orientation/misc/paris_exif_orientation_5.jpg", "color/jpeg/a98_sample.jpg"]
    static let geometries = ["37%", "100x100", "x50", "33x", "200x150!", "1x1", "640x480>"]

    static func compare(_ bytes: [UInt8], name: String) throws {
        for geometry in geometries {
            for fast in [false, true] {
                for format in [ImageFormat.png, .jpeg] {
                    let options = ConvertOptions(format: format, resize: try ResizeGeometry(parsing: geometry), fast: fast)
                    // The RGB routes (a JPEG to a JPEG takes the planar one by default: PlanarRouteTests).
                    var rows = Converter(options: options)
                    rows.switches.allowsPlanes = false
                    let streamed = try rows.convert(bytes)
                    var whole = Converter(options: options)
                    whole.switches.allowsStreaming = false
                    let reference = try whole.convert(bytes)
                    #expect(streamed.bytes == reference.bytes, "\(name) \(geometry) fast=\(fast) \(format)")
                    #expect(streamed.width == reference.width && streamed.height == reference.height)
                    #expect(streamed.source == reference.source, "\(name): metadata differs")
                    #expect(streamed.resized == reference.resized)
                    // Two threads: a producer decodes ahead of the resampler; the same bytes.
                    var overlapped = options
                    overlapped.resampling.threads = 2
                    var overlappedRows = Converter(options: overlapped)
                    overlappedRows.switches.allowsPlanes = false
                    #expect(try overlappedRows.convert(bytes).bytes == reference.bytes,
                            "\(name) \(geometry) fast=\(fast) \(format), decode on its own thread")
                }
            }
        }
    }

    /// JPEG to JPEG, upright: the finished rows go through a 64-row ring into the encoder and no
    /// full-size output buffer exists; the file is the one the whole-image paths write.
    @Test(arguments: ["37%", "300x200!", "x10", "64x64!", "1x1"])
    func jpegToJPEGKeepsOnlyARingOfOutputRows(geometry: String) throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")
        // A PNG source streams the same way (its metadata is all before the pixels too).
        let png = try ImageEncoder.encode(try ImageDecoder.decode(jpeg).image, as: .png)
        let cut = Array(png.prefix(png.count * 6 / 10))   // truncated: with fail-on none the rest is black
        for (bytes, threads) in [(jpeg, 1), (jpeg, 2), (png, 1), (png, 2), (cut, 1), (cut, 2)] {
            var options = ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: geometry))
            options.resampling.threads = threads
            options.decode.failOn = .none
            let events = PipelineEvents.Counter()
            var rows = Converter(options: options)
            rows.switches.allowsPlanes = false   // a JPEG source would take the planar route
            let ringed = try PipelineEvents.$counter.withValue(events) { try rows.convert(bytes) }
            #expect(events["ring-output"] == 1, "\(geometry) threads \(threads)")
            var wholeOutput = rows
            wholeOutput.switches.allowsRingOutput = false
            var wholeImage = Converter(options: options)
            wholeImage.switches.allowsStreaming = false
            #expect(ringed.bytes == (try wholeOutput.convert(bytes)).bytes, "\(geometry)")
            #expect(ringed.bytes == (try wholeImage.convert(bytes)).bytes, "\(geometry)")
        }
    }

    @Test(arguments: testImageJPEGs)
    func streamedEqualsWholeImage(name: String) throws {
        try Self.compare(TestImages.bytes(name), name: name)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"), arguments: corpusJPEGs)
    func streamedEqualsWholeImageOnTheOrientationSet(path: String) throws {
        let bytes = try #require(Corpus.read(path), "\(path) missing from the corpus")
        try Self.compare(bytes, name: path)
    }

    @Test func fastDecodesAtTheSmallestCoveringScaleAndKeepsTheExactSize() throws {
        // 768x512 -> 300x200: 2x the target (600x400) needs the full image; the target alone
        // allows 1/2 scale (384x256). Both give exactly 300x200.
        let jpeg = try TestImages.bytes("kodim23.jpg")
        let geometry = try ResizeGeometry(parsing: "300x200")
        let normal = try Converter(options: ConvertOptions(format: .png, resize: geometry)).convert(jpeg)
        let fast = try Converter(options: ConvertOptions(format: .png, resize: geometry, fast: true)).convert(jpeg)
        #expect(normal.width == 300 && normal.height == 200 && fast.width == 300 && fast.height == 200)
        #expect(normal.bytes != fast.bytes, "--fast really decoded at another scale")
        #expect(try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: geometry, fast: true)).decodeScale == .jpeg(denominator: 2))
        #expect(try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: geometry)).decodeScale == .full)
    }

    /// The first 55 % of `bytes`, resized: by default a truncation error naming `format`; with
    /// fail-on none the rows that were read, streamed (one or two threads) as the whole-image path
    /// gives them, with a truncated warning.
    static func checkTruncation(_ bytes: [UInt8], format expected: ImageFormat) throws {
        let cut = Array(bytes.prefix(bytes.count * 55 / 100))
        let geometry = try ResizeGeometry(parsing: "50%")
        let error = #expect(throws: DarkroomError.self) {
            try Converter(options: ConvertOptions(format: .png, resize: geometry)).convert(cut)
        }
        guard case let .decoding(.damaged(format, warning, _))? = error else {
            Issue.record("expected a damaged-input error, got \(String(describing: error))")
            return
        }
        #expect(format == expected && warning.kind == .truncated)
        for threads in [1, 2] {
            var options = ConvertOptions(format: .png, resize: geometry, decode: DecodeOptions(failOn: .none))
            options.resampling.threads = threads
            let lenient = try Converter(options: options).convert(cut)
            var reference = Converter(options: options)
            reference.switches.allowsStreaming = false
            #expect(lenient.bytes == (try reference.convert(cut)).bytes, "\(expected) threads \(threads)")
            #expect(lenient.warnings.map(\.kind) == [.truncated])
            options.decode.failOn = .truncated
            #expect(throws: DarkroomError.self) { try Converter(options: options).convert(cut) }
        }
    }

    @Test func aTruncatedStreamedJPEGFollowsFailOn() throws {
        try Self.checkTruncation(TestImages.bytes("kodim23.jpg"), format: .jpeg)
    }

    @Test func aCorruptStreamStopsItsProducerAndThrows() throws {
        // Garbage after a valid header: libjpeg fails mid-stream; the producer stops, the
        // conversion throws, and no thread is left waiting (the test would hang).
        var bytes = try TestImages.bytes("kodim23.jpg")
        let sos = try #require((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        for i in (sos + 200)..<min(bytes.count - 2, sos + 4000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 7919) | 0x01 }
        for threads in [1, 2] {
            var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%"))
            options.resampling.threads = threads
            options.decode.failOn = .none
            var whole = Converter(options: options)
            whole.switches.allowsStreaming = false
            let reference = Result { () throws(DarkroomError) in try whole.convert(bytes) }
            let streamed = Result { () throws(DarkroomError) in try Converter(options: options).convert(bytes) }
            switch (reference, streamed) {
            case let (.success(a), .success(b)): #expect(a.bytes == b.bytes, "threads \(threads)")
            case let (.failure(a), .failure(b)): #expect(a == b, "threads \(threads)")
            default: Issue.record("streamed and whole paths disagree (threads \(threads)): \(reference) vs \(streamed)")
            }
        }
    }
}

/// Plans a conversion the way ``Converter`` does, for tests that check a decision of the plan.
enum TestPlan {
    static func plan(_ bytes: [UInt8], _ options: ConvertOptions,
                     switches: ConversionPlan.Switches = ConversionPlan.Switches()) throws -> ConversionPlan {
        try bytes.withUnsafeBufferPointer { buffer in
            let source = try ImageSource(bytes, buffer: buffer, format: ImageFormat.sniff(bytes)!, options: options.decode)
            return try ConversionPlan(source: source, options: options, switches: switches)
        }
    }
}
