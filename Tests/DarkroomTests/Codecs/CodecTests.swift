import Foundation
import Testing
@testable import Darkroom

@Suite struct CodecTests {
    static let inputs = ["kodim23.jpg", "rgba.png", "gray16.png", "rgb16.png", "palette-trns.png", "gray.jpg"]

    /// Every bundled image converts to every format and back to the same size; lossless
    /// targets keep the pixels exactly.
    @Test(arguments: inputs, ImageFormat.allCases)
    func roundTripsEveryFormatPair(input: String, target: ImageFormat) throws {
        let source = try TestImages.decode(input)
        let encoded = try ImageEncoder.encode(source.image, as: target, options: EncodeOptions(quality: 90))
        #expect(ImageFormat.sniff(encoded) == target)
        let back = try ImageDecoder.decode(encoded)
        #expect(back.image.width == source.image.width)
        #expect(back.image.height == source.image.height)
        #expect(back.metadata.sourceFormat == target)
        if target == .png {
            #expect(back.image == source.image, "PNG must be lossless, 16-bit included")
        }
        // Compare as 8-bit RGB flattened on white (how a viewer shows both).
        let a = source.image.converted(to: .rgb8), b = back.image.converted(to: .rgb8)
        let p = psnr(a, b)
        // GIF keeps only on/off alpha (rgba.png has graded alpha); tiny palette art loses more to lossy coding.
        let floor: Double = target == .gif ? (input == "rgba.png" ? 10 : 20) : (input == "palette-trns.png" ? 20 : 30)
        #expect(p > floor, "PSNR \(p) dB")
    }

    @Test func sixteenBitPNGStaysSixteenBit() throws {
        let d = try TestImages.decode("rgb16.png")
        #expect(d.image.format == .rgb16)
        #expect(d.metadata.storedBitDepth == 16)
        let png = try ImageEncoder.encode(d.image, as: .png)
        #expect(try ImageDecoder.decode(png).image == d.image)
    }

    @Test(arguments: [ImageFormat.jpeg, .webp, .avif])
    func fileSizeNeverGrowsAsQualityFalls(format: ImageFormat) throws {
        let photo = try TestImages.decode("kodim23.jpg").image
        var previous = Int.max
        for q in stride(from: 100, through: 0, by: -10) {
            let size = try ImageEncoder.encode(photo, as: format, options: EncodeOptions(quality: q)).count
            #expect(size <= previous, "\(format) q\(q): \(size) bytes > \(previous) at q\(q + 10)")
            previous = size
        }
    }

    @Test func avifTopQualityIsNotMathematicallyLossless() throws {
        #expect(QualityCurve.avifQuantizer(100) == 8)
        #expect(QualityCurve.avifQuantizer(0) == 63)
        let photo = try TestImages.decode("kodim23.jpg").image
        let avif = try ImageEncoder.encode(photo, as: .avif, options: EncodeOptions(quality: 100))
        let back = try ImageDecoder.decode(avif).image
        let p = psnr(photo, back)
        #expect(p > 40 && p < 60, "visually lossless, not lossless: \(p) dB")
    }

