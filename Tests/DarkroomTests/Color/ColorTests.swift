import Foundation
import Testing
import CLCMS2
@testable import Darkroom

// The Color/ folder: pixel-format conversion and alpha flattening (PixelConversion.swift), the GIF
// palette (PaletteQuantizer.swift) and ICC → sRGB with lcms2 (ColorManagement.swift). Images are
// made with `Image.validated`, which throws for a wrong buffer.

/// ``Image/converted(to:background:)`` and alpha flattening, with exact values.
@Suite struct PixelConversionTests {
    /// The gray `levels` as an image of `format`: every colour channel the level (× 257 at 16 bits),
    /// alpha opaque. Such an image can be held by every format, so no conversion may lose anything.
    static func neutral(_ levels: [UInt8], _ format: PixelFormat) throws -> Image {
        var bytes: [UInt8] = []
        for level in levels {
            for channel in 0..<format.channels {
                let value = format.hasAlpha && channel == format.channels - 1 ? 255 : level
                if format.bitDepth == 8 {
                    bytes.append(value)
                } else {
                    bytes += withUnsafeBytes(of: UInt16(value) * 257) { Array($0) }   // native-endian UInt16
                }
            }
        }
        return try Image.validated(width: levels.count, height: 1, format: format, pixels: bytes)
    }

    static func samples16(_ image: Image) -> [UInt16] {
        image.pixels.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
    }

    static func image16(_ samples: [UInt16], width: Int, format: PixelFormat) throws -> Image {
        try Image.validated(width: width, height: 1, format: format, pixels: samples.withUnsafeBytes { Array($0) })
    }

    /// For every pair of the 8 pixel formats: opaque gray converts to exactly the same gray in the
    /// other format, and back to the very bytes it came from.
    @Test(arguments: PixelFormat.allCases)
    func everyFormatPairRoundTripsWhereNothingIsLost(from source: PixelFormat) throws {
        let levels: [UInt8] = [0, 1, 77, 128, 254, 255]
        let original = try Self.neutral(levels, source)
        for target in PixelFormat.allCases {
            let there = original.converted(to: target)
            #expect(there == (try Self.neutral(levels, target)), "\(source) → \(target)")
            #expect(there.converted(to: source) == original, "\(source) → \(target) → \(source)")
        }
    }

    @Test func lossyConversionsRoundAsDocumented() throws {
        // RGB → gray: Rec. 601 luma (299, 587, 114 per mille), rounded.
        let rgb = try Image.validated(width: 4, height: 1, format: .rgb8, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30])
        #expect(rgb.converted(to: .gray8).pixels == [76, 150, 29, 124])
        // The alpha of RGBA → gray + alpha is kept as it is.
        let rgba = try Image.validated(width: 1, height: 1, format: .rgba8, pixels: [10, 200, 30, 99])
        #expect(rgba.converted(to: .grayAlpha8).pixels == [124, 99])
        // 16 → 8 bits: (v · 255 + 32767) / 65535; 8 → 16 bits: v · 257.
        // (0x8100 is 128.498 in 8 bits, 0x8101 is 128.502.)
        let deep = try Self.image16([0x8080, 0x1234, 0xFFFF, 0, 0x8100, 0x8101], width: 6, format: .gray16)
        #expect(deep.converted(to: .gray8).pixels == [128, 18, 255, 0, 128, 129])
        #expect(Self.samples16(deep.converted(to: .gray8).converted(to: .gray16)) == [0x8080, 0x1212, 0xFFFF, 0, 0x8080, 0x8181])
        // Gray → RGB copies the level into the three channels, at either depth.
        #expect(try Image.validated(width: 2, height: 1, format: .grayAlpha8, pixels: [7, 8, 9, 10]).converted(to: .rgba8).pixels
                == [7, 7, 7, 8, 9, 9, 9, 10])
    }

    /// (alpha, the composite of (200, 100, 50) at that alpha over (10, 20, 30)).
    static let composites: [(UInt8, [UInt8])] = [(0, [10, 20, 30]), (1, [11, 20, 30]), (64, [58, 40, 35]),
                                                 (128, [105, 60, 40]), (254, [199, 100, 50]), (255, [200, 100, 50])]

    /// Straight alpha over an opaque background, in the encoded values: (c·a + bg·(255 − a) + 127) / 255.
    @Test(arguments: composites)
    func flatteningGivesTheExactComposite(alpha: UInt8, expected: [UInt8]) throws {
        let background = RGBColor(red: 10, green: 20, blue: 30)
        let pixel = try Image.validated(width: 1, height: 1, format: .rgba8, pixels: [200, 100, 50, alpha])
        #expect(pixel.flattened(onto: background).pixels == expected)
        #expect(pixel.converted(to: .rgb8, background: background).pixels == expected)
        #expect(pixel.converted(to: .rgb16, background: background) == (try Image.validated(width: 1, height: 1, format: .rgb8, pixels: expected)).converted(to: .rgb16))
    }

    @Test func grayAndSixteenBitAlphaFlattenExactly() throws {
        // Gray + alpha goes over the background's luma: (10, 20, 30) → (2990 + 11740 + 3420 + 500) / 1000 = 18.
        let background = RGBColor(red: 10, green: 20, blue: 30)
        let gray = try Image.validated(width: 3, height: 1, format: .grayAlpha8, pixels: [180, 0, 180, 77, 180, 255])
        #expect(gray.flattened(onto: background).pixels == [18, 67, 180])
        #expect(gray.converted(to: .rgb8, background: background).pixels == [18, 18, 18, 67, 67, 67, 180, 180, 180])
        // 16 bits: (c·a + bg·257·(65535 − a) + 32767) / 65535; 0xC000 at alpha 0x4000 over 10 gives 14216.
        let deep = try Self.image16([0xC000, 0xC000, 0xC000, 0x4000, 0xFFFF, 0, 0x1234, 0xFFFF], width: 2, format: .rgba16)
        let flat = deep.flattened(onto: RGBColor(red: 10, green: 10, blue: 10))
        #expect(flat.format == .rgb16)
        #expect(Self.samples16(flat) == [14216, 14216, 14216, 0xFFFF, 0, 0x1234])
        // An image without alpha is left as it is.
        let opaque = try Image.validated(width: 1, height: 1, format: .rgb8, pixels: [1, 2, 3])
        #expect(opaque.flattened(onto: background) == opaque)
    }
}

