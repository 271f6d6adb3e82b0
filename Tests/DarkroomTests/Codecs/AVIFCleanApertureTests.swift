import CLibAVIF
import Foundation
import Testing
@testable import Darkroom

/// An AVIF's clean aperture (`clap`) is applied when decoding and in every size a header reader
/// reports; crop first, then `irot`, then `imir` (MIAF §7.3.6.7). Inputs are made with avifenc
/// 0.11.1 (`--clap WN,WD,HN,HD,HON,HOD,VON,VOD`), or by rewriting the `clap` box of one; the
/// expected pixels are avifdec's PNG of the whole coded image (avifdec 0.11 applies no `clap`),
/// cropped here.
@Suite struct AVIFCleanApertureTests {
    typealias Clap = AVIFCleanAperture

    static func clap(_ v: [Int64]) -> Clap {
        let u = v.map { UInt32(truncatingIfNeeded: $0) }
        return Clap(widthN: u[0], widthD: u[1], heightN: u[2], heightD: u[3], horizOffN: u[4], horizOffD: u[5],
                    vertOffN: u[6], vertOffD: u[7])
    }

    /// A 64x48 picture with a different colour at every pixel (no alpha, or alpha varying).
    static func picture(alpha: Bool = false) -> Image {
        var image = Image(unchecked: 64, height: 48, format: alpha ? .rgba8 : .rgb8)
        let c = image.format.channels
        for y in 0..<48 {
            for x in 0..<64 {
                let o = (y * 64 + x) * c
                image.pixels[o] = UInt8(x * 4)
                image.pixels[o + 1] = UInt8(y * 5)
                image.pixels[o + 2] = UInt8((x * 7 + y * 3) % 256)
                if alpha { image.pixels[o + 3] = UInt8(255 - (x + y) * 2) }
            }
        }
        return image
    }

    /// `avif` with the eight fields of its `clap` box replaced.
    static func rewritingClap(_ avif: [UInt8], _ fields: [Int64]) throws -> [UInt8] {
        let box = try #require(TestPixels.boxOffset("clap", in: avif))
        var out = avif
        for (i, value) in fields.enumerated() {
            let v = UInt32(truncatingIfNeeded: value)
            for k in 0..<4 { out[box + 8 + 4 * i + k] = UInt8(truncatingIfNeeded: v >> (24 - 8 * k)) }
        }
        return out
    }

    @Test func rectangleRules() {
        typealias R = Clap.Rect
        // Centred, and moved by whole and by fractional offsets.
        #expect(Self.clap([32, 1, 24, 1, 0, 1, 0, 1]).rect(width: 64, height: 48) == .success(R(x: 16, y: 12, width: 32, height: 24)))
        #expect(Self.clap([32, 1, 24, 1, 4, 1, 2, 1]).rect(width: 64, height: 48) == .success(R(x: 20, y: 14, width: 32, height: 24)))
        #expect(Self.clap([64, 2, 48, 2, -32, 2, -12, 1]).rect(width: 64, height: 48) == .success(R(x: 0, y: 0, width: 32, height: 24)))
        #expect(Self.clap([31, 1, 23, 1, 1, 2, 3, 2]).rect(width: 64, height: 48) == .success(R(x: 17, y: 14, width: 31, height: 23)))
        #expect(Self.clap([64, 1, 48, 1, 0, 1, 0, 1]).rect(width: 64, height: 48) == .success(R(x: 0, y: 0, width: 64, height: 48)))
        // Invalid: each with the value named.
        func reason(_ v: [Int64], _ w: Int = 64, _ h: Int = 48) -> String? {
            if case let .failure(invalid) = Self.clap(v).rect(width: w, height: h) { return invalid.reason }
            return nil
        }
        #expect(reason([31, 1, 24, 1, 0, 1, 0, 1]) == "its left edge (64 - 31)/2 + 0/1 is not a whole pixel")
        #expect(reason([33, 2, 24, 1, 0, 1, 0, 1]) == "the width 33/2 is not a whole number of pixels")
        #expect(reason([32, 0, 24, 1, 0, 1, 0, 1]) == "the width's denominator is 0 (it must be from 1 to 2^31-1)")
        #expect(reason([32, 1, 24, 1, 0, 0, 0, 1]) == "the horizontal offset's denominator is 0 (it must be from 1 to 2^31-1)")
        #expect(reason([32, 1, 24, -1, 0, 1, 0, 1]) == "the height's denominator is -1 (it must be from 1 to 2^31-1)")
        #expect(reason([0, 1, 24, 1, 0, 1, 0, 1]) == "the width is 0/1 (it must be positive)")
        #expect(reason([-32, 1, 24, 1, 0, 1, 0, 1]) == "the width is -32/1 (it must be positive)")
        #expect(reason([65, 1, 48, 1, 0, 1, 0, 1]) == "the width 65 is larger than the coded image's 64")
        #expect(reason([32, 1, 24, 1, 17, 1, 0, 1]) == "its left edge 33 puts the 32-pixel aperture outside the coded image's 0...64")
        #expect(reason([32, 1, 24, 1, 0, 1, -13, 1]) == "its top edge -1 puts the 24-pixel aperture outside the coded image's 0...48")
        // The largest fields never trap.
        let big: Int64 = 0x7FFF_FFFF
        #expect(reason([big, 1, 24, 1, 0, 1, 0, 1]) != nil)
        #expect(reason([32, 1, 24, 1, big, big, 0, 1], 65536, 48) == nil)
        #expect(reason([32, 1, 24, 1, -big - 1, 1, 0, 1], 65536, 48) != nil)
        for v in [Int64(0), 1, big, 0x8000_0000, 0xFFFF_FFFF] {
            _ = Self.clap([v, v, v, v, v, v, v, v]).rect(width: 65536, height: 65536)
            _ = Self.clap([32, 1, 24, 1, v, v, v, v]).rect(width: 1, height: 1)
        }
    }

