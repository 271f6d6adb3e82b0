import Foundation
import Testing
@testable import Darkroom

// The JPEG scan limit (DecodeOptions.maxJPEGScans, CLI --max-jpeg-scans): a progressive file whose
// last scan is repeated many times — the shape of the "thousands of scans" time bombs — is stopped
// while its scans are read, with a typed error naming the limit.
@Suite struct JPEGScanLimitTests {
    /// The byte ranges of a JPEG's scans: each SOS segment (with the DHT segments just before it)
    /// and its entropy-coded data, up to the next marker that is not RSTn; and the end (EOI).
    static func scans(_ jpeg: [UInt8]) throws -> (scans: [Range<Int>], end: Int) {
        var i = 2, scans: [Range<Int>] = [], unitStart: Int?
        while i + 2 <= jpeg.count {
            try #require(jpeg[i] == 0xFF, "marker expected at \(i)")
            let marker = jpeg[i + 1]
            if marker == 0xD9 { return (scans, i) }
            try #require(i + 4 <= jpeg.count)
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            if marker == 0xC4 && unitStart == nil { unitStart = i }
            if marker != 0xDA {
                if marker != 0xC4 { unitStart = nil }
                i += 2 + length
                continue
            }
            let start = unitStart ?? i
            unitStart = nil
            var j = i + 2 + length
            while j + 1 < jpeg.count && !(jpeg[j] == 0xFF && jpeg[j + 1] != 0 && !(0xD0...0xD7).contains(jpeg[j + 1])) { j += 1 }
            scans.append(start..<j)
            i = j
        }
        throw DarkroomError.decoding(.codec(.jpeg, message: "no EOI"))
    }