/// ``PaletteQuantizer``: the GIF encoder's palette.
@Suite struct PaletteQuantizerTests {
    static func rgb(_ palette: [(UInt8, UInt8, UInt8)], _ index: UInt8) -> [UInt8] {
        let entry = palette[Int(index)]
        return [entry.0, entry.1, entry.2]
    }

    /// Colour `i` of the test images: 256 distinct colours (the red channel alone tells them apart).
    static func colour(_ i: Int) -> [UInt8] { [UInt8(i), UInt8(255 - i), UInt8((i * 7) & 255)] }

    @Test(arguments: [false, true])
    func twoHundredFiftySixColoursAreKeptExactly(dither: Bool) throws {
        // Every colour twice, opaque: the palette is the image's own colours in order of appearance.
        let pixels = (0..<512).flatMap { i -> [UInt8] in Self.colour(i % 256) + [255] }
        let image = try Image.validated(width: 32, height: 16, format: .rgba8, pixels: pixels)
        let result = try PaletteQuantizer.quantize(image, dither: dither)
        #expect(result.transparentIndex == nil)
        #expect(result.palette.count == 256)
        #expect(result.indices == (0..<512).map { UInt8($0 % 256) })
        for i in 0..<512 {
            #expect(Self.rgb(result.palette, result.indices[i]) == Self.colour(i % 256), "pixel \(i)")
        }
    }

    /// Mean squared error per channel of `result` against the opaque pixels of `image`.
    static func meanSquaredError(_ image: Image, _ result: PaletteQuantizer.Result) -> Double {
        var sum = 0, count = 0
        for i in 0..<image.pixelCount where image.pixels[i * 4 + 3] >= 128 {
            let entry = rgb(result.palette, result.indices[i])
            for c in 0..<3 { let d = Int(image.pixels[i * 4 + c]) - Int(entry[c]); sum += d * d }
            count += 3
        }
        return Double(sum) / Double(count)
    }

