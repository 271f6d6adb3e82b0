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
    func megapixelsRefuseNonFiniteHugeAndTinyValues(_ text: String) {
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
                      "18446744073709551616@", "68719476737@", "0@", "100001%", "nan%", "inf%", "1e5%", "0%",
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

    @Test func fitWithinNeverTraps() {
        let huge = fitWithin(width: Int.max, height: Int.max, maxPixels: 4_194_304)
        #expect(huge.width * huge.height <= 4_194_304)
        #expect(huge.width == huge.height)
        #expect(fitWithin(width: 0, height: -5, maxPixels: 0) == (1, 1))
        #expect(fitWithin(width: 1 << 40, height: 1, maxPixels: 1000) == (1000, 1))
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
        let wide = Image(width: 65_535, height: 1, format: .rgba8, pixels: [UInt8](repeating: 200, count: 65_535 * 4))
        let gif = try ImageEncoder.encode(wide, as: .gif)
        let header = try ImageDecoder.readHeader(gif)
        #expect(header.width == 65_535 && header.height == 1)
        let webp = try ImageEncoder.encode(Image(width: 16_383, height: 1, format: .rgb8,
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
        let panorama = Image(width: 20_000, height: 300, format: .rgb8, pixels: [UInt8](repeating: 90, count: 20_000 * 300 * 3))
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

/// `--fail-on` / ``DecodeOptions/failOn``: truncated or corrupt input is never silent.
@Suite struct FailOnTests {
    static func cut(_ bytes: [UInt8], to fraction: Double) -> [UInt8] {
        Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
    }

    /// A noisy picture, so that compressed data spreads over the whole file.
    static func noise(width: Int, height: Int, format: PixelFormat = .rgb8) -> Image {
        var image = Image(width: width, height: height, format: format)
        var seed: UInt32 = 12345
        for i in image.pixels.indices {
            seed = seed &* 1_664_525 &+ 1_013_904_223
            image.pixels[i] = format.hasAlpha && i % 4 == 3 ? 255 : UInt8(seed >> 24)
        }
        return image
    }

    @Test func aTruncatedJPEGIsAnErrorByDefaultAndAWarningWithNone() throws {
        let cut = Self.cut(try TestImages.bytes("kodim23.jpg"), to: 0.55)
        // (`catch let DarkroomError.decoding(.damaged(…))` crashes Swift 6.3.1's SILGen: match the returned error.)
        let error = #expect(throws: DarkroomError.self) { try ImageDecoder.decode(cut) }
        if case let .decoding(.damaged(format, warning, failOn))? = error {
            #expect(format == .jpeg)
            #expect(warning.kind == .truncated)
            #expect(warning.message == "Premature end of JPEG file")
            #expect(failOn == .truncated)
        } else {
            Issue.record("expected a damaged-input error, got \(String(describing: error))")
        }
        let lenient = try ImageDecoder.decode(cut, options: DecodeOptions(failOn: .none))
        #expect(lenient.image.width == 768 && lenient.image.height == 512)
        #expect(lenient.metadata.warnings.map(\.kind) == [.truncated])
        // The converter carries the warning to the caller.
        var options = ConvertOptions(format: .png)
        options.decode.failOn = .none
        let converted = try Converter(options: options).convert(cut)
        #expect(converted.warnings.first?.message == "Premature end of JPEG file")
        options.decode.failOn = .truncated
        #expect(throws: DarkroomError.self) { try Converter(options: options).convert(cut) }
    }

    @Test func aHarmlessJPEGWarningPassesByDefaultAndFailsWithWarning() throws {
        // Three junk bytes before the first SOS marker: libjpeg's JWRN_EXTRANEOUS_DATA.
        var jpeg = try TestImages.bytes("kodim23.jpg")
        let sos = try #require((0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA })
        jpeg.insert(contentsOf: [0x00, 0x11, 0x22], at: sos)
        let decoded = try ImageDecoder.decode(jpeg)
        #expect(decoded.metadata.warnings.count == 1)
        #expect(decoded.metadata.warnings.first?.kind == .warning)
        #expect(decoded.metadata.warnings.first?.message.contains("extraneous bytes") == true)
        #expect(throws: DarkroomError.self) { try ImageDecoder.decode(jpeg, options: DecodeOptions(failOn: .warning)) }
        // A clean file has no warnings.
        #expect(try TestImages.decode("kodim23.jpg").metadata.warnings.isEmpty)
    }

    /// Entropy-coded data overwritten with zeros decodes as valid codes; libjpeg notices only the
    /// bytes it did not use before the next restart marker (JWRN_EXTRANEOUS_DATA). Before a restart
    /// marker that is damage, so the default `--fail-on truncated` refuses it (a new-user report:
    /// a visibly broken MCU row passed). The same warning before SOS stays harmless (above).
    @Test func zeroedEntropyDataBeforeARestartMarkerIsCorrupt() throws {
        let image = try TestImages.decode("kodim23.jpg").image
        let encoder = try JPEGRowEncoder(width: image.width, height: image.height, format: .rgb8, settings: JPEGSettings(quality: 90, progressive: false, chroma: .yuv420), icc: nil, exif: nil, restartRows: 1)
        image.pixels.withUnsafeBufferPointer { encoder.write(from: $0.baseAddress!, upTo: image.height) }
        var jpeg = try encoder.finish()
        #expect(try ImageDecoder.decode(jpeg).metadata.warnings.isEmpty)
        // The middle of the entropy-coded data between the 10th and 11th restart markers.
        let markers = (0..<jpeg.count - 1).filter { jpeg[$0] == 0xFF && (0xD0...0xD7).contains(jpeg[$0 + 1]) }
        let start = markers[9] + 2, end = markers[10]
        let mid = (start + end) / 2
        for i in mid..<min(end, mid + 40) { jpeg[i] = 0 }
        let lenient = try ImageDecoder.decode(jpeg, options: DecodeOptions(failOn: .none))
        #expect(lenient.metadata.warnings.map(\.kind) == [.truncated], "\(lenient.metadata.warnings)")
        #expect(throws: DarkroomError.self) { try ImageDecoder.decode(jpeg) }
        #expect(throws: DarkroomError.self) { try Converter(options: ConvertOptions(format: .png)).convert(jpeg) }
    }

    @Test func aTruncatedPNGKeepsItsRowsOnlyWithNone() throws {
        let image = Self.noise(width: 256, height: 256)
        let png = try ImageEncoder.encode(image, as: .png)
        let cut = Self.cut(png, to: 0.6)
        let error = #expect(throws: DarkroomError.self) { try ImageDecoder.decode(cut) }
        guard case let .decoding(.damaged(format, warning, _))? = error else {
            Issue.record("expected a damaged-input error, got \(String(describing: error))")
            return
        }
        #expect(format == .png && warning.kind == .truncated)
        let lenient = try ImageDecoder.decode(cut, options: DecodeOptions(failOn: .none))
        #expect(lenient.metadata.warnings.first?.kind == .truncated)
        // The first rows are the original's; the last row was never read and is zero.
        #expect(Array(lenient.image.pixels.prefix(256 * 3 * 10)) == Array(image.pixels.prefix(256 * 3 * 10)))
        #expect(lenient.image.pixels.suffix(256 * 3).allSatisfy { $0 == 0 })
        // Cut inside the final IEND chunk: the picture is whole, but the file is still truncated.
        let endCut = Array(png.dropLast(4))
        #expect(throws: DarkroomError.self) { try ImageDecoder.decode(endCut) }
        let whole = try ImageDecoder.decode(endCut, options: DecodeOptions(failOn: .none))
        #expect(whole.image.pixels == image.pixels)
        #expect(whole.metadata.warnings.first?.kind == .truncated)
    }

    @Test func aGIFWhoseFrameEndsEarlyCountsAsTruncated() throws {
        let gif = try ImageEncoder.encode(Self.noise(width: 64, height: 64, format: .rgba8), as: .gif)
        let cut = Self.cut(gif, to: 0.7)
        let error = #expect(throws: DarkroomError.self) { try ImageDecoder.decode(cut) }
        guard case let .decoding(.damaged(format, warning, _))? = error else {
            Issue.record("expected a damaged-input error, got \(String(describing: error))")
            return
        }
        #expect(format == .gif && warning.kind == .truncated)
        let lenient = try ImageDecoder.decode(cut, options: DecodeOptions(failOn: .none))
        #expect(lenient.metadata.warnings.map(\.kind) == [.truncated])
        #expect(lenient.image.width == 64)
        // The whole file has no warning.
        #expect(try ImageDecoder.decode(gif).metadata.warnings.isEmpty)
    }

    @Test func failOnParsesItsThreeNames() throws {
        #expect(try FailOn(parsing: "NONE") == .none)
        #expect(try FailOn(parsing: " warning ") == .warning)
        #expect(throws: DarkroomError.option(OptionError(name: "fail_on", value: "error", expected: "none, truncated or warning"))) {
            try FailOn(parsing: "error", name: "fail_on")
        }
    }
}
