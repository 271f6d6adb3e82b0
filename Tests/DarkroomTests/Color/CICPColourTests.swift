import Foundation
import Testing
@testable import Darkroom

/// Colour declared by code points (an AVIF `nclx`, a PNG `cICP`) is converted to sRGB. The
/// expected pixels are computed here from the definitions — H.273's primaries and transfer
/// functions, the RGB → XYZ matrices from the chromaticities, SMPTE ST 2084 and BT.2100 — in
/// double precision, independently of lcms2; Darkroom's conversion (lcms2) must agree to within
/// 2 levels in 8 bits.
@Suite struct CICPColourTests {
    // MARK: The reference transform, from the definitions

    typealias XY = (x: Double, y: Double)
    static let d65: XY = (0.3127, 0.3290)
    static let srgbPrimaries: [XY] = [(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)]
    static let p3Primaries: [XY] = [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)]
    static let bt2020Primaries: [XY] = [(0.708, 0.292), (0.170, 0.797), (0.131, 0.046)]

    /// The RGB → XYZ matrix of `primaries` with a D65 white (rows X, Y, Z).
    static func rgbToXYZ(_ primaries: [XY]) -> [[Double]] {
        let columns = primaries.map { [$0.x / $0.y, 1, (1 - $0.x - $0.y) / $0.y] }
        let w = [d65.x / d65.y, 1, (1 - d65.x - d65.y) / d65.y]
        let m = (0..<3).map { r in (0..<3).map { c in columns[c][r] } }
        let s = solve(m, w)
        return (0..<3).map { r in (0..<3).map { c in m[r][c] * s[c] } }
    }

    static func inverse(_ m: [[Double]]) -> [[Double]] {
        let columns = (0..<3).map { c in solve(m, (0..<3).map { $0 == c ? 1 : 0 }) }
        return (0..<3).map { r in (0..<3).map { c in columns[c][r] } }
    }

    /// x with m · x = b (Gaussian elimination).
    static func solve(_ m: [[Double]], _ b: [Double]) -> [Double] {
        var a = (0..<3).map { m[$0] + [b[$0]] }
        for col in 0..<3 {
            let pivot = (col..<3).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            a.swapAt(col, pivot)
            for row in 0..<3 where row != col {
                let f = a[row][col] / a[col][col]
                for k in col..<4 { a[row][k] -= f * a[col][k] }
            }
        }
        return (0..<3).map { a[$0][3] / a[$0][$0] }
    }

    static func multiply(_ m: [[Double]], _ v: [Double]) -> [Double] {
        (0..<3).map { r in m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2] }
    }

    static func srgbDecode(_ v: Double) -> Double { v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4) }
    static func srgbEncode(_ l: Double) -> Double { l <= 0.0031308 ? 12.92 * l : 1.055 * pow(l, 1 / 2.4) - 0.055 }
    static func bt709Decode(_ v: Double) -> Double { v < 0.081 ? v / 4.5 : pow((v + 0.099) / 1.099, 1 / 0.45) }

    /// `linear` light in `primaries` as 0...1 sRGB samples (gamut clipped).
    static func toSRGB(_ linear: [Double], from primaries: [XY]) -> [Double] {
        let xyz = multiply(rgbToXYZ(primaries), linear)
        return multiply(inverse(rgbToXYZ(srgbPrimaries)), xyz).map { srgbEncode(min(max($0, 0), 1)) }
    }

    /// Every pixel of `image` (RGB or RGBA, 8 or 16 bits) through `transform` (0...1 samples in,
    /// 0...1 sRGB out), alpha kept.
    static func reference(_ image: Image, _ transform: ([Double]) -> [Double]) -> Image {
        var out = image
        let c = image.format.channels, deep = image.format.bitDepth == 16, scale = deep ? 65535.0 : 255.0
        let samples = deep ? image.pixels.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)).map(Double.init) }
            : image.pixels.map(Double.init)
        var result = samples
        for p in 0..<image.width * image.height {
            let rgb = transform((0..<3).map { samples[p * c + $0] / scale })
            for k in 0..<3 { result[p * c + k] = (rgb[k] * scale).rounded() }
        }
        if deep {
            out.pixels = result.map { UInt16($0) }.withUnsafeBytes { Array($0) }
        } else {
            out.pixels = result.map { UInt8($0) }
        }
        return out
    }

    /// The largest difference in 8-bit levels (16-bit samples are divided by 257).
    static func levels(_ a: Image, _ b: Image) -> Double {
        precondition(a.format == b.format && a.width == b.width && a.height == b.height)
        if a.format.bitDepth == 8 { return Double(TestPixels.maxDifference(a, b)) }
        let x = a.pixels.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        let y = b.pixels.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        return zip(x, y).map { abs(Double($0) - Double($1)) / 257 }.max() ?? 0
    }

    // MARK: Inputs

    /// Saturated and mid colours: the primaries and secondaries at full and half drive, greys, and
    /// a ramp of each channel; 16 × 12 pixels, 8 bits.
    static func swatches(alpha: Bool = false) -> Image {
        let colours: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
                                  [128, 0, 0], [0, 128, 0], [0, 0, 128], [255, 255, 255], [0, 0, 0], [128, 128, 128],
                                  [200, 60, 30], [30, 200, 60], [60, 30, 200], [250, 200, 180]]
        var image = Image(unchecked: 16, height: 12, format: alpha ? .rgba8 : .rgb8)
        let c = image.format.channels
        for y in 0..<12 {
            for x in 0..<16 {
                let base = colours[x]
                let o = (y * 16 + x) * c
                for k in 0..<3 { image.pixels[o + k] = UInt8(Int(base[k]) * (12 - y) / 12) }
                if y >= 8 { for k in 0..<3 { image.pixels[o + k] = UInt8((x * 16 + y * 7 + k * 40) % 256) } }
                if alpha { image.pixels[o + 3] = UInt8(255 - x * 8) }
            }
        }
        return image
    }

    /// A PNG of `image` with `chunks` (type, data) inserted right after IHDR, each with its CRC.
    static func png(_ image: Image, chunks: [(String, [UInt8])]) throws -> [UInt8] {
        let plain = try ImageEncoder.encode(image, as: .png)
        var out = Array(plain.prefix(33))   // signature and IHDR
        for (type, data) in chunks {
            let body = Array(type.utf8) + data
            out += bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
        }
        return out + plain.dropFirst(33)
    }

    static func cICP(_ p: UInt8, _ t: UInt8, _ m: UInt8 = 0, full: Bool = true) -> (String, [UInt8]) { ("cICP", [p, t, m, full ? 1 : 0]) }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// The CRC-32 of PNG chunks (ISO 3309, the polynomial 0xEDB88320 reflected).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    static let asStored = DecodeOptions(convertToSRGB: false)

    // MARK: AVIF nclx

    /// A Display P3 AVIF signalled only by nclx 12/13/6 (no ICC): converted as the definitions say.
    @Test(arguments: [false, true])
    func displayP3AVIF(alpha: Bool) throws {
        let avif = try AVIFTools.encode(Self.swatches(alpha: alpha), ["--cicp", "12/13/6", "-y", "444", "--min", "0", "--max", "0"])
        #expect(try AVIFTools.info(avif).contains("Color Primaries: 12"))
        let stored = try ImageDecoder.decode(avif, options: Self.asStored)
        #expect(stored.image == (try AVIFTools.decode(avif)).converted(to: stored.image.format), "the decode before colour is libavif's")
        #expect(stored.metadata.cicp == CICP(primaries: 12, transfer: 13, matrix: 6, fullRange: true))
        #expect(stored.metadata.iccProfile == nil)
        let converted = try ImageDecoder.decode(avif)
        #expect(converted.metadata.convertedToSRGB)
        let expected = Self.reference(stored.image) { Self.toSRGB($0.map(Self.srgbDecode), from: Self.p3Primaries) }
        #expect(Self.levels(converted.image, expected) <= 2)
        // P3's red is outside sRGB: it clips to sRGB's red.
        #expect(Array(converted.image.pixels.prefix(3)) == [255, 0, 0])
        let inspection = try ImageInspection.inspect(avif)
        #expect(inspection.colour == .cicp(CICP(primaries: 12, transfer: 13, matrix: 6, fullRange: true)))
    }

    /// Without an nclx box libavif takes the AV1 bitstream's colour description: so does Darkroom.
    @Test func bitstreamColourWithoutNclx() throws {
        var avif = try AVIFTools.encode(Self.swatches(), ["--cicp", "12/13/6", "-y", "444"])
        let colr = try #require(TestPixels.boxOffset("colr", in: avif))
        avif.replaceSubrange(colr + 4..<colr + 8, with: Array("xolr".utf8))   // an unknown property now
        let stored = try ImageDecoder.decode(avif, options: Self.asStored)
        #expect(stored.metadata.cicp?.primaries == 12)
        let converted = try ImageDecoder.decode(avif)
        let expected = Self.reference(stored.image) { Self.toSRGB($0.map(Self.srgbDecode), from: Self.p3Primaries) }
        #expect(Self.levels(converted.image, expected) <= 2)
        #expect(try ImageInspection.inspect(avif).cicp?.primaries == 12)
    }

    /// BT.2020 primaries with the BT.709 transfer (1), 10-bit: both the primaries and the curve.
    @Test func bt2020AVIF() throws {
        let avif = try AVIFTools.encode(Self.swatches(), ["--cicp", "9/1/9", "-d", "10", "-y", "444", "--min", "0", "--max", "0"])
        let stored = try ImageDecoder.decode(avif, options: Self.asStored)
        #expect(stored.image.format == .rgb16)
        let converted = try ImageDecoder.decode(avif)
        let expected = Self.reference(stored.image) { Self.toSRGB($0.map(Self.bt709Decode), from: Self.bt2020Primaries) }
        #expect(Self.levels(converted.image, expected) <= 2)
    }

    /// sRGB code points change nothing, nor do unspecified ones.
    @Test(arguments: ["1/13/6", "2/2/6", "1/2/6", "2/13/6"])
    func srgbCodePointsChangeNothing(cicp: String) throws {
        let avif = try AVIFTools.encode(Self.swatches(), ["--cicp", cicp])
        let stored = try ImageDecoder.decode(avif, options: Self.asStored)
        let converted = try ImageDecoder.decode(avif)
        #expect(converted.image == stored.image)
        #expect(!converted.metadata.convertedToSRGB)
    }

    /// A sequence's frames are converted too.
    @Test func displayP3Sequence() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(try ImageEncoder.encode(Self.swatches(), as: .png)).write(to: dir.appendingPathComponent("a.png"))
        try Data(try ImageEncoder.encode(Self.swatches(alpha: true), as: .png)).write(to: dir.appendingPathComponent("b.png"))
        try AVIFTools.run("avifenc", ["--cicp", "12/13/6", "-y", "444", "a.png", "b.png", "seq.avif"], in: dir)
        let avif = [UInt8](try Data(contentsOf: dir.appendingPathComponent("seq.avif")))
        let stored = try AnimationReader(avif, options: Self.asStored)
        let converted = try AnimationReader(avif)
        while let raw = try stored.next() {
            let frame = try #require(try converted.next())
            let expected = Self.reference(raw.image) { Self.toSRGB($0.map(Self.srgbDecode), from: Self.p3Primaries) }
            #expect(Self.levels(frame.image, expected) <= 2)
        }
    }

    // MARK: PNG cICP

    /// A PNG whose cICP declares Display P3 (8 and 16 bits, with alpha) or BT.2020 with BT.709's curve.
    @Test(arguments: [(PixelFormat.rgb8, UInt8(12), UInt8(13)), (.rgba8, 12, 13), (.rgb16, 12, 13), (.rgba16, 9, 1), (.rgb8, 9, 14)])
    func pngCICP(format: PixelFormat, primaries: UInt8, transfer: UInt8) throws {
        let source = Self.swatches(alpha: format.hasAlpha).converted(to: format)
        let png = try Self.png(source, chunks: [Self.cICP(primaries, transfer)])
        let stored = try ImageDecoder.decode(png, options: Self.asStored)
        #expect(stored.image == source)
        #expect(stored.metadata.cicp == CICP(primaries: Int(primaries), transfer: Int(transfer), matrix: 0, fullRange: true))
        let converted = try ImageDecoder.decode(png)
        let decode = transfer == 13 ? Self.srgbDecode : Self.bt709Decode
        let expected = Self.reference(source) { Self.toSRGB($0.map(decode), from: primaries == 12 ? Self.p3Primaries : Self.bt2020Primaries) }
        #expect(Self.levels(converted.image, expected) <= 2)
        #expect(converted.metadata.convertedToSRGB)
        // check, inspect and a conversion agree.
        #expect(try ImageDecoder.check(png).metadata.cicp?.primaries == Int(primaries))
        #expect(try ImageInspection.inspect(png).colour == .cicp(CICP(primaries: Int(primaries), transfer: Int(transfer), matrix: 0, fullRange: true)))
        let out = try Converter(options: ConvertOptions(format: .png)).convert(png)
        #expect(Self.levels(try ImageDecoder.decode(out.bytes).image, expected) <= 2)
    }

    /// Transfer 1 is BT.709's curve, not sRGB's: a grey of 128 is sRGB 140 (BT.709 primaries are
    /// sRGB's, so only the curve acts).
    @Test func bt709TransferIsNotSRGBs() throws {
        var grey = Image(unchecked: 1, height: 1, format: .rgb8)
        grey.pixels = [128, 128, 128]
        #expect(try ImageDecoder.decode(try Self.png(grey, chunks: [Self.cICP(1, 1)])).image.pixels == [140, 140, 140])
        #expect(try ImageDecoder.decode(try Self.png(grey, chunks: [Self.cICP(1, 13)])).image.pixels == [128, 128, 128])
        // Gray PNGs take the curve through a gray profile.
        var gray = Image(unchecked: 1, height: 1, format: .gray8)
        gray.pixels = [128]
        #expect(try ImageDecoder.decode(try Self.png(gray, chunks: [Self.cICP(1, 1)])).image.pixels == [140])
    }

    /// cICP takes precedence over iCCP, gAMA and sRGB (PNG third edition): a P3 cICP beside an
    /// sRGB profile converts as P3; beside a gAMA of 1.0 the gamma is not applied.
    @Test func cicpTakesPrecedence() throws {
        let source = Self.swatches()
        let profile = try #require(ColorManagement.sRGBProfile())
        let iccp = ("iCCP", Array("icc".utf8) + [0, 0] + (try deflate(profile)))
        let gamma = ("gAMA", Self.bigEndian(100_000))   // 1.0: linear
        let expectedP3 = Self.reference(source) { Self.toSRGB($0.map(Self.srgbDecode), from: Self.p3Primaries) }
        for chunks in [[Self.cICP(12, 13), iccp], [iccp, Self.cICP(12, 13)], [Self.cICP(12, 13), gamma]] {
            let png = try Self.png(source, chunks: chunks)
            let decoded = try ImageDecoder.decode(png)
            #expect(Self.levels(decoded.image, expectedP3) <= 2, "\(chunks.map(\.0))")
        }
        // sRGB cICP: nothing changes, though the gAMA would have.
        let plain = try Self.png(source, chunks: [Self.cICP(1, 13), gamma])
        #expect(try ImageDecoder.decode(plain).image == source)
        #expect(try ImageDecoder.decode(try Self.png(source, chunks: [gamma])).image != source, "gAMA alone is applied")
        // With iCCP, --keep icc writes sRGB's profile after the conversion.
        var options = ConvertOptions(format: .png)
        options.encode.keep = .icc
        let kept = try Converter(options: options).convert(try Self.png(source, chunks: [Self.cICP(12, 13), iccp]))
        #expect(kept.source.convertedToSRGB)
        #expect(try ImageDecoder.decode(kept.bytes, options: Self.asStored).metadata.iccProfile == ColorManagement.sRGBProfile())
    }

    /// A cICP with a bad CRC is dropped with a warning, as any ancillary chunk: the pixels stay as stored.
    @Test func cicpWithBadCRCIsDropped() throws {
        var png = try Self.png(Self.swatches(), chunks: [Self.cICP(12, 13)])
        png[33 + 8 + 4] ^= 0xFF   // the CRC's first byte
        let decoded = try ImageDecoder.decode(png)
        #expect(decoded.metadata.cicp == nil)
        #expect(decoded.image == Self.swatches())
        #expect(decoded.metadata.warnings.map(\.message).contains { $0.contains("cICP") }, "\(decoded.metadata.warnings)")
        let inspection = try ImageInspection.inspect(png)
        #expect(inspection.colour == .none)
        #expect(inspection.damage.map(\.message).contains { $0.contains("CRC mismatch in chunk 'cICP'") })
    }

    /// Streamed routes convert too: a cICP PNG resized to JPEG and to PNG, rows streamed, gives what
    /// the whole-image route gives.
    @Test(arguments: [ImageFormat.png, .jpeg])
    func streamedRoutesConvert(to format: ImageFormat) throws {
        let big = TestImages.gradient(width: 256, height: 192, alpha: false)
        let png = try Self.png(big, chunks: [Self.cICP(12, 13)])
        var options = ConvertOptions(format: format, resize: try ResizeGeometry(parsing: "50%"))
        options.encode.quality = 100
        let plan = try png.withUnsafeBufferPointer { buffer in
            try ConversionPlan(source: ImageSource(png, buffer: buffer, format: .png, options: DecodeOptions()), options: options)
        }
        guard case let .rows(rows) = plan.route else { Issue.record("route \(plan.route)"); return }
        #expect(!rows.encodeRows, "the rows change after the resize: not encoded as they come")
        var whole = Converter(options: options)
        whole.switches.allowsStreaming = false
        let streamed = try ImageDecoder.decode(try Converter(options: options).convert(png).bytes).image
        let reference = try ImageDecoder.decode(try whole.convert(png).bytes).image
        #expect(Self.levels(streamed, reference) <= (format == .jpeg ? 1 : 0))
        let unconverted = try ImageDecoder.decode(try Converter(options: options).convert(try ImageEncoder.encode(big, as: .png)).bytes).image
        #expect(Self.levels(streamed, unconverted) >= 10, "P3 → sRGB changes the colours")
    }

    // MARK: High dynamic range

    /// SMPTE ST 2084's EOTF (cd/m²).
    static func pq(_ e: Double) -> Double {
        let m1 = 0.1593017578125, m2 = 78.84375, c1 = 0.8359375, c2 = 18.8515625, c3 = 18.6875
        let p = pow(e, 1 / m2)
        return 10000 * pow(max(p - c1, 0) / (c2 - c3 * p), 1 / m1)
    }

    /// The PQ signal of `nits` (the inverse EOTF).
    static func pqSignal(_ nits: Double) -> Double {
        let m1 = 0.1593017578125, m2 = 78.84375, c1 = 0.8359375, c2 = 18.8515625, c3 = 18.6875
        let y = pow(nits / 10000, m1)
        return pow((c1 + c2 * y) / (1 + c3 * y), m2)
    }

    /// The documented operator: light / 203 cd/m², then on the largest channel the identity to 0.8
    /// and `0.8 + 0.2 (1 − e^(−(m − 0.8)/0.2))` above, every channel scaled alike.
    static func toneMapped(_ relative: [Double]) -> [Double] {
        let m = relative.max()!
        guard m > 0.8 else { return relative }
        let f = (0.8 + 0.2 * (1 - exp(-(m - 0.8) / 0.2))) / m
        return relative.map { $0 * f }
    }

    static func hlgScene(_ e: Double) -> Double {
        let a = 0.17883277, b = 0.28466892, c = 0.55991073
        return e <= 0.5 ? e * e / 3 : (exp((e - c) / a) + b) / 12
    }

    /// PQ grey levels land where the operator puts them (to within a level): 0 → 0, 100 cd/m² →
    /// 0.493 linear (sRGB 186), 203 cd/m² (reference white) → 0.926 (247), 1000 cd/m² → 1.0 (255);
    /// a 16-bit BT.2020 PNG.
    @Test func pqGreysFollowTheOperator() throws {
        let nits = [0.0, 1, 10, 50, 100, 203, 400, 1000, 10000]
        var image = Image(unchecked: nits.count, height: 1, format: .rgb16)
        image.pixels.withUnsafeMutableBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            for (i, n) in nits.enumerated() { for k in 0..<3 { s[i * 3 + k] = UInt16((Self.pqSignal(n) * 65535).rounded()) } }
        }
        let png = try Self.png(image, chunks: [Self.cICP(9, 16)])
        let out = try ImageDecoder.decode(png).image.converted(to: .rgb8)
        let greys = (0..<nits.count).map { Int(out.pixels[$0 * 3]) }
        let expected = [0, 15, 63, 136, 186, 247, 255, 255, 255]
        #expect(zip(greys, expected).allSatisfy { abs($0 - $1) <= 1 }, "\(greys)")
        for i in 0..<nits.count { #expect(out.pixels[i * 3] == out.pixels[i * 3 + 1] && out.pixels[i * 3] == out.pixels[i * 3 + 2]) }
    }

    /// A 10-bit PQ AVIF (BT.2020): the operator, then BT.2020 → sRGB, to within 2 levels; and the
    /// corpus's PQ PNG (cLLI/mDCV with bad CRCs) decodes.
    @Test func pqAVIF() throws {
        var source = Image(unchecked: 16, height: 12, format: .rgb16)
        source.pixels.withUnsafeMutableBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            for i in 0..<(16 * 12 * 3) { s[i] = UInt16((i * 7919) % 65536) }
        }
        let avif = try AVIFTools.encode(source, ["--cicp", "9/16/9", "-d", "10", "-y", "444", "--min", "0", "--max", "0"])
        let stored = try ImageDecoder.decode(avif, options: Self.asStored)
        let converted = try ImageDecoder.decode(avif)
        let expected = Self.reference(stored.image) { signal in
            Self.toSRGB(Self.toneMapped(signal.map { Self.pq($0) / 203 }), from: Self.bt2020Primaries)
        }
        #expect(Self.levels(converted.image, expected) <= 2)
    }

    /// HLG: the inverse OETF, BT.2100's OOTF for a 1000 cd/m² display (γ 1.2, luminance from
    /// BT.2020's weights), / 203 cd/m², the operator; HLG's reference white (75 % signal) is 203 cd/m².
    @Test func hlgFollowsBT2100() throws {
        var source = Image(unchecked: 16, height: 12, format: .rgb16)
        source.pixels.withUnsafeMutableBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            for i in 0..<(16 * 12 * 3) { s[i] = UInt16((i * 104_729) % 65536) }
            for k in 0..<3 { s[k] = UInt16((0.75 * 65535).rounded()) }   // reference white
        }
        let png = try Self.png(source, chunks: [Self.cICP(9, 18)])
        let converted = try ImageDecoder.decode(png)
        let expected = Self.reference(source) { signal in
            let e = signal.map(Self.hlgScene)
            let ys = 0.2627 * e[0] + 0.6780 * e[1] + 0.0593 * e[2]
            let display = e.map { 1000 * pow(ys, 0.2) * $0 / 203 }
            return Self.toSRGB(Self.toneMapped(display), from: Self.bt2020Primaries)
        }
        #expect(Self.levels(converted.image, expected) <= 2)
        // 75 % HLG is 203 cd/m²: the operator's 0.926 (sRGB 246.6).
        let white = converted.image.converted(to: .rgb8)
        #expect(white.pixels.prefix(3).allSatisfy { $0 == 246 || $0 == 247 }, "\(Array(white.pixels.prefix(3)))")
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func corpusHDRFilesDecode() throws {
        for path in ["color/png/cicp_pq.png", "conform/avif/libavif/colors_hdr_p3.avif", "conform/avif/libavif/cosmos1650_yuv444_10bpc_p3pq.avif"] {
            let bytes = try #require(Corpus.read(path))
            let decoded = try ImageDecoder.decode(bytes)
            #expect(decoded.metadata.convertedToSRGB, "\(path)")
            #expect(decoded.metadata.cicp?.transfer == 16, "\(path)")
        }
    }

    // MARK: Refused

    /// Code points Darkroom does not convert are refused before decoding, naming the value and what
    /// is accepted; with the conversion off they decode as stored; `inspect` reports them.
    @Test func unsupportedCodePointsAreRefused() throws {
        let source = Self.swatches()
        let cases: [((String, [UInt8]), String)] = [
            (Self.cICP(11, 13), "colour primaries 11 are not supported (accepted: \(CICPColour.acceptedPrimaries))"),
            (Self.cICP(12, 17), "transfer characteristics 17 are not supported (accepted: \(CICPColour.acceptedTransfers))"),
            (Self.cICP(12, 13, 1), "matrix coefficients 1 declare YCbCr samples; a PNG's cICP must declare 0 (RGB)"),
            (Self.cICP(12, 13, 0, full: false), "narrow-range (video-range) RGB is not supported; only full range is"),
        ]
        for (chunk, reason) in cases {
            let png = try Self.png(source, chunks: [chunk])
            let d = chunk.1
            let cicp = CICP(primaries: Int(d[0]), transfer: Int(d[1]), matrix: Int(d[2]), fullRange: d[3] == 1)
            let error = DarkroomError.decoding(.unsupportedColour(.png, cicp: cicp, reason: reason))
            #expect(throws: error) { try ImageDecoder.decode(png) }
            #expect(throws: error) { try ImageDecoder.check(png) }
            #expect(throws: error) { try AnimationReader(png) }
            #expect(throws: error) { try Converter(options: ConvertOptions(format: .jpeg)).convert(png) }
            #expect(try ImageDecoder.decode(png, options: Self.asStored).image == source)
            #expect(try ImageInspection.inspect(png).colour == .cicp(cicp))
        }
        let avif = try AVIFTools.encode(source, ["--cicp", "22/13/6"])
        let cicp = CICP(primaries: 22, transfer: 13, matrix: 6, fullRange: true)
        #expect(throws: DarkroomError.decoding(.unsupportedColour(.avif, cicp: cicp, reason: "colour primaries 22 are not supported (accepted: \(CICPColour.acceptedPrimaries))"))) {
            try ImageDecoder.decode(avif)
        }
        // The CLI's line names the file, the value and what is accepted.
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("dci.png").path
        try Data(try Self.png(source, chunks: [Self.cICP(11, 13)])).write(to: URL(fileURLWithPath: path))
        let run = try CLI.run(["convert", path, "-o", dir.appendingPathComponent("out.jpg").path])
        #expect(run.status != 0)
        #expect(run.stderr.contains("\(path): cannot convert the png's colour (CICP 11/13/0 full (DCI-P3, sRGB, RGB)) to sRGB: colour primaries 11 are not supported (accepted: 1 BT.709/sRGB"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.jpg").path))
    }

    /// A cICP video full range flag other than 0 or 1 is invalid (H.273): refused, not taken as
    /// full range; its description and `inspect` show the stored value.
    @Test func invalidRangeFlagIsRefused() throws {
        let source = Self.swatches()
        for flag: UInt8 in [2, 255] {
            let png = try Self.png(source, chunks: [("cICP", [12, 13, 0, flag])])
            let cicp = CICP(primaries: 12, transfer: 13, matrix: 0, videoFullRangeFlag: Int(flag))
            #expect(!cicp.fullRange)
            #expect(cicp.description == "12/13/0 range flag \(flag) (Display P3, sRGB, RGB)")
            let error = DarkroomError.decoding(.unsupportedColour(.png, cicp: cicp, reason:
                "video full range flag \(flag) is invalid (H.273: 0 narrow range, 1 full range)"))
            #expect(throws: error) { try ImageDecoder.decode(png) }
            #expect(throws: error) { try Converter(options: ConvertOptions(format: .jpeg)).convert(png) }
            #expect(try ImageInspection.inspect(png).colour == .cicp(cicp))
            #expect(try ImageDecoder.decode(png, options: Self.asStored).image == source)
        }
        #expect(CICP(primaries: 1, transfer: 13, matrix: 0, fullRange: true).videoFullRangeFlag == 1)
    }

    /// Matrix coefficients libavif's YUV → RGB conversion refuses get the typed colour error naming
    /// the value and what is accepted, not libavif's bare "Reformat failed" (the `nclx` box of an
    /// encoded file patched: libavif takes the matrix from it).
    @Test func unsupportedAVIFMatrixIsNamed() throws {
        let still = try ImageEncoder.encode(Self.swatches(), as: .avif, options: EncodeOptions(quality: 90, chroma: .yuv420))
        let colr = try #require(TestPixels.boxOffset("colr", in: still))
        #expect(Array(still[(colr + 8)..<(colr + 12)]) == Array("nclx".utf8))
        let accepted = "accepted: 0 identity with 4:4:4, 1 BT.709, 2 unspecified, 4–7 BT.601/SMPTE 240M, 8 YCgCo in full range, 9 BT.2020 NCL, 12 chromaticity-derived NCL"
        let cases: [(matrix: UInt8, full: Bool, reason: String)] = [
            (11, true, "matrix coefficients 11 are not supported by libavif's YUV to RGB conversion (\(accepted))"),
            (14, true, "matrix coefficients 14 are not supported by libavif's YUV to RGB conversion (\(accepted))"),
            (200, true, "matrix coefficients 200 are not supported by libavif's YUV to RGB conversion (\(accepted))"),
            (8, false, "matrix coefficients 8 (YCgCo) in limited range are not supported by libavif's YUV to RGB conversion (\(accepted))"),
            (0, true, "matrix coefficients 0 (identity, RGB) need 4:4:4 samples; this image is subsampled (\(accepted))"),
        ]
        for c in cases {
            var avif = still
            avif[colr + 16] = 0
            avif[colr + 17] = c.matrix
            avif[colr + 18] = c.full ? 0x80 : 0
            let cicp = CICP(primaries: 1, transfer: 13, matrix: Int(c.matrix), fullRange: c.full)
            let error = DarkroomError.decoding(.unsupportedColour(.avif, cicp: cicp, reason: c.reason))
            #expect(throws: error) { try ImageDecoder.decode(avif) }
            #expect(throws: error) { try ImageDecoder.decode(avif, options: Self.asStored) }
            #expect(throws: error) { try Converter(options: ConvertOptions(format: .png)).convert(avif) }
        }
        // 6 (BT.601, as written) and 9 decode.
        for matrix: UInt8 in [6, 9] {
            var avif = still
            avif[colr + 17] = matrix
            #expect(try ImageDecoder.decode(avif).image.width == Self.swatches().width)
        }
    }

    // MARK: Output

    /// Darkroom's AVIF output is labelled as avifenc labels an sRGB PNG: nclx 1/13/6, full range;
    /// a sequence too.
    @Test func avifOutputIsLabelledSRGB() throws {
        let still = try ImageEncoder.encode(Self.swatches(), as: .avif)
        let info = try AVIFTools.info(still)
        let avifenc = try AVIFTools.info(try AVIFTools.encode(Self.swatches(), ["-y", "420"]))
        for line in ["Range          : Full", "Color Primaries: 1", "Transfer Char. : 13", "Matrix Coeffs. : 6"] {
            #expect(info.contains(line), "\(info)")
            #expect(avifenc.contains(line), "avifenc: \(avifenc)")
        }
        let writer = try AnimationWriter(format: .avif, width: 16, height: 12, loopCount: 0, options: EncodeOptions(),
                                         lossless: false, embedding: .none)
        try writer.add(Self.swatches().converted(to: .rgba8), durationMs: 100)
        try writer.add(Self.swatches(alpha: true), durationMs: 100)
        let sequence = try AVIFTools.info(try writer.finish())
        for line in ["Range          : Full", "Color Primaries: 1", "Transfer Char. : 13", "Matrix Coeffs. : 6"] {
            #expect(sequence.contains(line), "\(sequence)")
        }
        // And read back as sRGB: no conversion.
        #expect(try ImageDecoder.decode(still).metadata.cicp == CICP(primaries: 1, transfer: 13, matrix: 6, fullRange: true))
        #expect(!(try ImageDecoder.decode(still).metadata.convertedToSRGB))
    }
}

/// zlib's deflate of `bytes` (through Darkroom's PNG encoder is not reachable): a stored block,
/// which any inflater reads.
func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
    // zlib header (no compression), then stored blocks of at most 65535 bytes, then Adler-32.
    var out: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
        let n = min(65535, bytes.count - offset)
        let final: UInt8 = offset + n == bytes.count ? 1 : 0
        out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
        out += bytes[offset..<offset + n]
        offset += n
    } while offset < bytes.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    return out + CICPColourTests.bigEndian(b << 16 | a)
}