    /// A progressive 64x48 JPEG with its last scan repeated so the file has `total` scans.
    static func manyScans(_ total: Int) throws -> (bytes: [UInt8], ownScans: Int) {
        let image = TestImages.gradient(width: 64, height: 48, alpha: false)
        let jpeg = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(progressive: true))
        let (found, end) = try scans(jpeg)
        let last = try #require(found.last)
        var out = Array(jpeg[..<end])
        for _ in found.count..<total { out += jpeg[last] }
        out += [0xFF, 0xD9]
        return (out, found.count)
    }

    @Test func aFileOverTheLimitIsStoppedWithTheLimitInTheError() throws {
        let (bytes, own) = try Self.manyScans(40)
        #expect(own >= 6 && own < 20, "jpeg_simple_progression writes about 10 scans: \(own)")
        #expect(try Self.scans(bytes).scans.count == 40)
        var options = DecodeOptions()
        options.maxJPEGScans = 20
        #expect(throws: DarkroomError.decoding(.tooManyScans(limit: 20))) { try ImageDecoder.decode(bytes, options: options) }
        #expect(throws: DarkroomError.decoding(.tooManyScans(limit: 20))) { try ImageDecoder.check(bytes, options: options) }
        var convert = ConvertOptions(format: .png)
        convert.decode.maxJPEGScans = 20
        #expect(throws: DarkroomError.decoding(.tooManyScans(limit: 20))) { try Converter(options: convert).convert(bytes) }
        // Exactly at the limit the scans are all read: what libjpeg then says of the repeated
        // refinement scans ("premature end of data segment") is damage under --fail-on, not the limit.
        options.maxJPEGScans = 40
        options.failOn = .none
        let decoded = try ImageDecoder.decode(bytes, options: options)
        #expect(decoded.image.width == 64 && decoded.metadata.warnings.contains { $0.kind == .truncated })
        // The default (500) lets an ordinary progressive file through.
        #expect(try ImageDecoder.decode(Self.manyScans(own).bytes).image.height == 48)
        // The gateway stage and reference preparation carry the limit too.
        var stage = GatewayConversion()
        stage.maxJPEGScans = 20
        #expect(stage.convertOptions.decode.maxJPEGScans == 20)
        #expect(throws: DarkroomError.decoding(.tooManyScans(limit: 20))) { try stage.convert(bytes) }
        var prep = ReferencePrepOptions()
        prep.maxJPEGScans = 20
        #expect(throws: DarkroomError.decoding(.tooManyScans(limit: 20))) { try ReferencePrep.prepare(bytes: bytes, name: "scans.jpg", options: prep) }
        prep.maxJPEGScans = 0
        #expect(throws: DarkroomError.option(OptionError(name: "max-jpeg-scans", value: "0", expected: "an integer from 1 to 65535"))) {
            try prep.validate()
        }
    }

    @Test func theDefaultStopsThousandsOfScans() throws {
        let (bytes, _) = try Self.manyScans(2_000)
        let error = DarkroomError.decoding(.tooManyScans(limit: 500))
        #expect(throws: error) { try ImageDecoder.decode(bytes) }
        #expect(error.message(for: .commandLine)
                == "JPEG has more than 500 scans (a progressive file has about 10; raise it with --max-jpeg-scans)")
        #expect(error.message(for: .http)
                == "JPEG has more than 500 scans (a progressive file has about 10; the server's limit, set by darkroom-server --max-jpeg-scans)")
        #expect(DarkroomError.decoding(.tooManyScans(limit: 1)).message(for: .commandLine)
                == "JPEG has more than 1 scan (a progressive file has about 10; raise it with --max-jpeg-scans)")
    }

    @Test func theLimitIsBounded() {
        #expect(DecodeOptions.defaultMaxJPEGScans == 500)
        for bad in [0, -1, Limits.maxJPEGScanLimit + 1] {
            var options = DecodeOptions()
            options.maxJPEGScans = bad
            #expect(throws: DarkroomError.self) { try options.validate() }
        }
    }

    @Test(.enabled(if: CLI.binaryExists, "darkroom binary not built")) func cliRefusesWithTheFlagsName() throws {
        let dir = try TestSupport.tempDir()
        let input = dir.appendingPathComponent("scans.jpg")
        try Data(Self.manyScans(40).bytes).write(to: input)
        let refused = try CLI.run(["convert", input.path, "-f", "png", "--max-jpeg-scans", "20", "-o", dir.appendingPathComponent("out.png").path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("JPEG has more than 20 scans"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.png").path))
        let bad = try CLI.run(["convert", input.path, "-f", "png", "--max-jpeg-scans", "0"])
        #expect(bad.status == 2 && bad.stderr.contains("max-jpeg-scans"), "\(bad.stderr)")
        let ok = try CLI.run(["convert", input.path, "-f", "png", "--fail-on", "none", "-o", dir.appendingPathComponent("ok.png").path])
        #expect(ok.status == 0, "\(ok.stderr)")
        // prep-refs takes the same flag.
        let refs = dir.appendingPathComponent("refs").path
        let prepRefused = try CLI.run(["prep-refs", input.path, "--out-dir", refs, "--max-jpeg-scans", "20"])
        #expect(prepRefused.status == 1 && prepRefused.stderr.contains("JPEG has more than 20 scans"), "\(prepRefused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: refs + "/scans.ref.jpg"))
        let prepBad = try CLI.run(["prep-refs", input.path, "--out-dir", refs, "--max-jpeg-scans", "65536"])
        #expect(prepBad.status == 2 && prepBad.stderr.contains("max-jpeg-scans"), "\(prepBad.stderr)")
    }
}

// `chroma: .auto` (the default): AVIF at quality 90 or more keeps full-resolution chroma, as
// libvips' subsample_mode auto does; thin coloured lines then survive quality 100.
@Suite struct ChromaAutoTests {
    /// 1-pixel columns alternating red and blue: 4:2:0 averages each pair into purple.
    static func stripes() -> Image {
        var image = Image(unchecked: 64, height: 32, format: .rgb8)
        for y in 0..<32 {
            for x in 0..<64 {
                let o = (y * 64 + x) * 3
                image.pixels[o] = x % 2 == 0 ? 230 : 20
                image.pixels[o + 2] = x % 2 == 0 ? 20 : 230
            }
        }
        return image
    }

    static func largestError(_ a: Image, _ b: Image) -> Int {
        var worst = 0
        for i in a.pixels.indices { worst = max(worst, abs(Int(a.pixels[i]) - Int(b.pixels[i]))) }
        return worst
    }

    @Test func autoIsFullChromaForAVIFFromQuality90() throws {
        #expect(ChromaSubsampling.auto.resolved(for: .avif, quality: 89) == .yuv420)
        #expect(ChromaSubsampling.auto.resolved(for: .avif, quality: 90) == .yuv444)
        #expect(ChromaSubsampling.auto.resolved(for: .jpeg, quality: 100) == .yuv420)
        #expect(ChromaSubsampling.yuv420.resolved(for: .avif, quality: 100) == .yuv420)
        let image = Self.stripes()
        func roundTrip(_ options: EncodeOptions) throws -> Int {
            let back = try ImageDecoder.decode(try ImageEncoder.encode(image, as: .avif, options: options)).image
            return Self.largestError(image, back.converted(to: .rgb8))
        }
        let auto = try roundTrip(EncodeOptions(quality: 100))
        let subsampled = try roundTrip(EncodeOptions(quality: 100, chroma: .yuv420))
        #expect(subsampled > 100, "4:2:0 at quality 100: \(subsampled) levels")
        #expect(auto <= 12, "auto at quality 100: \(auto) levels")
    }
}

// A profile libpng will not write (its list of known-incorrect sRGB profiles, a PCS illuminant
// other than D50) is left out of a PNG with a metadata warning; the conversion succeeds.
@Suite(.enabled(if: TestSupport.hasCorpus, "needs ../shared/corpus")) struct PNGRefusedProfileTests {
    @Test(arguments: [("color/png/icc_profile.png", "known incorrect sRGB profile"),
                      ("color/jpeg/paris_exif_xmp_modified_icc.jpg", "PCS illuminant is not D50"),
                      ("conform/jpeg/libavif/seine_sdr_gainmap_srgb.jpg", "known incorrect sRGB profile")])
    func refusedProfileIsDroppedWithAWarning(_ path: String, _ words: String) throws {
        let bytes = try #require(Corpus.read(path))
        var options = ConvertOptions(format: .png)
        options.encode.keep = .all
        options.decode.failOn = .none
        let result = try Converter(options: options).convert(bytes)
        let warning = try #require(result.metadataWarnings.first { $0.block == .icc })
        #expect(warning.reason == .invalid && warning.message.contains(words), "\(warning.message)")
        #expect(try ImageDecoder.decode(result.bytes).metadata.iccProfile == nil)
        // JPEG output keeps the same profile (libjpeg has no such checks).
        options.format = .jpeg
        let jpeg = try Converter(options: options).convert(bytes)
        #expect(!jpeg.metadataWarnings.contains { $0.block == .icc })
        #expect(try ImageDecoder.decode(jpeg.bytes).metadata.iccProfile != nil)
    }
}