    @Test func paletteStopsGrowingAtTheTargetError() throws {
        // Six colours with -2 … +1 levels of deterministic noise per channel (variance 1.25 levels²):
        // up to 384 distinct colours, too many to keep exactly, but six well-placed entries are
        // within the target error (4 levels²), so the palette stops growing long before 256.
        let centres: [[Int]] = [[20, 30, 200], [220, 40, 40], [40, 200, 60], [250, 250, 240], [10, 10, 10], [128, 128, 8]]
        var pixels: [UInt8] = []
        var state: UInt32 = 1
        for i in 0..<(96 * 64) {
            let c = centres[(i / 7) % 6]
            for ch in 0..<3 {
                state = state &* 1_664_525 &+ 1_013_904_223
                pixels.append(UInt8(c[ch] + Int(state >> 30) - 2))   // -2 … +1
            }
            pixels.append(255)
        }
        let image = try Image.validated(width: 96, height: 64, format: .rgba8, pixels: pixels)
        let result = try PaletteQuantizer.quantize(image, dither: false)
        #expect(result.transparentIndex == nil)
        var distinct = Set<Int>()
        for i in 0..<image.pixelCount {
            distinct.insert(Int(pixels[i * 4]) << 16 | Int(pixels[i * 4 + 1]) << 8 | Int(pixels[i * 4 + 2]))
        }
        #expect(distinct.count > 256)
        #expect(result.palette.count >= 6 && result.palette.count <= 12, "\(result.palette.count) entries")
        #expect(Self.meanSquaredError(image, result) <= PaletteQuantizer.targetError)
    }

    @Test func smoothGradientIsQuantisedClosely() throws {
        // A 128x128 RGB gradient (16,384 colours) into 256 entries, not dithered: 35.6 dB with the
        // variance splits, k-means and exact nearest-entry mapping (the 5-bit median cut and
        // cell-cached mapping they replaced: 33.9 dB on the same picture).
        let image = TestImages.gradient(width: 128, height: 128, alpha: false).converted(to: .rgba8)
        let result = try PaletteQuantizer.quantize(image, dither: false)
        let mse = Self.meanSquaredError(image, result)
        let psnr = 10 * log10(255 * 255 / mse)
        #expect(psnr > 35.5, "\(psnr) dB")
        // Dithered, every pixel still maps to an entry and the error stays bounded.
        let dithered = try PaletteQuantizer.quantize(image, dither: true)
        #expect(dithered.palette.count == result.palette.count)
        #expect(Self.meanSquaredError(image, dithered) < 4 * mse + 4)
    }

    @Test func transparencyKeepsItsOwnIndex() throws {
        // 255 opaque colours (alpha 255 or 128: 128 is opaque) and three transparent pixels (alpha 0
        // or 127) whose colour is garbage: 255 colours + the transparent index fill the 256 entries.
        var pixels = (0..<255).flatMap { i -> [UInt8] in Self.colour(i) + [i % 2 == 0 ? 255 : 128] }
        pixels += [9, 9, 9, 0, 250, 1, 2, 127, 3, 4, 5, 0]
        let image = try Image.validated(width: 258, height: 1, format: .rgba8, pixels: pixels)
        let result = try PaletteQuantizer.quantize(image, dither: true)
        #expect(result.transparentIndex == 255)
        #expect(result.palette.count == 256)
        #expect(Self.rgb(result.palette, 255) == [0, 0, 0])
        #expect(Array(result.indices.suffix(3)) == [255, 255, 255])
        for i in 0..<255 {
            #expect(Self.rgb(result.palette, result.indices[i]) == Self.colour(i), "pixel \(i)")
        }
        // Through the GIF encoder and decoder: the opaque pixels come back exactly, the others transparent.
        let gif = try ImageEncoder.encode(image, as: .gif)
        let back = try ImageDecoder.decode(gif).image
        #expect(back.format == .rgba8 && back.width == 258)
        for i in 0..<255 {
            let opaque: [UInt8] = Self.colour(i) + [255]
            #expect(Array(back.pixels[(i * 4)..<(i * 4 + 4)]) == opaque, "pixel \(i)")
        }
        #expect(Array(back.pixels.suffix(12)) == [UInt8](repeating: 0, count: 12))
    }
}

/// ``ColorManagement``: an embedded profile is applied unless it is sRGB already; lcms2 does the work.
@Suite struct ColorManagementTests {
    /// An lcms2 profile as ICC bytes.
    static func bytes(_ profile: cmsHPROFILE) -> [UInt8] {
        defer { cmsCloseProfile(profile) }
        var size: UInt32 = 0
        _ = cmsSaveProfileToMem(profile, nil, &size)
        var bytes = [UInt8](repeating: 0, count: Int(size))
        _ = cmsSaveProfileToMem(profile, &bytes, &size)
        return bytes
    }