    @Test func jpegFlattensAlphaOntoTheBackground() throws {
        let image = TestImages.gradient()
        let red = RGBColor(red: 255, green: 0, blue: 0)
        let jpeg = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(quality: 100, background: red, chroma: .yuv444))
        let back = try ImageDecoder.decode(jpeg).image
        #expect(back.format == .rgb8)
        // Centre of the transparent hole: the background, not the hidden magenta.
        let (x, y) = (image.width * 3 / 8, image.height * 3 / 8)
        #expect(abs(back.sample(x: x, y: y, channel: 0) - 255) <= 3)
        #expect(back.sample(x: x, y: y, channel: 1) <= 3)
        #expect(back.sample(x: x, y: y, channel: 2) <= 3)
    }

    @Test(arguments: [ImageFormat.png, .webp, .avif, .gif])
    func alphaIsKept(format: ImageFormat) throws {
        let image = TestImages.gradient()
        let out = try ImageEncoder.encode(image, as: format, options: EncodeOptions(quality: 100))
        let back = try ImageDecoder.decode(out).image
        #expect(back.format.hasAlpha)
        #expect(back.sample(x: image.width * 3 / 8, y: image.height * 3 / 8, channel: 3) == 0)
        #expect(back.sample(x: 1, y: 1, channel: 3) == 255)
    }

    @Test func pngAndGIFIgnoreQuality() throws {
        // The codecs know nothing of OpenAI: quality below 100 is simply ignored by lossless PNG/GIF
        // (OpenAI's refusal lives in GatewayRequest.validate(strictOpenAI:)).
        let opaque = TestImages.gradient(alpha: false)
        for format in [ImageFormat.png, .gif] {
            #expect(try ImageEncoder.encode(opaque, as: format, options: EncodeOptions(quality: 10))
                == ImageEncoder.encode(opaque, as: format), "\(format)")
        }
    }

    @Test func metadataIsStrippedByDefaultAndKeptOnRequest() throws {
        let oriented = try TestImages.bytes("hopper-orientation-6.jpg")
        let decoded = try ImageDecoder.decode(oriented)
        #expect(decoded.metadata.orientation == .right)
        #expect(decoded.metadata.exif != nil)
        for format in [ImageFormat.jpeg, .png, .webp, .avif] {
            let stripped = try ImageEncoder.encode(decoded.image, as: format, metadata: decoded.metadata)
            let s = try ImageDecoder.decode(stripped)
            #expect(s.metadata.exif == nil, "\(format) kept EXIF by default")
            #expect(s.metadata.iccProfile == nil)
            let kept = try ImageEncoder.encode(decoded.image, as: format, metadata: decoded.metadata,
                                               options: EncodeOptions(keep: .exif))
            let k = try ImageDecoder.decode(kept)
            #expect(k.metadata.exif != nil, "\(format) dropped EXIF with keep: .exif")
            #expect(k.metadata.orientation == .up, "\(format): orientation must be written as 1")
            #expect(k.image.width == decoded.image.width && k.image.height == decoded.image.height)
        }
    }

    @Test func pixelLimitIsCheckedBeforeDecoding() throws {
        let photo = try TestImages.bytes("kodim23.jpg")
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 768, height: 512, limit: 1000))) {
            try ImageDecoder.decode(photo, options: DecodeOptions(maxPixels: 1000))
        }
        let png = try TestImages.bytes("rgba.png")
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 32, height: 32, limit: 100))) {
            try ImageDecoder.decode(png, options: DecodeOptions(maxPixels: 100))
        }
    }

    @Test func unknownBytesAreATypedError() throws {
        #expect(throws: DarkroomError.decoding(.unknownFormat)) { try ImageDecoder.decode(Array("not an image".utf8)) }
        #expect(throws: DarkroomError.self) { try ImageDecoder.decode([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]) }
    }

    @Test func jpegShrinkOnLoadKeepsAtLeastTheRequestedSize() throws {
        let stored = PixelSize(width: 6000, height: 4000)
        #expect(DecodeScale.largest(for: .jpeg, stored: stored, minimum: PixelSize(width: 5016, height: 3344)) == .full)
        #expect(DecodeScale.largest(for: .jpeg, stored: stored, minimum: PixelSize(width: 1600, height: 1000)) == .jpeg(denominator: 2))
        #expect(DecodeScale.largest(for: .jpeg, stored: stored, minimum: PixelSize(width: 700, height: 400)) == .jpeg(denominator: 8))
        #expect(DecodeScale.jpeg(denominator: 8).decodedSize(of: PixelSize(width: 6001, height: 4000)) == PixelSize(width: 751, height: 500))
        #expect(DecodeScale.largest(for: .webp, stored: stored, minimum: PixelSize(width: 3000, height: 1000)) == .webp(PixelSize(width: 3000, height: 2000)))
        #expect(DecodeScale.largest(for: .webp, stored: stored, minimum: PixelSize(width: 3001, height: 1000)) == .full)
        #expect(DecodeScale.largest(for: .png, stored: stored, minimum: PixelSize(width: 10, height: 10)) == .full)
        let d = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg"), options: DecodeOptions(minimumSize: (200, 100)))
        #expect((d.image.width, d.image.height) == (384, 256))
    }
}