    /// On 4:4:4 (no parity rule) the rectangle is libavif 0.11.1's `avifCropRectConvertCleanApertureBox`'s,
    /// over 20,000 boxes of small random fields; on 4:2:0 it also accepts the odd edges and sides
    /// that libavif 0.11.1 refuses (and libavif ≥ 1.2 accepts).
    @Test func agreesWithLibavif() {
        var generator = SystemRandomNumberGenerator()
        var valid = 0, oddOn420 = 0
        for _ in 0..<20_000 {
            let w = Int.random(in: 1...40, using: &generator), h = Int.random(in: 1...40, using: &generator)
            // Mostly plausible boxes (whole sides, small offsets over small denominators), some wild.
            func side(_ coded: Int) -> [Int64] {
                let d = Int64([1, 1, 2, 3].randomElement(using: &generator)!)
                let n = Int64.random(in: 1...Int64(coded + 1), using: &generator) * d + (Bool.random(using: &generator) ? 0 : 1)
                return [n, d]
            }
            func offset() -> [Int64] { [Int64.random(in: -9...9, using: &generator), Int64([1, 2, 2, 4].randomElement(using: &generator)!)] }
            var v = side(w) + side(h) + offset() + offset()
            if Int.random(in: 0..<10, using: &generator) == 0 { v[Int.random(in: 0..<8, using: &generator)] = Int64.random(in: -2...2, using: &generator) }
            let ours = Self.clap(v).rect(width: w, height: h)
            var box = avifCleanApertureBox(widthN: UInt32(truncatingIfNeeded: v[0]), widthD: UInt32(truncatingIfNeeded: v[1]),
                                           heightN: UInt32(truncatingIfNeeded: v[2]), heightD: UInt32(truncatingIfNeeded: v[3]),
                                           horizOffN: UInt32(truncatingIfNeeded: v[4]), horizOffD: UInt32(truncatingIfNeeded: v[5]),
                                           vertOffN: UInt32(truncatingIfNeeded: v[6]), vertOffD: UInt32(truncatingIfNeeded: v[7]))
            var rect = avifCropRect(), diag = avifDiagnostics()
            let theirs = avifCropRectConvertCleanApertureBox(&rect, &box, UInt32(w), UInt32(h), AVIF_PIXEL_FORMAT_YUV444, &diag) != 0
            switch ours {
            case let .success(r):
                let said = diagnosticText(diag)
                #expect(theirs, "\(v) in \(w)x\(h): ours \(r), libavif refuses: \(said)")
                if theirs {
                    let libavifRect = Clap.Rect(x: Int(rect.x), y: Int(rect.y), width: Int(rect.width), height: Int(rect.height))
                    #expect(r == libavifRect, "\(v) in \(w)x\(h)")
                }
                valid += 1
                var diag420 = avifDiagnostics()
                if avifCropRectConvertCleanApertureBox(&rect, &box, UInt32(w), UInt32(h), AVIF_PIXEL_FORMAT_YUV420, &diag420) == 0 {
                    oddOn420 += 1
                    let odd = r.x % 2 != 0 || r.y % 2 != 0 || r.width % 2 != 0 || r.height % 2 != 0
                    #expect(odd, "\(v) in \(w)x\(h) refused on 4:2:0 with even values")
                }
            case let .failure(invalid):
                let reason = invalid.reason
                #expect(!theirs, "\(v) in \(w)x\(h): ours refuses (\(reason)), libavif accepts")
            }
        }
        #expect(valid > 500 && oddOn420 > 300, "valid \(valid), odd on 4:2:0 \(oddOn420)")
    }