    /// An RGB profile that is not sRGB: Adobe RGB (1998)'s primaries and D65 white, gamma 563/256.
    /// lcms2 names it "RGB built-in".
    static let adobeLikeRGB: [UInt8] = {
        var white = cmsCIExyY(x: 0.3127, y: 0.3290, Y: 1)
        var primaries = cmsCIExyYTRIPLE(Red: cmsCIExyY(x: 0.64, y: 0.33, Y: 1), Green: cmsCIExyY(x: 0.21, y: 0.71, Y: 1),
                                        Blue: cmsCIExyY(x: 0.15, y: 0.06, Y: 1))
        let gamma = cmsBuildGamma(nil, 563.0 / 256.0)
        defer { cmsFreeToneCurve(gamma) }
        var curves: [OpaquePointer?] = [gamma, gamma, gamma]
        return bytes(cmsCreateRGBProfile(&white, &primaries, &curves)!)
    }()

    /// `profile` with its description tag set to `name`.
    static func named(_ profile: cmsHPROFILE, _ name: String) -> cmsHPROFILE {
        let mlu = cmsMLUalloc(nil, 1)
        defer { cmsMLUfree(mlu) }
        _ = cmsMLUsetASCII(mlu, "en", "US", name)
        _ = cmsWriteTag(profile, cmsSigProfileDescriptionTag, UnsafeRawPointer(mlu))
        return profile
    }

