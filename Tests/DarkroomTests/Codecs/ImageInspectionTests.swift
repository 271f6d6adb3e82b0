import Foundation
import Testing
@testable import Darkroom

/// `ImageInspection` (issue #17): header facts, billing, colour, metadata and the damage the
/// header walk finds, with exact values on the bundled test images and the shared corpus.
@Suite struct ImageInspectionTests {
    static func inspect(_ bytes: [UInt8], maxPixels: Int = DecodeOptions.defaultMaxPixels) throws -> ImageInspection {
        try ImageInspection.inspect(bytes, options: DecodeOptions(maxPixels: maxPixels))
    }

    @Test func testImages() throws {
        let rgba = try Self.inspect(TestImages.bytes("rgba.png"))
        #expect(rgba.format == .png && rgba.storedWidth == 32 && rgba.storedHeight == 32)
        #expect(rgba.bitDepth == 8 && rgba.hasAlpha && rgba.frameCount == 1 && rgba.orientation == .up)
        #expect(rgba.colour == .gamma(1.0) && rgba.colour.description == "gAMA 1 (converted to sRGB's curve)")   // its gAMA is 1.0
        #expect(rgba.metadata == ImageInspection.MetadataPresence() && rgba.damage.isEmpty)
        #expect(rgba.pixelCount == 1024 && rgba.megapixels == 1024.0 / 1_048_576 && rgba.billedMegapixels == 1)

        let plain = try Self.inspect(PNGCodec.encode(TestImages.gradient(width: 4, height: 4, alpha: false), icc: nil, exif: nil))
        #expect(plain.colour == .none && plain.colour.description == "none (sRGB assumed)")

        let trns = try Self.inspect(TestImages.bytes("palette-trns.png"))
        #expect(trns.hasAlpha && trns.bitDepth == 8)
        let gray16 = try Self.inspect(TestImages.bytes("gray16.png"))
        #expect(gray16.bitDepth == 16 && !gray16.hasAlpha)

        let kodim = try Self.inspect(TestImages.bytes("kodim23.jpg"))
        #expect(kodim.format == .jpeg && kodim.storedWidth == 768 && kodim.storedHeight == 512 && !kodim.hasAlpha)
        #expect(kodim.byteCount == (try TestImages.bytes("kodim23.jpg")).count && kodim.damage.isEmpty)

        let turned = try Self.inspect(TestImages.bytes("hopper-orientation-6.jpg"))
        #expect(turned.orientation == .right && turned.metadata.exif && !turned.metadata.gps)
    }

    @Test func oneHeaderParse() throws {
        for name in ["kodim23.jpg", "rgba.png"] {
            let bytes = try TestImages.bytes(name)
            let counter = HeaderParses.Counter()
            try HeaderParses.$counter.withValue(counter) { _ = try Self.inspect(bytes) }
            #expect(counter[ImageFormat.sniff(bytes)!] == 1, "\(name)")
        }
    }