    /// Lossless 4:4:4 RGB and RGBA, 4:2:0 lossy: the decode is avifdec's whole image cropped
    /// to the aperture, sample for sample.
    @Test(arguments: [(["-l"], false), (["-l"], true), (["-y", "420", "--min", "20", "--max", "20"], false), (["-y", "420"], true)])
    func decodeIsTheApertureOfTheCodedImage(settings: [String], alpha: Bool) throws {
        let avif = try AVIFTools.encode(Self.picture(alpha: alpha), settings + ["--clap", "32,1,24,1,4,1,2,1"])
        let whole = try AVIFTools.decode(avif)
        #expect((whole.width, whole.height) == (64, 48), "avifdec 0.11 applies no clap")
        let expected = TestPixels.crop(whole, x: 20, y: 14, width: 32, height: 24)
        let decoded = try ImageDecoder.decode(avif, options: DecodeOptions(convertToSRGB: false)).image
        #expect(decoded == expected)
        #expect(decoded.format == (alpha ? .rgba8 : .rgb8))
    }

    /// An odd aperture on 4:2:0, which libavif 0.11.1 refuses and libavif ≥ 1.2 accepts: cropped
    /// from the RGB pixels (avifenc 0.11 refuses to write it, so the box of an even one is rewritten).
    @Test func oddApertureOn420() throws {
        let even = try AVIFTools.encode(Self.picture(), ["-y", "420", "--clap", "32,1,24,1,4,1,2,1"])
        let odd = try Self.rewritingClap(even, [31, 1, 23, 1, 1, 2, 3, 2])
        #expect(try AVIFTools.info(odd).contains("W: 31/1, H: 23/1, hOff: 1/2, vOff: 3/2"))
        let expected = TestPixels.crop(try AVIFTools.decode(odd), x: 17, y: 14, width: 31, height: 23)
        let decoded = try ImageDecoder.decode(odd, options: DecodeOptions(convertToSRGB: false))
        #expect(decoded.image == expected)
        #expect(decoded.metadata.warnings.isEmpty)
    }

    /// Crop, then `irot` (90° anti-clockwise), then `imir` (top and bottom exchanged).
    @Test func cropComesBeforeRotationAndMirror() throws {
        let avif = try AVIFTools.encode(Self.picture(), ["-l", "--clap", "32,1,24,1,4,1,2,1", "--irot", "1", "--imir", "0"])
        let cropped = TestPixels.crop(try AVIFTools.decode(avif), x: 20, y: 14, width: 32, height: 24)
        let expected = TestPixels.mirroredTopToBottom(TestPixels.rotatedAnticlockwise(cropped))
        let decoded = try ImageDecoder.decode(avif, options: DecodeOptions(convertToSRGB: false)).image
        #expect((decoded.width, decoded.height) == (24, 32))
        #expect(decoded == expected)
        let converted = try Converter(options: ConvertOptions(format: .png)).convert(avif)
        #expect((converted.width, converted.height) == (24, 32))
    }