    @Test func sRGBIsJudgedByColoursNotByName() throws {
        // Display P3's primaries with sRGB's curve, named as Apple names it: not sRGB.
        var white = cmsCIExyY(x: 0.3127, y: 0.3290, Y: 1)
        var p3 = cmsCIExyYTRIPLE(Red: cmsCIExyY(x: 0.680, y: 0.320, Y: 1), Green: cmsCIExyY(x: 0.265, y: 0.690, Y: 1),
                                 Blue: cmsCIExyY(x: 0.150, y: 0.060, Y: 1))
        var parameters: [Double] = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045]
        let curve = cmsBuildParametricToneCurve(nil, 4, &parameters)
        defer { cmsFreeToneCurve(curve) }
        var curves: [OpaquePointer?] = [curve, curve, curve]
        let displayP3 = Self.bytes(Self.named(cmsCreateRGBProfile(&white, &p3, &curves)!, "Display P3 Gamut with sRGB Transfer"))
        #expect(!ColorManagement.isSRGB(displayP3))
        #expect(!ColorManagement.isSRGB(Self.bytes(Self.named(cmsCreateRGBProfile(&white, &p3, &curves)!, "sRGB IEC61966-2.1"))))
        // sRGB under another name is sRGB; gray and broken profiles are not.
        #expect(ColorManagement.isSRGB(Self.bytes(Self.named(cmsCreate_sRGBProfile()!, "Camera profile"))))
        #expect(!ColorManagement.isSRGB(Self.linearGray))
        #expect(!ColorManagement.isSRGB([1, 2, 3]))
        // And the pixels are converted: saturated red in P3 is outside sRGB, so it clips to 255, 0, 0
        // while P3's mid grey stays grey.
        let image = try Image.validated(width: 2, height: 1, format: .rgb8, pixels: [200, 30, 30, 128, 128, 128])
        let converted = try #require(ColorManagement.convertToSRGB(image, profile: displayP3))
        #expect(converted.pixels[0] > 215 && converted.pixels[1] < 30, "\(converted.pixels)")
        #expect(abs(Int(converted.pixels[3]) - 128) <= 1 && converted.pixels[3] == converted.pixels[4])
    }

    /// A linear gray profile (gamma 1.0, D50): "gray built-in".
    static let linearGray: [UInt8] = {
        let curve = cmsBuildGamma(nil, 1.0)
        defer { cmsFreeToneCurve(curve) }
        return bytes(cmsCreateGrayProfile(cmsD50_xyY(), curve)!)
    }()


    /// 16-bit RGB(A) from a matrix/shaper ICC profile (Adobe RGB-like here; CICP's are the same
    /// kind) is computed from the profiles' curves and matrices: within 0.05 levels of 8 bits of
    /// lcms2's unoptimised pipeline on 20,000 random pixels, alpha untouched; lcms2's own 16-bit
    /// transform (its precalculated grid) is further off.
    @Test func matrixShaper16MatchesLcmsUnoptimised() throws {
        var generator = SystemRandomNumberGenerator()
        var samples = (0..<(20_000 * 4)).map { _ in UInt16.random(in: 0...65535, using: &generator) }
        samples[0...3] = [0, 0, 0, 65535]
        samples[4...7] = [65535, 65535, 65535, 1234]
        let image = try Image.validated(width: 20_000, height: 1, format: .rgba16, pixels: samples.withUnsafeBytes { Array($0) })
        let source = try #require(Self.adobeLikeRGB.withUnsafeBytes { cmsOpenProfileFromMem($0.baseAddress, UInt32($0.count)) })
        defer { cmsCloseProfile(source) }
        let converted = try #require(ColorManagement.convertToSRGB(image, source: source))
        let target = try #require(cmsCreate_sRGBProfile())
        defer { cmsCloseProfile(target) }
        func lcms(_ flags: Int32) throws -> [UInt16] {
            let transform = try #require(cmsCreateTransform(source, kDarkroomTYPE_RGBA_16, target, kDarkroomTYPE_RGBA_16,
                                                            cmsUInt32Number(INTENT_RELATIVE_COLORIMETRIC),
                                                            cmsUInt32Number(flags | cmsFLAGS_BLACKPOINTCOMPENSATION | cmsFLAGS_COPY_ALPHA)))
            defer { cmsDeleteTransform(transform) }
            var out = [UInt16](repeating: 0, count: samples.count)
            cmsDoTransform(transform, samples, &out, 20_000)
            return out
        }
        let exact = try lcms(cmsFLAGS_NOOPTIMIZE), optimised = try lcms(0)
        let ours = converted.pixels.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        func worst(_ a: [UInt16]) -> Double {
            zip(a, exact).enumerated().filter { $0.offset % 4 != 3 }.map { abs(Double($0.element.0) - Double($0.element.1)) / 257 }.max()!
        }
        #expect(worst(ours) <= 0.05, "\(worst(ours))")
        #expect(worst(optimised) > worst(ours), "lcms2's 16-bit grid: \(worst(optimised)) levels")
        #expect(stride(from: 3, to: ours.count, by: 4).allSatisfy { ours[$0] == samples[$0] })
        #expect(Array(ours[0...7]) == [0, 0, 0, 65535, 65535, 65535, 65535, 1234])
    }
    static func colours() throws -> Image {
        try Image.validated(width: 8, height: 1, format: .rgb8,
                            pixels: [0, 0, 0, 255, 255, 255, 128, 128, 128, 255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 100, 50, 50, 100, 200])
    }

    @Test func anSRGBProfileIsDetectedAndLeftAlone() throws {
        let srgb = try #require(ColorManagement.sRGBProfile())
        #expect(ColorManagement.describe(srgb) == "sRGB built-in")
        let image = try Self.colours()
        #expect(ColorManagement.convertToSRGB(image, profile: srgb) == nil)
        // Embedded in a PNG: decoded as stored, the profile named, nothing converted.
        let decoded = try ImageDecoder.decode(PNGCodec.encode(image, icc: srgb, exif: nil))
        #expect(decoded.image == image)
        #expect(!decoded.metadata.convertedToSRGB)
        #expect(decoded.metadata.iccDescription == "sRGB built-in")
        #expect(decoded.metadata.iccProfile == srgb)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"))
    func aCameraSRGBProfileIsLeftAlone() throws {
        // A PNG with the 3,144-byte "sRGB IEC61966-2.1" profile.
        let bytes = try #require(Corpus.read("color/png/icc_profile.png"))
        let stored = try ImageDecoder.decode(bytes, options: DecodeOptions(convertToSRGB: false))
        let decoded = try ImageDecoder.decode(bytes)
        #expect(decoded.metadata.iccDescription == "sRGB IEC61966-2.1")
        #expect(decoded.metadata.iccProfile?.count == 3144)
        #expect(!decoded.metadata.convertedToSRGB)
        #expect(decoded.image == stored.image)
    }

    @Test func anRGBProfileThatIsNotSRGBChangesThePixels() throws {
        #expect(ColorManagement.describe(Self.adobeLikeRGB) == "RGB built-in")
        let image = try Self.colours()
        let converted = try #require(ColorManagement.convertToSRGB(image, profile: Self.adobeLikeRGB))
        // Black and white stay; mid gray is a little lighter (gamma 2.2 vs the sRGB curve); the
        // primaries are outside sRGB and clip to themselves; mixed colours move.
        #expect(converted.pixels == [0, 0, 0, 255, 255, 255, 129, 129, 129, 255, 0, 0, 0, 255, 0, 0, 0, 255, 227, 100, 42, 0, 100, 204])
        // At 16 bits with alpha: the same colours, alpha copied.
        let deep = try #require(ColorManagement.convertToSRGB(image.converted(to: .rgba16), profile: Self.adobeLikeRGB))
        #expect(deep.converted(to: .rgb8) == converted)
        #expect(deep.converted(to: .rgba8).pixels.enumerated().filter { $0.offset % 4 == 3 }.allSatisfy { $0.element == 255 })
        // Embedded in a PNG: the decoder converts and says so; without convertToSRGB it does not.
        let png = try PNGCodec.encode(image, icc: Self.adobeLikeRGB, exif: nil)
        let decoded = try ImageDecoder.decode(png)
        #expect(decoded.image == converted)
        #expect(decoded.metadata.convertedToSRGB)
        #expect(decoded.metadata.iccDescription == "RGB built-in")
        #expect(try ImageDecoder.decode(png, options: DecodeOptions(convertToSRGB: false)).image == image)
    }

    @Test func aGrayProfileConvertsThroughTheSRGBCurve() throws {
        #expect(ColorManagement.describe(Self.linearGray) == "gray built-in")
        // Linear light to sRGB's transfer curve: 64/255 → 137, 128/255 → 188.
        let gray = try Image.validated(width: 5, height: 1, format: .gray8, pixels: [0, 10, 64, 128, 255])
        #expect(ColorManagement.convertToSRGB(gray, profile: Self.linearGray)?.pixels == [0, 55, 137, 188, 255])
        // Gray + alpha: the gray plane converted, the alpha kept.
        let grayAlpha = try Image.validated(width: 2, height: 1, format: .grayAlpha8, pixels: [64, 7, 128, 200])
        #expect(ColorManagement.convertToSRGB(grayAlpha, profile: Self.linearGray)?.pixels == [137, 7, 188, 200])
    }

    @Test func aProfileThatDoesNotFitThePixelsIsIgnored() throws {
        let gray = try Image.validated(width: 2, height: 1, format: .gray8, pixels: [10, 200])
        #expect(ColorManagement.convertToSRGB(gray, profile: Self.adobeLikeRGB) == nil)
        #expect(ColorManagement.convertToSRGB(try Self.colours(), profile: Self.linearGray) == nil)
        // Bytes that are no profile: no name, nothing done.
        #expect(ColorManagement.describe([1, 2, 3]) == nil)
        #expect(ColorManagement.convertToSRGB(try Self.colours(), profile: [1, 2, 3]) == nil)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"))
    func anAdobeRGBPhotoIsConverted() throws {
        let bytes = try #require(Corpus.read("color/jpeg/a98_sample.jpg"))   // 290x442
        let stored = try ImageDecoder.decode(bytes, options: DecodeOptions(convertToSRGB: false))
        let decoded = try ImageDecoder.decode(bytes)
        #expect(decoded.metadata.iccDescription == "Artifex Software A98 ICC Profile ")
        #expect(decoded.metadata.convertedToSRGB && !stored.metadata.convertedToSRGB)
        #expect(Array(stored.image.pixels.prefix(6)) == [176, 160, 127, 171, 155, 122])
        #expect(Array(decoded.image.pixels.prefix(6)) == [183, 161, 126, 178, 156, 121])
        #expect(decoded.image.pixels != stored.image.pixels)
    }

    @Test func cmykWithoutAProfileUsesTheNaiveFormula() {
        // R = (1 − C)(1 − K) in bytes, rounded; Adobe's inverted CMYK stores 255 − ink.
        let cmyk: [UInt8] = [0, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 255, 128, 64, 32, 16]
        #expect(ColorManagement.cmykToSRGB(cmyk, width: 4, height: 1, inverted: false, profile: nil).pixels
                == [255, 0, 0, 255, 255, 255, 0, 0, 0, 119, 179, 209])
        #expect(ColorManagement.cmykToSRGB(cmyk, width: 4, height: 1, inverted: true, profile: nil).pixels
                == [0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 4, 2])
    }
}