    @Test func refusals() throws {
        #expect(throws: DarkroomError.decoding(.unknownFormat)) { try Self.inspect(Array("not an image".utf8)) }
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 768, height: 512, limit: 1000))) {
            try Self.inspect(TestImages.bytes("kodim23.jpg"), maxPixels: 1000)
        }
    }

    /// The billed megapixels are the gateway's: ceil(w·h / 1,048,576).
    @Test func billing() throws {
        var r = try Self.inspect(TestImages.bytes("rgba.png"))
        for (w, h, billed) in [(1024, 1024, 1), (1025, 1024, 2), (3024, 4032, 12), (1, 1, 1), (2048, 2048, 4)] {
            r.storedWidth = w
            r.storedHeight = h
            #expect(r.billedMegapixels == billed, "\(w)x\(h)")
            #expect(r.billedMegapixels == (try MegapixelBilling.billedMegapixels(width: w, height: h)))
        }
    }

    // MARK: Damage on made-up cuts of intact files

    @Test func truncatedPNG() throws {
        let bytes = try TestImages.bytes("rgba.png")
        #expect(try Self.inspect(bytes).damage.isEmpty)
        // Without IEND (12 bytes): the header still parses, the walk notices.
        let noEnd = try Self.inspect(Array(bytes.dropLast(12)))
        #expect(noEnd.damage == [DecodeWarning(kind: .truncated, message: "no IEND chunk: the file ends after \(bytes.count - 12) bytes without it")])
        // One flipped byte in the IDAT data: a critical chunk's CRC.
        var flipped = bytes
        let idat = Self.offset(of: "IDAT", in: bytes)!
        flipped[idat + 6] ^= 0xFF
        #expect(try Self.inspect(flipped).damage == [DecodeWarning(kind: .truncated, message: "CRC mismatch in chunk 'IDAT' at offset \(idat - 4)")])
    }

    @Test func truncatedJPEG() throws {
        let bytes = try TestImages.bytes("kodim23.jpg")
        let cut = try Self.inspect(Array(bytes.prefix(bytes.count / 2)))
        #expect(cut.damage == [DecodeWarning(kind: .truncated, message: "no EOI marker: the file ends in scan data after \(bytes.count / 2) bytes")])
        #expect(cut.storedWidth == 768)
        // Bytes after EOI (an MPF image, a phone's trailer) are no damage.
        #expect(try Self.inspect(bytes + [1, 2, 3]).damage.isEmpty)
    }

    @Test func truncatedWebPAndGIF() throws {
        let image = try ImageDecoder.decode(TestImages.bytes("rgba.png")).image
        let webp = try ImageEncoder.encode(image, as: .webp, options: EncodeOptions(quality: 80))
        #expect(try Self.inspect(webp).damage.isEmpty)
        #expect(try Self.inspect(webp).hasAlpha)
        let cutWebP = Array(webp.dropLast(10))
        #expect(try Self.inspect(cutWebP).damage.first
                == DecodeWarning(kind: .truncated, message: "the RIFF header declares \(webp.count) bytes; the file has \(webp.count - 10)"))

        let gif = try ImageEncoder.encode(image, as: .gif, options: EncodeOptions())
        let whole = try Self.inspect(gif)
        #expect(whole.damage.isEmpty && whole.frameCount == 1)
        let noTrailer = try Self.inspect(Array(gif.dropLast()))
        #expect(noTrailer.damage == [DecodeWarning(kind: .truncated, message: "no trailer: the file ends after 1 frame (\(gif.count - 1) bytes)")])
    }

    @Test func truncatedAVIF() throws {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image
        let avif = try ImageEncoder.encode(image, as: .avif, options: EncodeOptions(quality: 50))
        #expect(try Self.inspect(avif).damage.isEmpty)
        // The mdat box comes last: cut into it, libavif still parses the header (no pixel is read).
        let cut = Array(avif.dropLast(100))
        do {
            let r = try Self.inspect(cut)
            #expect(r.damage.count == 1 && r.damage[0].kind == .truncated && r.damage[0].message.hasPrefix("box 'mdat' at offset "), "\(r.damage)")
        } catch {
            Issue.record("a cut AVIF whose header is whole should be inspected, not refused: \(error)")
        }
    }

    static func offset(of type: String, in bytes: [UInt8]) -> Int? {
        let t = Array(type.utf8)
        return (0...(bytes.count - 4)).first { Array(bytes[$0..<($0 + 4)]) == t }
    }
}

