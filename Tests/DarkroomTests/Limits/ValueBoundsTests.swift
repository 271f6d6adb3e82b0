import Foundation
import Testing
@testable import Darkroom

/// Issue #8: every value from outside is bounded by one parser, the output size is checked
/// before anything is allocated, each format's limits are checked before encoding.
@Suite struct ValueBoundsTests {
    @Test(arguments: ["", " ", "abc", "1.5", "0x10", "1e2", "101", "-1", "9223372036854775808",
                      "99999999999999999999999999", "+", "--5", "5 5"])
    func qualityRefusesEverythingButAnIntegerInRange(_ text: String) {
        #expect(throws: DarkroomError.option(OptionError(name: "quality", value: text, expected: "an integer from 0 to 100"))) {
            try ValueParser.quality(text)
        }
    }

    @Test func qualityAcceptsTheBoundsAndSpaces() throws {
        #expect(try ValueParser.quality("0") == 0)
        #expect(try ValueParser.quality(" 100 ") == 100)
        #expect(try ValueParser.quality("+42") == 42)
    }

    @Test(arguments: ["inf", "-inf", "nan", "infinity", "1e309", "1e300", "65536.0001", "0", "-3", "0x1p4", "4 mp", "1e-400"])
    func megapixelsRefuseNonFiniteHugeAndTinyValues(_ text: String) throws {
        #expect(throws: DarkroomError.self) { try ValueParser.megapixels(text, name: "max-mp") }
    }

    @Test func megapixelsConvertExactly() throws {
        #expect(try ValueParser.megapixels("4", name: "max-mp") == 4_194_304)
        #expect(try ValueParser.megapixels("0.25", name: "max-mp") == 262_144)
        #expect(try ValueParser.megapixels("65536", name: "max-mp") == Limits.maxPixelLimit)
        #expect(try ValueParser.megapixels("1e-6", name: "max-mp") == 1)
        // Below one pixel: refused, with the same error name.
        #expect(throws: DarkroomError.self) { try ValueParser.megapixels("1e-7", name: "max-mp") }
        #expect(throws: DarkroomError.self) { try ValueParser.megapixels(Double.nan, name: "max_mp") }
    }

    @Test func pixelLimitIsBounded() throws {
        #expect(try ValueParser.pixelLimit("1") == 1)
        #expect(try ValueParser.pixelLimit(String(Limits.maxPixelLimit)) == Limits.maxPixelLimit)
        for bad in ["0", String(Limits.maxPixelLimit + 1), "18446744073709551616", "1e9"] {
            #expect(throws: DarkroomError.self) { try ValueParser.pixelLimit(bad) }
        }
    }

    @Test(arguments: ["123456789012345678901234567890mp", "1e400mp", "infmp", "nanmp", "65537mp", "0mp",
                      "18446744073709551616@", "68719476737@", "0@", "100001%", "nan%", "inf%", "1.00001e5%", "0%",
                      "65537x1", "1x65537!", "16777216x1", "99999999999999999999x5", "x", "5x5x5", "-5x5", "5x5!!",
                      "0x0", "5x^", "0.5x0.5"])
    func geometryRefusesOutOfBoundValues(_ text: String) {
        #expect(throws: DarkroomError.self) { try ResizeGeometry(parsing: text) }
    }

    @Test func geometryAcceptsItsBounds() throws {
        #expect(try ResizeGeometry(parsing: "65536x1!").targetSize(width: 10, height: 10) == (65_536, 1))
        #expect(try ResizeGeometry(parsing: "65536mp").targetSize(width: 10, height: 10) == (10, 10))
        #expect(try ResizeGeometry(parsing: "68719476736@").targetSize(width: 7, height: 3) == (7, 3))
        // Computed sides are exact up to 2^30 and clamped there, never a trap; the converter refuses them.
        #expect(try ResizeGeometry(parsing: "100000%").targetSize(width: 65_535, height: 1) == (65_535_000, 1000))
        #expect(try ResizeGeometry(parsing: "65536x").targetSize(width: 1, height: 65_535) == (65_536, 1 << 30))
    }

    /// Issue #16: a size that is no image, or a cap out of range, is a typed error naming the
    /// value (it was silently made 1x1 or clamped); the largest image sizes still fit.
    @Test func fitWithinRefusesWhatIsNoImageSize() throws {
        for (w, h, cap) in [(Int.max, Int.max, 4_194_304), (0, -5, 100), (5, 5, 0), (1 << 40, 1, 1000), (5, 5, Int.max)] {
            #expect(throws: DarkroomError.self, "\(w)x\(h) cap \(cap)") { try fitWithin(width: w, height: h, maxPixels: cap) }
        }
        #expect(throws: DarkroomError.option(OptionError(name: "size", value: "0x-5",
                                                          expected: "sides of at least 1 px and at most 68719476736 px in all"))) {
            try PixelSize(width: 0, height: -5).fitting(maxPixels: 100)
        }
        #expect(try fitWithin(width: 1 << 36, height: 1, maxPixels: 1000) == (1000, 1))
        let square = try fitWithin(width: 1 << 18, height: 1 << 18, maxPixels: 4_194_304)
        #expect(square == (2048, 2048))
    }

    @Test func sizesAndRatiosFromRequestsAreBounded() throws {
        #expect(PixelSize(parsing: "99999999999999999999x1") == nil)
        #expect(PixelSize(parsing: "65537x1") == nil)
        #expect(PixelSize(parsing: "65536x65536") == PixelSize(width: 65_536, height: 65_536))
        #expect(AspectRatio(parsing: "9223372036854775807:1") == nil)
        #expect(throws: DarkroomError.self) { try GatewayRequest(json: Data(#"{"size":"9223372036854775807x9223372036854775807"}"#.utf8)) }
        // A huge but valid size resolves inside the profile without trapping.
        let request = try GatewayRequest(json: Data(#"{"size":"65536x1","aspect_ratio":"65536:1"}"#.utf8))
        let size = ProviderProfile.flux2.resolve(request)
        #expect(size.width <= 2048 && size.height <= 2048 && size.width % 16 == 0)
        // An absurd multiple is clamped to 4096 instead of overflowing.
        let snapped = ProviderProfile.flux2.resolve(request, multiple: Int.max)
        #expect(snapped.width % 4096 == 0 && snapped.height % 4096 == 0)
    }

    @Test func imageBuffersFromOutsideAreValidatedNotTrapped() throws {
        #expect(throws: DarkroomError.decoding(.invalidDimensions(width: 0, height: 5))) {
            try Image.validated(width: 0, height: 5, format: .rgb8, pixels: [])
        }
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: Int.max, height: 2, limit: Limits.maxPixelLimit))) {
            try Image.validated(width: Int.max, height: 2, format: .rgba8, pixels: [])
        }
        #expect(throws: DarkroomError.self) { try Image.validated(width: 2, height: 2, format: .rgba8, pixels: [1, 2, 3]) }
        #expect(try Image.validated(width: 1, height: 2, format: .gray8, pixels: [7, 9]).pixels == [7, 9])
    }

    @Test func responseCreatedTimeThatIsNoIntegerIsDropped() throws {
        for created in ["1e300", "-1e300", "1e20", "-9.5e18"] {
            let body = Data(#"{"created":\#(created),"data":[]}"#.utf8)
            #expect(try ImagesResponse(parsing: body).created == nil)
        }
    }

    @Test func optionsOutOfRangeAreTypedErrorsNotTraps() throws {
        let png = try ImageEncoder.encode(TestImages.gradient(width: 8, height: 8), as: .png)
        for limit in [0, -1, Int.min, Int.max, Limits.maxPixelLimit + 1] {
            #expect(throws: DarkroomError.option(OptionError(name: "max-pixels", value: String(limit),
                                                       expected: "an integer from 1 to \(Limits.maxPixelLimit)"))) {
                try ImageDecoder.decode(png, options: DecodeOptions(maxPixels: limit))
            }
            #expect(throws: DarkroomError.self) { try Converter(options: ConvertOptions(decode: DecodeOptions(maxPixels: limit))).convert(png) }
            #expect(throws: DarkroomError.self) { try ReferencePrep.prepare(bytes: png, name: "a.png", options: ReferencePrepOptions(maxPixels: limit)) }
        }
        #expect(throws: DarkroomError.self) {
            try ImageDecoder.decode(png, options: DecodeOptions(minimumSize: (Int.max, Int.max)))
        }
        for q in [-1, 101, Int.max, Int.min] {
            #expect(throws: DarkroomError.self) {
                try ImageEncoder.encode(TestImages.gradient(width: 8, height: 8), as: .jpeg, options: EncodeOptions(quality: q))
            }
        }
        #expect(throws: DarkroomError.self) {
            try ImageEncoder.encode(TestImages.gradient(width: 8, height: 8), as: .avif, options: EncodeOptions(speed: 11))
        }
        var threads = ConvertOptions(format: .png)
        threads.resampling.threads = 0
        #expect(throws: DarkroomError.self) { try Converter(options: threads).convert(png) }
    }
}
