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
                    let streamed = try Converter(options: options).convert(bytes)
                    var whole = Converter(options: options)
                    whole.allowsStreaming = false
                    let reference = try whole.convert(bytes)
                    #expect(streamed.bytes == reference.bytes, "\(name) \(geometry) fast=\(fast) \(format)")
                    #expect(streamed.width == reference.width && streamed.height == reference.height)
                    #expect(streamed.source == reference.source, "\(name): metadata differs")
                    #expect(streamed.resized == reference.resized)
                    // Two threads: a producer decodes ahead of the resampler; the same bytes.
                    var overlapped = options
                    overlapped.resampling.threads = 2
                    #expect(try Converter(options: overlapped).convert(bytes).bytes == reference.bytes,
                            "\(name) \(geometry) fast=\(fast) \(format), decode on its own thread")
                }
            }
        }
    }

    @Test(arguments: testImageJPEGs)
    func streamedEqualsWholeImage(name: String) throws {
        try Self.compare(TestImages.bytes(name), name: name)
    }

    @Test(.enabled(if: Corpus.isPresent, "../shared/corpus is absent"), arguments: corpusJPEGs)
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
        #expect(ImageDecoder.jpegScaleDenominator(width: 768, height: 512, orientation: .up,
                                                  minimum: ConvertOptions(fast: true).shrinkOnLoadMinimum(for: (300, 200))) == 2)
        #expect(ImageDecoder.jpegScaleDenominator(width: 768, height: 512, orientation: .up,
                                                  minimum: ConvertOptions().shrinkOnLoadMinimum(for: (300, 200))) == 1)
    }

    @Test func aTruncatedStreamedJPEGFollowsFailOn() throws {
        let whole = try TestImages.bytes("kodim23.jpg")
        let cut = Array(whole.prefix(whole.count * 55 / 100))
        let geometry = try ResizeGeometry(parsing: "50%")
        let error = #expect(throws: DarkroomError.self) {
            try Converter(options: ConvertOptions(format: .png, resize: geometry)).convert(cut)
        }
        guard case let .decoding(.damaged(format, warning, _))? = error else {
            Issue.record("expected a damaged-input error, got \(String(describing: error))")
            return
        }
        #expect(format == .jpeg && warning.kind == .truncated)
        let options = ConvertOptions(format: .png, resize: geometry, decode: DecodeOptions(failOn: .none))
        let lenient = try Converter(options: options).convert(cut)
        var reference = Converter(options: options)
        reference.allowsStreaming = false
        #expect(lenient.bytes == (try reference.convert(cut)).bytes)
        #expect(lenient.warnings.map(\.kind) == [.truncated])
        var overlapped = options
        overlapped.resampling.threads = 2
        let background = try Converter(options: overlapped).convert(cut)
        #expect(background.bytes == lenient.bytes && background.warnings == lenient.warnings)
        overlapped.decode.failOn = .truncated
        #expect(throws: DarkroomError.self) { try Converter(options: overlapped).convert(cut) }
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
            whole.allowsStreaming = false
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
