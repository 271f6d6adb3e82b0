import Foundation
import Testing
@testable import Darkroom

/// Issue #10: the plan is computed once: every conversion parses its input's header once,
/// whatever the format, with or without a resize, through `convert` and reference prep.
@Suite struct PlanOnceTests {
    static func parses(_ body: () throws -> Void) rethrows -> HeaderParses.Counter {
        let counter = HeaderParses.Counter()
        try HeaderParses.$counter.withValue(counter) { try body() }
        return counter
    }

    @Test(arguments: [ImageFormat.jpeg, .png, .webp, .avif, .gif])
    func oneHeaderParsePerConversion(format: ImageFormat) throws {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image
        let bytes = try ImageEncoder.encode(image, as: format, options: EncodeOptions(quality: 90))
        #expect(Self.parses { _ = try? ImageDecoder.readHeader(bytes) }[format] == 1, "the counter counts")
        for geometry in [nil, "50%", "300x200", "10x10!"] {
            for fast in [false, true] {
                let options = ConvertOptions(format: .png, resize: try geometry.map(ResizeGeometry.init(parsing:)), fast: fast)
                let counter = try Self.parses { _ = try Converter(options: options).convert(bytes) }
                #expect(counter.total == 1, "\(format) \(geometry ?? "no resize") fast=\(fast): \(counter.total) header parses")
            }
        }
        if ReferencePrepOptions.acceptedFormats.contains(format) {
            for maxPixels in [100_000, 4_194_304] {
                let counter = try Self.parses {
                    _ = try ReferencePrep.prepare(bytes: bytes, name: "ref", options: ReferencePrepOptions(maxPixels: maxPixels))
                }
                #expect(counter.total == 1, "reference prep of \(format), cap \(maxPixels): \(counter.total) header parses")
            }
        }
    }
}

extension PlanOnceTests {
    /// A CMYK JPEG is read through the same row decoder and header parse as every other JPEG
    /// (before: four parses, through a second whole-image libjpeg path), and becomes sRGB.
    @Test func cmykJPEGParsesItsHeaderOnce() throws {
        let bytes = try TestImages.bytes("cmyk.jpg")
        for geometry in [nil, "50%"] {
            let options = ConvertOptions(format: .png, resize: try geometry.map(ResizeGeometry.init(parsing:)))
            var result: ConversionResult?
            let counter = try Self.parses { result = try Converter(options: options).convert(bytes) }
            #expect(counter.total == 1, "\(geometry ?? "no resize"): \(counter.total) header parses")
            #expect(result?.width == (geometry == nil ? 100 : 50))
        }
        let decoded = try ImageDecoder.decode(bytes)
        #expect(decoded.image.format == .rgb8)
        #expect(decoded.metadata.convertedToSRGB && decoded.metadata.iccApplied)
        #expect(decoded.metadata.storedBitDepth == 8)
    }
}