/// Exact values on files of the shared corpus (MANIFEST.tsv).
@Suite(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
struct ImageInspectionCorpusTests {
    static func inspect(_ path: String) throws -> ImageInspection {
        guard let bytes = Corpus.read(path) else { throw DarkroomError.file(.io(path: path, message: "missing")) }
        return try ImageInspection.inspect(bytes)
    }

    /// A PNG whose colour is a file gamma alone says so, as decoding converts it (libpng's test
    /// files: gAMA 1.0 and 0.65909; with an sRGB chunk beside it the gamma decides nothing).
    @Test func pngFileGammaIsReported() throws {
        let linear = try Self.inspect("color/png/libpng-testpngs/rgb-8-linear.png")
        #expect(linear.colour == .gamma(1.0) && linear.colour.description == "gAMA 1 (converted to sRGB's curve)")
        let other = try Self.inspect("color/png/libpng-testpngs/rgb-8-1.8.png")
        #expect(other.colour.description == "gAMA 0.65909 (converted to sRGB's curve)")
        #expect(try Self.inspect("color/png/libpng-testpngs/rgb-8-sRGB.png").colour == .none)
        #expect(try Self.inspect("color/png/libpng-testpngs/rgb-8.png").colour == .none)
        #expect(ImageInspection.Colour.gamma(0.45455).description == "gAMA 0.45455 (as sRGB's curve)")
        // The decode converts what inspect reports.
        let decoded = try ImageDecoder.decode(try #require(Corpus.read("color/png/libpng-testpngs/rgb-8-linear.png")))
        #expect(decoded.metadata.convertedToSRGB && decoded.metadata.pngGamma == 1.0)
    }

    @Test func avifWithICCAndGPS() throws {
        let r = try Self.inspect("color/avif/display-p3_3024x4032.avif")
        #expect(r.format == .avif && r.storedWidth == 3024 && r.storedHeight == 4032 && r.bitDepth == 8)
        #expect(r.billedMegapixels == 12 && abs(r.megapixels - 11.628) < 0.001)
        #expect(r.colour == .icc(description: "Display P3"))
        #expect(r.metadata == ImageInspection.MetadataPresence(exif: true, gps: true, xmp: false, icc: true))
        #expect(r.damage.isEmpty && !r.hasAlpha && r.frameCount == 1)
    }

    @Test func avifCICPDepthFramesAlpha() throws {
        let pq = try Self.inspect("conform/avif/libavif/cosmos1650_yuv444_10bpc_p3pq.avif")
        #expect(pq.bitDepth == 10 && pq.colour == .cicp(CICP(primaries: 12, transfer: 16, matrix: 12, fullRange: true)))
        #expect(pq.colour.description == "CICP 12/16/12 full (Display P3, PQ, chromaticity-derived NCL)")
        let animated = try Self.inspect("conform/avif/libavif/colors-animated-8bpc-alpha-exif-xmp.avif")
        #expect(animated.frameCount == 5 && animated.hasAlpha && animated.metadata.xmp && animated.metadata.exif)
        let star = try Self.inspect("conform/avif/pillow/star.avifs")
        #expect(star.frameCount == 5 && star.hasAlpha && star.storedWidth == 159)
        // libavif 0.11 does not see this alpha (beside a grid); the walk's auxC does.
        #expect(try Self.inspect("conform/avif/libavif/color_grid_alpha_nogrid.avif").hasAlpha)
    }

    @Test func orientationSwapsUprightSides() throws {
        let jpeg = try Self.inspect("orientation/misc/paris_exif_orientation_5.jpg")
        #expect(jpeg.orientation == .leftMirrored && jpeg.storedWidth == 403 && jpeg.storedHeight == 302)
        #expect(jpeg.uprightWidth == 302 && jpeg.uprightHeight == 403)
        let avif = try Self.inspect("orientation/avif/rot1mir0.avif")
        #expect(avif.orientation == .leftMirrored && avif.uprightWidth == 640 && avif.uprightHeight == 427)
        // irot/imir as the EXIF orientation Pillow reports (the MANIFEST's notes).
        for (name, value) in [("rot0mir0", 4), ("rot0mir1", 2), ("rot1mir0", 5), ("rot1mir1", 7),
                              ("rot2mir0", 2), ("rot2mir1", 4), ("rot3mir0", 7), ("rot3mir1", 5)] {
            #expect(try Self.inspect("orientation/avif/\(name).avif").orientation.rawValue == value, "\(name)")
        }
    }

    @Test func pngCICPAndAncillaryCRCs() throws {
        let r = try Self.inspect("color/png/cicp_pq.png")
        #expect(r.colour == .cicp(CICP(primaries: 9, transfer: 16, matrix: 0, fullRange: true)))
        #expect(r.damage == [DecodeWarning(kind: .warning, message: "CRC mismatch in chunk 'cLLI' at offset 93"),
                             DecodeWarning(kind: .warning, message: "CRC mismatch in chunk 'mDCV' at offset 113")])
    }

    @Test func animations() throws {
        let apng = try Self.inspect("conform/png/apng/blend_op_over.png")
        #expect(apng.frameCount == 2 && apng.hasAlpha)
        let gif = try Self.inspect("conform/gif/wuffs/animated-red-blue.gif")
        #expect(gif.frameCount == 4 && gif.hasAlpha && gif.storedWidth == 64 && gif.storedHeight == 48)
        #expect(try Self.inspect("conform/gif/pygif-suite/no-data.gif").frameCount == 0)
    }

    @Test func truncatedAndCorruptFiles() throws {
        let cases: [(String, DecodeWarning)] = [
            ("corrupt/png/wuffs/hippopotamus.regular.truncated.png",
             DecodeWarning(kind: .truncated, message: "chunk 'IDAT' at offset 33 needs 2098 bytes; the file ends 991 bytes after its start")),
            ("corrupt/png/image-png/x_consecutive_idat.png",
             DecodeWarning(kind: .truncated, message: "IDAT chunk at offset 176 after other chunks: the image data must be consecutive")),
            ("corrupt/jpeg/wuffs/peacock.default.truncated.jpeg",
             DecodeWarning(kind: .truncated, message: "no EOI marker: the file ends in scan data after 1024 bytes")),
            ("conform/jpeg/pillow/photoshop-200dpi-broken.jpg",
             DecodeWarning(kind: .warning, message: "16 extraneous bytes before the marker at offset 4458")),
            ("corrupt/gif/libvips/truncated.gif",
             DecodeWarning(kind: .truncated, message: "the file ends in the image data of frame 1 (offset 45)")),
        ]
        for (path, warning) in cases {
            #expect(try Self.inspect(path).damage == [warning], "\(path)")
        }
    }

    /// Every `decode-ok` file of the corpus is inspected (or refused with a typed error) at the
    /// size the manifest lists, and the walk finds no damage in any but the two known ones.
    @Test func decodeOkFilesMatchTheManifest() throws {
        let knownDamage: Set<String> = ["conform/gif/pillow/test_extents_transparency.gif", "conform/jpeg/pillow/photoshop-200dpi-broken.jpg"]
        var inspected = 0
        for row in Corpus.rows where row.expected == "decode-ok" {
            guard let bytes = Corpus.read(row.path) else { continue }
            let r: ImageInspection
            do { r = try ImageInspection.inspect(bytes, options: DecodeOptions(maxPixels: Corpus.maxPixels)) } catch { continue }
            inspected += 1
            if let w = row.width, let h = row.height { #expect(r.storedWidth == w && r.storedHeight == h, "\(row.path)") }
            #expect(r.damage.isEmpty == !knownDamage.contains(row.path), "\(row.path): \(r.damage)")
        }
        #expect(inspected > 700)
    }
}
