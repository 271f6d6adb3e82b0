import Foundation
import Testing
@testable import Darkroom

/// Issue #10: PNG rows stream into the resampler too (non-interlaced 8-bit: gray, gray+alpha,
/// RGB, RGBA, palettes and tRNS expanded); interlaced, 16-bit and eXIf-after-the-pixels files
/// are read whole. Either way, exactly the whole-image bytes.
@Suite struct PNGStreamingTests {
    static let testImagePNGs = ["rgba.png", "palette-trns.png", "rgb16.png", "gray16.png"]
    static var corpusPNGs: [String] {
        Corpus.rows.filter { $0.path.hasSuffix(".png") && $0.expected == "decode-ok" }.map(\.path)
    }

    /// kodim23 as an 8-bit PNG of `format`, with an eXIf chunk (orientation 6) before or after
    /// the image data when asked.
    static func kodimPNG(_ format: PixelFormat, exif: Bool = false, exifAfterImage: Bool = false) throws -> [UInt8] {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image.converted(to: format)
        let orientation6: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
        var png = try PNGCodec.encode(image, icc: nil, exif: exif ? orientation6 : nil)
        if exifAfterImage {
            // Move the eXIf chunk to just before IEND.
            let at = try #require(PNGChunks.find("eXIf", in: png))
            let chunk = Array(png[at.range])
            png.removeSubrange(at.range)
            let iend = try #require(PNGChunks.find("IEND", in: png))
            png.insert(contentsOf: chunk, at: iend.range.lowerBound)
        }
        return png
    }

    @Test(arguments: testImagePNGs)
    func streamedEqualsWholeImage(name: String) throws {
        try StreamingTests.compare(TestImages.bytes(name), name: name)
    }

    @Test(arguments: [PixelFormat.gray8, .grayAlpha8, .rgb8, .rgba8])
    func everyEightBitLayoutStreams(format: PixelFormat) throws {
        try StreamingTests.compare(Self.kodimPNG(format), name: "kodim23 \(format)")
        try StreamingTests.compare(Self.kodimPNG(format, exif: true), name: "kodim23 \(format) orientation 6")
    }

    @Test func anEXIfChunkAfterThePixelsIsIgnored() throws {
        // The PNG specification places eXIf before IDAT; browsers and libvips ignore a late one,
        // and so does Darkroom (it turned the image until issue #16): the output is the one of the
        // same file without the chunk, streamed like any other.
        let without = try Self.kodimPNG(.rgb8)
        let before = try Self.kodimPNG(.rgb8, exif: true)
        let after = try Self.kodimPNG(.rgb8, exif: true, exifAfterImage: true)
        #expect(before != after)
        for geometry in ["100x100", "37%", "200x150!"] {
            let options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: geometry))
            let a = try Converter(options: options).convert(without)
            let b = try Converter(options: options).convert(after)
            let turned = try Converter(options: options).convert(before)
            #expect(a.bytes == b.bytes && a.width == b.width && a.height == b.height, "\(geometry)")
            #expect(b.source.orientation == .up && b.source.exif == nil)
            #expect(turned.source.orientation == .right && turned.bytes != b.bytes)
        }
        try StreamingTests.compare(after, name: "eXIf after IDAT")
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func streamedEqualsWholeImageOnEveryCorpusPNG() throws {
        #expect(Self.corpusPNGs.count >= 180, "the corpus PNGs (PngSuite, libpng test PNGs)")
        for path in Self.corpusPNGs {
            let bytes = try #require(Corpus.read(path), "\(path) missing from the corpus")
            for geometry in ["37%", "7x5!"] {
                var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: geometry))
                options.decode.maxPixels = Corpus.maxPixels
                var whole = Converter(options: options)
                whole.switches.allowsStreaming = false
                let reference = try whole.convert(bytes)
                #expect(try Converter(options: options).convert(bytes).bytes == reference.bytes, "\(path) \(geometry)")
                options.resampling.threads = 2
                #expect(try Converter(options: options).convert(bytes).bytes == reference.bytes, "\(path) \(geometry) threads 2")
            }
        }
    }

    @Test func aTruncatedStreamedPNGFollowsFailOn() throws {
        try StreamingTests.checkTruncation(Self.kodimPNG(.rgb8), format: .png)
    }
}

/// Finds PNG chunks by type (tests only).
enum PNGChunks {
    static func find(_ type: String, in png: [UInt8]) -> (range: Range<Int>, length: Int)? {
        var pos = 8
        while pos + 12 <= png.count {
            let length = Int(png[pos]) << 24 | Int(png[pos + 1]) << 16 | Int(png[pos + 2]) << 8 | Int(png[pos + 3])
            if String(decoding: png[(pos + 4)..<(pos + 8)], as: UTF8.self) == type { return (pos..<(pos + 12 + length), length) }
            pos += 12 + length
        }
        return nil
    }
}
