import Foundation
import Testing
@testable import Darkroom

@Suite struct OutputLimitTests {
    let jpeg: [UInt8]
    init() throws { jpeg = try TestImages.bytes("kodim23.jpg") }   // 768x512

    @Test func anEnlargementOverThePixelLimitIsRefusedBeforeAllocating() throws {
        let options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "40000x30000!"))
        #expect(throws: DarkroomError.encoding(.tooManyPixels(width: 40_000, height: 30_000, limit: DecodeOptions.defaultMaxPixels))) {
            try Converter(options: options).convert(jpeg)
        }
        // The same limit the input is held to: a small one refuses a modest enlargement too.
        let small = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "300%"), decode: DecodeOptions(maxPixels: 1_000_000))
        #expect(throws: DarkroomError.encoding(.tooManyPixels(width: 2304, height: 1536, limit: 1_000_000))) {
            try Converter(options: small).convert(jpeg)
        }
        let percent = ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: "100000%"))
        #expect(throws: DarkroomError.self) { try Converter(options: percent).convert(jpeg) }
        // A thin target under the pixel limit but over the largest side: refused before the
        // resampler builds coefficient tables for 90,000 columns.
        #expect(throws: DarkroomError.self) { try ResizeGeometry(parsing: "1x65537") }
        let thin = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "x60000"))
        #expect(throws: DarkroomError.option(OptionError(name: "resize", value: "x60000",
                                                   expected: "an output with sides up to 65536 px (it gives 90000x60000)"))) {
            try Converter(options: thin).convert(jpeg)
        }
    }

    @Test func eachFormatsLimitIsCheckedBeforeEncoding() throws {
        let cases: [(ImageFormat, String, Int, Int?)] = [
            (.gif, "65536x3!", 65_535, nil), (.webp, "16384x3!", 16_383, nil), (.jpeg, "65501x2!", 65_500, nil),
            (.avif, "16385x16384!", 32_768, 16_384 * 16_384), (.avif, "32769x4!", 32_768, 16_384 * 16_384),
        ]
        for (format, geometry, side, area) in cases {
            let target = try ResizeGeometry(parsing: geometry).targetSize(width: 768, height: 512)
            let options = ConvertOptions(format: format, resize: try ResizeGeometry(parsing: geometry),
                                         decode: DecodeOptions(maxPixels: Limits.maxPixelLimit))
            #expect(throws: DarkroomError.encoding(.formatLimit(format, width: target.width, height: target.height, maxSide: side, maxPixels: area))) {
                try Converter(options: options).convert(jpeg)
            }
        }
        // Exactly at the limit encodes, and the header says what was asked (GIF's 16-bit fields).
        let wide = try Image(width: 65_535, height: 1, format: .rgba8, pixels: [UInt8](repeating: 200, count: 65_535 * 4))
        let gif = try ImageEncoder.encode(wide, as: .gif)
        let header = try ImageDecoder.readHeader(gif)
        #expect(header.width == 65_535 && header.height == 1)
        let webp = try ImageEncoder.encode(try Image(width: 16_383, height: 1, format: .rgb8,
                                                 pixels: [UInt8](repeating: 9, count: 16_383 * 3)),
                                           as: .webp)
        #expect(try ImageDecoder.readHeader(webp).width == 16_383)
    }

    @Test func formatLimitsFitAPanoramaKeepingItsAspect() {
        #expect(FormatLimits.of(.webp).fitting(width: 20_000, height: 300) == (16_383, 245))
        #expect(FormatLimits.of(.webp).fitting(width: 300, height: 20_000) == (245, 16_383))
        #expect(FormatLimits.of(.png).fitting(width: 20_000, height: 300) == (20_000, 300))
        #expect(FormatLimits.of(.avif).fitting(width: 20_000, height: 20_000) == (16_384, 16_384))
    }

    @Test func referencePrepFitsTheFormatAsWellAsTheMegapixelCap() throws {
        // 20000x300 = 5.7 MP: the 4 MP cap gives 16,721x250, which WebP cannot hold.
        let panorama = try Image(width: 20_000, height: 300, format: .rgb8, pixels: [UInt8](repeating: 90, count: 20_000 * 300 * 3))
        let png = try ImageEncoder.encode(panorama, as: .png)
        let ref = try ReferencePrep.prepare(bytes: png, name: "pano.png", options: ReferencePrepOptions(format: .webp))
        #expect(ref.format == .webp)
        #expect(ref.width == 16_383 && ref.height == 245)
        #expect(ref.width * ref.height <= 4_194_304)
        let decoded = try ImageDecoder.readHeader(ref.bytes)
        #expect(decoded.width == 16_383 && decoded.height == 245)
        // PNG has room: only the megapixel cap applies.
        let kept = try ReferencePrep.prepare(bytes: png, name: "pano.png")
        #expect(kept.width == 16_721 && kept.height == 250)
    }
}
