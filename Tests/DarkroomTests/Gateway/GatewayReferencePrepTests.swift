import Foundation
import Testing
@testable import Darkroom

@Suite struct GatewayReferencePrepTests {
    @Test(arguments: [
        ("shots/photo.jpeg", ImageFormat.jpeg, "photo.ref.jpg"), ("a.b.png", .png, "a.b.ref.png"),
        (".hidden", .png, ".hidden.ref.png"), ("-", .webp, "stdin.ref.webp"), ("noext", .webp, "noext.ref.webp"),
    ])
    func outputNames(_ input: String, _ format: ImageFormat, _ expected: String) {
        #expect(ReferencePrep.outputName(for: input, format: format) == expected)
    }

    @Test func referenceFormats() throws {
        #expect(try ReferenceFormat(parsing: "KEEP") == .keep)
        #expect(try ReferenceFormat(parsing: "jpg") == .jpeg)
        #expect(ReferenceFormat.keep.resolve(source: .webp) == .webp)
        #expect(ReferenceFormat.png.resolve(source: .jpeg) == .png)
        #expect(throws: DarkroomError.gateway(.invalidValue(field: "format", value: "gif", accepted: ["keep", "png", "jpeg", "webp"]))) {
            try ReferenceFormat(parsing: "gif")
        }
    }

    @Test func tooManyReferencesFailBeforeAnyWork() throws {
        try ReferencePrep.checkCount(10)
        #expect(throws: DarkroomError.gateway(.tooManyReferences(count: 11, limit: 10))) { try ReferencePrep.checkCount(11) }
        // Eleven non-images: had any been looked at, there would be per-image failures, not a throw.
        let inputs = (0..<11).map { (name: "x\($0)", bytes: [UInt8]("not an image".utf8)) }
        #expect(throws: DarkroomError.gateway(.tooManyReferences(count: 11, limit: 10))) { try ReferencePrep.prepareAll(inputs) }
        let three = ReferencePrepOptions(maxReferences: 3)
        let results = try ReferencePrep.prepareAll(Array(inputs.prefix(3)), options: three)
        #expect(results.count == 3)
        for r in results { #expect(throws: DarkroomError.decoding(.unknownFormat)) { try r.get() } }
        #expect(GatewayError.tooManyReferences(count: 11, limit: 10).description == "11 reference images given, at most 10 are accepted")
    }

    @Test func onlyPNGJPEGAndWebPAreAccepted() throws {
        #expect(throws: DarkroomError.decoding(.unsupportedFormat(.gif, accepted: [.png, .jpeg, .webp]))) {
            try ReferencePrep.prepare(bytes: GatewayFixtures.pixelGIF, name: "a.gif")
        }
        #expect(throws: DarkroomError.decoding(.unsupportedFormat(.avif, accepted: [.png, .jpeg, .webp]))) {
            try ReferencePrep.prepare(bytes: GatewayFixtures.avifHead, name: "a.avif")
        }
        #expect(throws: DarkroomError.decoding(.unknownFormat)) { try ReferencePrep.prepare(bytes: [1, 2, 3], name: "x") }
    }

    @Test func findsMetadataBlocksWithoutDecoding() throws {
        #expect(EmbeddedMetadata.blocks(in: GatewayFixtures.redPixelPNG) == [])
        #expect(EmbeddedMetadata.blocks(in: GatewayFixtures.pixelGIF) == [])
        #expect(EmbeddedMetadata.blocks(in: [0xFF, 0xD8, 0xFF]) == [])  // truncated: no crash
        // JPEG: APP0 JFIF is not metadata, APP1 and COM are.
        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0xFF, 0xE1, 0x00, 0x02,
                             0xFF, 0xFE, 0x00, 0x03, 0x41, 0xFF, 0xDA, 0x00, 0x02]
        #expect(EmbeddedMetadata.blocks(in: jpeg) == ["APP1", "COM"])
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"), arguments: [
        ("conform/png/misc/itxt_chunks.png", "iTXt"),
        ("orientation/misc/paris_exif_orientation_5.jpg", "APP1"),
        ("orientation/pillow/hopper_orientation_2.webp", "EXIF"),
        ("conform/png/misc/large-text-chunks-issue-337.png", "iTXt"),
    ])
    func findsMetadataInCorpusFiles(_ path: String, _ block: String) throws {
        #expect(EmbeddedMetadata.blocks(in: try GatewayFixtures.corpusFile(path)).contains(block))
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"))
    func textChunksAreStrippedNotPassedThrough() throws {
        let bytes = try GatewayFixtures.corpusFile("conform/png/misc/large-text-chunks-issue-337.png")
        let ref = try ReferencePrep.prepare(bytes: bytes, name: "text.png")
        #expect(!ref.passedThrough)
        #expect((ref.width, ref.height) == (32, 32))
        #expect(EmbeddedMetadata.blocks(in: ref.bytes) == [])
        #expect(ref.bytes.count < bytes.count)
    }

    @Test func cleanSmallImagePassesThroughByteForByte() throws {
        let ref = try ReferencePrep.prepare(bytes: GatewayFixtures.redPixelPNG, name: "dir/red.png")
        #expect(ref.passedThrough)
        #expect(ref.bytes == GatewayFixtures.redPixelPNG)
        #expect(!ref.resized)
        #expect(ref.fileName == "red.ref.png")
        #expect((ref.inputWidth, ref.inputHeight, ref.width, ref.height) == (1, 1, 1, 1))
        #expect(ref.billedMegapixels == 1)
    }

    /// A PNG whose colour is given by cICP code points is made sRGB, never passed through (a
    /// provider that ignores cICP would show it wrong); an sRGB cICP is stripped with the rest.
    @Test func cicpPNGsAreConvertedNotPassedThrough() throws {
        let image = Image(unchecked: 2, height: 1, format: .rgb8, pixels: [80, 80, 128, 255, 0, 0])
        for (code, expected) in [([12, 13, 0, 1], nil), ([9, 16, 0, 1], [UInt8]([48, 67, 189])), ([1, 13, 0, 1], [UInt8]([80, 80, 128]))] as [([UInt8], [UInt8]?)] {
            let png = try MetadataFidelityTests.png(image, chunks: [("cICP", code)])
            let ref = try ReferencePrep.prepare(bytes: png, name: "c.png")
            #expect(!ref.passedThrough, "\(code)")
            #expect(try ImageInspection.inspect(ref.bytes).cicp == nil, "\(code)")
            let pixels = try ImageDecoder.decode(ref.bytes).image.pixels
            #expect(pixels == (try ImageDecoder.decode(png).image.pixels), "\(code): the converted pixels")
            if let expected { #expect(Array(pixels.prefix(3)) == expected, "\(code)") }
        }
    }

    @Test func changingTheFormatReEncodes() throws {
        let ref = try ReferencePrep.prepare(bytes: GatewayFixtures.redPixelPNG, name: "red.png",
                                            options: ReferencePrepOptions(format: .jpeg))
        #expect(!ref.passedThrough)
        #expect(ref.format == .jpeg && ref.sourceFormat == .png)
        #expect(ImageFormat.sniff(ref.bytes) == .jpeg)
        #expect(ref.fileName == "red.ref.jpg")
        let back = try ImageDecoder.decode(ref.bytes)
        #expect((back.image.width, back.image.height) == (1, 1))
        #expect(back.image.sample(x: 0, y: 0, channel: 0) > 240)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"),
          arguments: [
            ("orientation/misc/paris_exif_orientation_5.jpg", ImageFormat.jpeg, 302, 403),
            ("orientation/pillow/hopper_orientation_6.jpg", .jpeg, 128, 128),
            ("orientation/pillow/hopper_orientation_8.webp", .webp, 128, 128),
            ("orientation/pillow/hopper_orientation_3.webp", .webp, 128, 128),
          ])
    func orientedImagesAreTurnedUprightAndStripped(_ path: String, _ format: ImageFormat, _ w: Int, _ h: Int) throws {
        let bytes = try GatewayFixtures.corpusFile(path)
        let ref = try ReferencePrep.prepare(bytes: bytes, name: path)
        #expect(!ref.passedThrough)
        #expect(!ref.resized)
        #expect(ref.format == format)
        #expect((ref.inputWidth, ref.inputHeight) == (w, h))
        #expect((ref.width, ref.height) == (w, h))
        #expect(ref.billedMegapixels == 1)
        let back = try ImageDecoder.decode(ref.bytes)
        #expect(back.metadata.orientation == .up)
        #expect(back.metadata.exif == nil)
        #expect(back.metadata.iccProfile == nil)
        #expect((back.image.width, back.image.height) == (w, h))
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"))
    func iccImagesAreConvertedAndStripped() throws {
        let bytes = try GatewayFixtures.corpusFile("color/jpeg/a98_sample.jpg")
        let ref = try ReferencePrep.prepare(bytes: bytes, name: "a98.jpg")
        #expect(!ref.passedThrough)
        #expect((ref.width, ref.height) == (290, 442))
        let back = try ImageDecoder.decode(ref.bytes)
        #expect(back.metadata.iccProfile == nil)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus"))
    func largeCorpusImageIsResizedToFourMegapixels() throws {
        // 2400x2000 = 4,800,000 px > 4,194,304.
        let bytes = try GatewayFixtures.corpusFile("conform/png/misc/itxt_chunks.png")
        let ref = try ReferencePrep.prepare(bytes: bytes, name: "itxt_chunks.png")
        #expect(ref.resized && !ref.passedThrough)
        #expect((ref.inputWidth, ref.inputHeight) == (2400, 2000))
        #expect((ref.width, ref.height) == (2243, 1869))
        #expect(ref.width * ref.height <= 4_194_304)
        #expect(ref.billedMegapixels == 4)
        #expect(ref.format == .png)
        let header = try ImageDecoder.readHeader(ref.bytes)
        #expect((header.width, header.height) == (2243, 1869))
    }

    @Test func a4000x3000PhotoBecomes2364x1773() throws {
        let image = try Image(width: 4000, height: 3000, format: .gray8)
        let jpeg = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(quality: 80))
        let ref = try ReferencePrep.prepare(bytes: jpeg, name: "big.jpg", options: ReferencePrepOptions(format: .webp))
        #expect((ref.width, ref.height) == (2364, 1773))
        #expect(ref.format == .webp)
        #expect(ref.billedMegapixels == 4)
        let header = try ImageDecoder.readHeader(ref.bytes)
        #expect((header.width, header.height) == (2364, 1773))
    }
}