    /// Every header reader reports the aperture: `readHeader`, `inspect` (and its billing), the
    /// conversion plan, `check`, an animation reader, and `darkroom cost --ref` / `inspect`.
    @Test func headerReadersReportTheAperture() throws {
        let avif = try AVIFTools.encode(Self.picture(), ["-l", "--clap", "32,1,24,1,4,1,2,1", "--irot", "1"])
        let header = try ImageDecoder.readHeader(avif)
        #expect((header.width, header.height, header.orientation) == (32, 24, .left))
        let inspection = try ImageInspection.inspect(avif)
        #expect((inspection.storedWidth, inspection.storedHeight, inspection.uprightWidth, inspection.uprightHeight) == (32, 24, 24, 32))
        #expect(inspection.damage.isEmpty)
        #expect(inspection.pixelCount == 768)
        let check = try ImageDecoder.check(avif)
        #expect((check.width, check.height) == (24, 32))
        let reader = try AnimationReader(avif)
        #expect((reader.width, reader.height) == (24, 32))
        let frame = try #require(try reader.next())
        #expect((frame.image.width, frame.image.height) == (24, 32))
        let plan = try avif.withUnsafeBufferPointer { buffer in
            try ConversionPlan(source: ImageSource(avif, buffer: buffer, format: .avif, options: DecodeOptions()),
                               options: ConvertOptions(resize: try ResizeGeometry(parsing: "50%")))
        }
        #expect((plan.upright, plan.target) == (PixelSize(width: 24, height: 32), PixelSize(width: 12, height: 16)))

        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("clap.avif").path
        try Data(avif).write(to: URL(fileURLWithPath: path))
        let cost = try CLI.run(["cost", "--ref", path, "--output", "1024x1024", "--json"])
        #expect(cost.status == 0, "\(cost.stderr)")
        let bill = try #require(try JSONSerialization.jsonObject(with: cost.stdoutData) as? [String: Any])
        let refs = try #require(bill["references"] as? [[String: Any]])
        #expect(refs.first?["width"] as? Int == 24 && refs.first?["height"] as? Int == 32, "\(bill)")
        let inspect = try CLI.run(["inspect", path])
        let inspectLine = String(decoding: inspect.stdoutData, as: UTF8.self)
        #expect(inspectLine.contains("avif 32x24 (upright 24x32, orientation 8)"), "\(inspectLine)")
    }

    /// A sequence's frames are cropped too.
    @Test func sequenceFramesAreCropped() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(try ImageEncoder.encode(Self.picture(), as: .png)).write(to: dir.appendingPathComponent("a.png"))
        try Data(try ImageEncoder.encode(Self.picture(alpha: true), as: .png)).write(to: dir.appendingPathComponent("b.png"))
        try AVIFTools.run("avifenc", ["-l", "--clap", "32,1,24,1,4,1,2,1", "a.png", "b.png", "seq.avif"], in: dir)
        let avif = [UInt8](try Data(contentsOf: dir.appendingPathComponent("seq.avif")))
        let reader = try AnimationReader(avif, options: DecodeOptions(convertToSRGB: false))
        #expect(reader.frameCount == 2 && (reader.width, reader.height) == (32, 24))
        let first = try #require(try reader.next())
        let expected = TestPixels.crop(Self.picture().converted(to: .rgba8), x: 20, y: 14, width: 32, height: 24)
        #expect(first.image == expected)
        let second = try #require(try reader.next())
        #expect(second.image == TestPixels.crop(Self.picture(alpha: true), x: 20, y: 14, width: 32, height: 24))
    }

    /// An aperture libavif and Darkroom find invalid is ignored with a warning, as browsers ignore
    /// it: the whole coded image, as avifdec gives it; `--fail-on warning` refuses it.
    @Test func invalidApertureIsIgnoredWithAWarning() throws {
        let valid = try AVIFTools.encode(Self.picture(), ["-l", "--clap", "32,1,24,1,4,1,2,1"])
        let avif = try Self.rewritingClap(valid, [31, 1, 24, 1, 0, 1, 0, 1])
        let message = "the clean aperture (clap: width 31/1, height 24/1, horizontal offset 0/1, vertical offset 0/1) is invalid "
            + "for the 64x48 coded image: its left edge (64 - 31)/2 + 0/1 is not a whole pixel; the whole coded image is used"
        let decoded = try ImageDecoder.decode(avif, options: DecodeOptions(convertToSRGB: false))
        #expect(decoded.image == (try AVIFTools.decode(avif)))
        #expect(decoded.metadata.warnings == [DecodeWarning(kind: .warning, message: message)])
        #expect(try ImageDecoder.readHeader(avif).width == 64)
        #expect(try ImageInspection.inspect(avif).damage == [DecodeWarning(kind: .warning, message: message)])
        #expect(throws: DarkroomError.decoding(.damaged(.avif, warning: DecodeWarning(kind: .warning, message: message), failOn: .warning))) {
            try ImageDecoder.decode(avif, options: DecodeOptions(failOn: .warning))
        }
        let converted = try Converter(options: ConvertOptions(format: .png)).convert(avif)
        #expect((converted.width, converted.height) == (64, 48))
        #expect(converted.warnings.map(\.message) == [message])
    }
}

/// libavif's diagnostic message (a fixed-size `char` array, imported as a tuple).
private func diagnosticText(_ diag: avifDiagnostics) -> String {
    var copy = diag
    return withUnsafeBytes(of: &copy.error) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}
