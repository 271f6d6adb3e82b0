import Foundation
import CDarkroom
import Testing
@testable import Darkroom

/// Issue #10: a resized JPEG is decoded row by row straight into the resampler (no full-size
/// source buffer). The streamed path must give exactly the whole-image path's bytes for every
/// orientation, colour type, geometry and shrink-on-load mode.
@Suite struct StreamingTests {
    static let testImageJPEGs = ["kodim23.jpg", "gray.jpg", "hopper.jpg", "hopper-orientation-6.jpg"]
    static let corpusJPEGs = (0...8).flatMap { ["orientation/recurser/Landscape_\($0).jpg", "orientation/recurser/Portrait_\($0).jpg"] }
        + ["orientation/misc/paris_exif_orientation_5.jpg", "color/jpeg/a98_sample.jpg"]
    static let geometries = ["37%", "100x100", "x50", "33x", "200x150!", "1x1", "640x480>"]

    static func compare(_ bytes: [UInt8], name: String) throws {
        for geometry in geometries {
            for fast in [false, true] {
                for format in [ImageFormat.png, .jpeg] {
                    let options = ConvertOptions(format: format, resize: try ResizeGeometry(parsing: geometry), fast: fast)
                    let streamed = try Converter(options: options).convert(bytes)
                    var whole = Converter(options: options)
                    whole.switches.allowsStreaming = false
                    let reference = try whole.convert(bytes)
                    #expect(streamed.bytes == reference.bytes, "\(name) \(geometry) fast=\(fast) \(format)")
                    #expect(streamed.width == reference.width && streamed.height == reference.height)
                    #expect(streamed.source == reference.source, "\(name): metadata differs")
                    #expect(streamed.resized == reference.resized)
                    // Two threads: a producer decodes ahead of the resampler; the same bytes.
                    var overlapped = options
                    overlapped.resampling.threads = 2
                    #expect(try Converter(options: overlapped).convert(bytes).bytes == reference.bytes,
                            "\(name) \(geometry) fast=\(fast) \(format), decode on its own thread")
                }
            }
        }
    }

    /// JPEG to JPEG, upright: the finished rows go through a 64-row ring into the encoder and no
    /// full-size output buffer exists; the file is the one the whole-image paths write.
    @Test(arguments: ["37%", "300x200!", "x10", "64x64!", "1x1"])
    func jpegToJPEGKeepsOnlyARingOfOutputRows(geometry: String) throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")
        // A PNG source streams the same way (its metadata is all before the pixels too).
        let png = try ImageEncoder.encode(try ImageDecoder.decode(jpeg).image, as: .png)
        let cut = Array(png.prefix(png.count * 6 / 10))   // truncated: with fail-on none the rest is black
        for (bytes, threads) in [(jpeg, 1), (jpeg, 2), (png, 1), (png, 2), (cut, 1), (cut, 2)] {
            var options = ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: geometry))
            options.resampling.threads = threads
            options.decode.failOn = .none
            let events = PipelineEvents.Counter()
            let ringed = try PipelineEvents.$counter.withValue(events) { try Converter(options: options).convert(bytes) }
            #expect(events["ring-output"] == 1, "\(geometry) threads \(threads)")
            var wholeOutput = Converter(options: options)
            wholeOutput.switches.allowsRingOutput = false
            var wholeImage = Converter(options: options)
            wholeImage.switches.allowsStreaming = false
            #expect(ringed.bytes == (try wholeOutput.convert(bytes)).bytes, "\(geometry)")
            #expect(ringed.bytes == (try wholeImage.convert(bytes)).bytes, "\(geometry)")
        }
    }

    @Test(arguments: testImageJPEGs)
    func streamedEqualsWholeImage(name: String) throws {
        try Self.compare(TestImages.bytes(name), name: name)
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"), arguments: corpusJPEGs)
    func streamedEqualsWholeImageOnTheOrientationSet(path: String) throws {
        let bytes = try #require(Corpus.read(path), "\(path) missing from the corpus")
        try Self.compare(bytes, name: path)
    }

    @Test func fastDecodesAtTheSmallestCoveringScaleAndKeepsTheExactSize() throws {
        // 768x512 -> 300x200: 2x the target (600x400) needs the full image; the target alone
        // allows 1/2 scale (384x256). Both give exactly 300x200.
        let jpeg = try TestImages.bytes("kodim23.jpg")
        let geometry = try ResizeGeometry(parsing: "300x200")
        let normal = try Converter(options: ConvertOptions(format: .png, resize: geometry)).convert(jpeg)
        let fast = try Converter(options: ConvertOptions(format: .png, resize: geometry, fast: true)).convert(jpeg)
        #expect(normal.width == 300 && normal.height == 200 && fast.width == 300 && fast.height == 200)
        #expect(normal.bytes != fast.bytes, "--fast really decoded at another scale")
        #expect(try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: geometry, fast: true)).decodeScale == .jpeg(denominator: 2))
        #expect(try TestPlan.plan(jpeg, ConvertOptions(format: .png, resize: geometry)).decodeScale == .full)
    }

    /// The first 55 % of `bytes`, resized: by default a truncation error naming `format`; with
    /// fail-on none the rows that were read, streamed (one or two threads) as the whole-image path
    /// gives them, with a truncated warning.
    static func checkTruncation(_ bytes: [UInt8], format expected: ImageFormat) throws {
        let cut = Array(bytes.prefix(bytes.count * 55 / 100))
        let geometry = try ResizeGeometry(parsing: "50%")
        let error = #expect(throws: DarkroomError.self) {
            try Converter(options: ConvertOptions(format: .png, resize: geometry)).convert(cut)
        }
        guard case let .decoding(.damaged(format, warning, _))? = error else {
            Issue.record("expected a damaged-input error, got \(String(describing: error))")
            return
        }
        #expect(format == expected && warning.kind == .truncated)
        for threads in [1, 2] {
            var options = ConvertOptions(format: .png, resize: geometry, decode: DecodeOptions(failOn: .none))
            options.resampling.threads = threads
            let lenient = try Converter(options: options).convert(cut)
            var reference = Converter(options: options)
            reference.switches.allowsStreaming = false
            #expect(lenient.bytes == (try reference.convert(cut)).bytes, "\(expected) threads \(threads)")
            #expect(lenient.warnings.map(\.kind) == [.truncated])
            options.decode.failOn = .truncated
            #expect(throws: DarkroomError.self) { try Converter(options: options).convert(cut) }
        }
    }

    @Test func aTruncatedStreamedJPEGFollowsFailOn() throws {
        try Self.checkTruncation(TestImages.bytes("kodim23.jpg"), format: .jpeg)
    }

    @Test func aCorruptStreamStopsItsProducerAndThrows() throws {
        // Garbage after a valid header: libjpeg fails mid-stream; the producer stops, the
        // conversion throws, and no thread is left waiting (the test would hang).
        var bytes = try TestImages.bytes("kodim23.jpg")
        let sos = try #require((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        for i in (sos + 200)..<min(bytes.count - 2, sos + 4000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 7919) | 0x01 }
        for threads in [1, 2] {
            var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%"))
            options.resampling.threads = threads
            options.decode.failOn = .none
            var whole = Converter(options: options)
            whole.switches.allowsStreaming = false
            let reference = Result { () throws(DarkroomError) in try whole.convert(bytes) }
            let streamed = Result { () throws(DarkroomError) in try Converter(options: options).convert(bytes) }
            switch (reference, streamed) {
            case let (.success(a), .success(b)): #expect(a.bytes == b.bytes, "threads \(threads)")
            case let (.failure(a), .failure(b)): #expect(a == b, "threads \(threads)")
            default: Issue.record("streamed and whole paths disagree (threads \(threads)): \(reference) vs \(streamed)")
            }
        }
    }
}

/// Issue #10: PNG rows stream into the resampler too (non-interlaced 8-bit: gray, gray+alpha,
/// RGB, RGBA, palettes and tRNS expanded); interlaced, 16-bit and eXIf-after-the-pixels files
/// are read whole. Either way, exactly the whole-image bytes.
@Suite struct PNGStreamingTests {
    static let testImagePNGs = ["rgba.png", "palette-trns.png", "rgb16.png", "gray16.png"]
    static var corpusPNGs: [String] {
        Corpus.rows.filter { $0.path.hasSuffix(".png") && $0.expected == "decode-ok" }.map(\.path)
    }

    /// kodim23 as an 8-bit PNG of `format`, with an eXIf chunk (orientation 6) before or after
    /// the image data when asked.
    static func kodimPNG(_ format: PixelFormat, exif: Bool = false, exifAfterImage: Bool = false) throws -> [UInt8] {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image.converted(to: format)
        let orientation6: [UInt8] = [0x4D, 0x4D, 0, 0x2A, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
        var png = try PNGCodec.encode(image, icc: nil, exif: exif ? orientation6 : nil)
        if exifAfterImage {
            // Move the eXIf chunk to just before IEND.
            let at = try #require(PNGChunks.find("eXIf", in: png))
            let chunk = Array(png[at.range])
            png.removeSubrange(at.range)
            let iend = try #require(PNGChunks.find("IEND", in: png))
            png.insert(contentsOf: chunk, at: iend.range.lowerBound)
        }
        return png
    }

    @Test(arguments: testImagePNGs)
    func streamedEqualsWholeImage(name: String) throws {
        try StreamingTests.compare(TestImages.bytes(name), name: name)
    }

    @Test(arguments: [PixelFormat.gray8, .grayAlpha8, .rgb8, .rgba8])
    func everyEightBitLayoutStreams(format: PixelFormat) throws {
        try StreamingTests.compare(Self.kodimPNG(format), name: "kodim23 \(format)")
        try StreamingTests.compare(Self.kodimPNG(format, exif: true), name: "kodim23 \(format) orientation 6")
    }

    @Test func anEXIfChunkAfterThePixelsIsIgnored() throws {
        // The PNG specification places eXIf before IDAT; browsers and libvips ignore a late one,
        // and so does Darkroom (it turned the image until issue #16): the output is the one of the
        // same file without the chunk, streamed like any other.
        let without = try Self.kodimPNG(.rgb8)
        let before = try Self.kodimPNG(.rgb8, exif: true)
        let after = try Self.kodimPNG(.rgb8, exif: true, exifAfterImage: true)
        #expect(before != after)
        for geometry in ["100x100", "37%", "200x150!"] {
            let options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: geometry))
            let a = try Converter(options: options).convert(without)
            let b = try Converter(options: options).convert(after)
            let turned = try Converter(options: options).convert(before)
            #expect(a.bytes == b.bytes && a.width == b.width && a.height == b.height, "\(geometry)")
            #expect(b.source.orientation == .up && b.source.exif == nil)
            #expect(turned.source.orientation == .right && turned.bytes != b.bytes)
        }
        try StreamingTests.compare(after, name: "eXIf after IDAT")
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func streamedEqualsWholeImageOnEveryCorpusPNG() throws {
        #expect(Self.corpusPNGs.count >= 180, "the corpus PNGs (PngSuite, libpng test PNGs)")
        for path in Self.corpusPNGs {
            let bytes = try #require(Corpus.read(path), "\(path) missing from the corpus")
            for geometry in ["37%", "7x5!"] {
                var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: geometry))
                options.decode.maxPixels = Corpus.maxPixels
                var whole = Converter(options: options)
                whole.switches.allowsStreaming = false
                let reference = try whole.convert(bytes)
                #expect(try Converter(options: options).convert(bytes).bytes == reference.bytes, "\(path) \(geometry)")
                options.resampling.threads = 2
                #expect(try Converter(options: options).convert(bytes).bytes == reference.bytes, "\(path) \(geometry) threads 2")
            }
        }
    }

    @Test func aTruncatedStreamedPNGFollowsFailOn() throws {
        try StreamingTests.checkTruncation(Self.kodimPNG(.rgb8), format: .png)
    }
}

/// Issue #10: the plan is computed once: every conversion parses its input's header once,
/// whatever the format, with or without a resize, through `convert` and reference prep.
@Suite struct PlanOnceTests {
    static func parses(_ body: () throws -> Void) rethrows -> HeaderParses.Counter {
        let counter = HeaderParses.Counter()
        try HeaderParses.$counter.withValue(counter) { try body() }
        return counter
    }

    @Test(arguments: [ImageFormat.jpeg, .png, .webp, .avif, .gif])
    func oneHeaderParsePerConversion(format: ImageFormat) throws {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image
        let bytes = try ImageEncoder.encode(image, as: format, options: EncodeOptions(quality: 90))
        #expect(Self.parses { _ = try? ImageDecoder.readHeader(bytes) }[format] == 1, "the counter counts")
        for geometry in [nil, "50%", "300x200", "10x10!"] {
            for fast in [false, true] {
                let options = ConvertOptions(format: .png, resize: try geometry.map(ResizeGeometry.init(parsing:)), fast: fast)
                let counter = try Self.parses { _ = try Converter(options: options).convert(bytes) }
                #expect(counter.total == 1, "\(format) \(geometry ?? "no resize") fast=\(fast): \(counter.total) header parses")
            }
        }
        if ReferencePrepOptions.acceptedFormats.contains(format) {
            for maxPixels in [100_000, 4_194_304] {
                let counter = try Self.parses {
                    _ = try ReferencePrep.prepare(bytes: bytes, name: "ref", options: ReferencePrepOptions(maxPixels: maxPixels))
                }
                #expect(counter.total == 1, "reference prep of \(format), cap \(maxPixels): \(counter.total) header parses")
            }
        }
    }
}

extension PlanOnceTests {
    /// A CMYK JPEG is read through the same row decoder and header parse as every other JPEG
    /// (before: four parses, through a second whole-image libjpeg path), and becomes sRGB.
    @Test func cmykJPEGParsesItsHeaderOnce() throws {
        let bytes = try TestImages.bytes("cmyk.jpg")
        for geometry in [nil, "50%"] {
            let options = ConvertOptions(format: .png, resize: try geometry.map(ResizeGeometry.init(parsing:)))
            var result: ConversionResult?
            let counter = try Self.parses { result = try Converter(options: options).convert(bytes) }
            #expect(counter.total == 1, "\(geometry ?? "no resize"): \(counter.total) header parses")
            #expect(result?.width == (geometry == nil ? 100 : 50))
        }
        let decoded = try ImageDecoder.decode(bytes)
        #expect(decoded.image.format == .rgb8)
        #expect(decoded.metadata.convertedToSRGB && decoded.metadata.iccApplied)
        #expect(decoded.metadata.storedBitDepth == 8)
    }
}

/// Finds PNG chunks by type (tests only).
enum PNGChunks {
    static func find(_ type: String, in png: [UInt8]) -> (range: Range<Int>, length: Int)? {
        var pos = 8
        while pos + 12 <= png.count {
            let length = Int(png[pos]) << 24 | Int(png[pos + 1]) << 16 | Int(png[pos + 2]) << 8 | Int(png[pos + 3])
            if String(decoding: png[(pos + 4)..<(pos + 8)], as: UTF8.self) == type { return (pos..<(pos + 12 + length), length) }
            pos += 12 + length
        }
        return nil
    }
}

/// Issue #10: the JPEG encoder fed rows in pieces (as the resampler finishes them) writes the
/// bytes of the whole-image encode.
@Suite struct JPEGRowEncoderTests {
    @Test(arguments: [PixelFormat.gray8, .rgb8])
    func rowsInPiecesGiveTheWholeImageBytes(format: PixelFormat) throws {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image.converted(to: format)
        for (progressive, chroma) in [(false, ChromaSubsampling.yuv420), (true, .yuv444)] {
            let whole = try JPEGCodec.encode(image, settings: JPEGSettings(quality: 80, progressive: progressive, chroma: chroma), icc: [1, 2, 3], exif: nil)
            let encoder = try JPEGRowEncoder(width: image.width, height: image.height, format: format, settings: JPEGSettings(quality: 80, progressive: progressive, chroma: chroma), icc: [1, 2, 3], exif: nil)
            image.pixels.withUnsafeBufferPointer { px in
                for end in stride(from: 7, to: image.height, by: 7) { encoder.write(from: px.baseAddress!, upTo: end) }
                encoder.write(from: px.baseAddress!, upTo: image.height)
            }
            #expect(try encoder.finish() == whole, "\(format) progressive=\(progressive)")
        }
        // Plain Huffman tables: other bytes (larger), the same pixels; streamed or not, the same file.
        var options = ConvertOptions(format: .jpeg, quality: 90, resize: try ResizeGeometry(parsing: "50%"))
        let optimized = try Converter(options: options).convert(TestImages.bytes("kodim23.jpg"))
        options.encode.optimizeCoding = false
        let plain = try Converter(options: options).convert(TestImages.bytes("kodim23.jpg"))
        var whole = Converter(options: options)
        whole.switches.allowsStreaming = false
        #expect(try whole.convert(TestImages.bytes("kodim23.jpg")).bytes == plain.bytes)
        #expect(plain.bytes != optimized.bytes && plain.bytes.count > optimized.bytes.count)
        #expect(try ImageDecoder.decode(plain.bytes).image == ImageDecoder.decode(optimized.bytes).image)
        // Rows handed over through a ring of 8 rows (the converter's ring output): the same file.
        let ringed = try JPEGRowEncoder(width: image.width, height: image.height, format: format, settings: JPEGSettings(quality: 80, progressive: false, chroma: .yuv420), icc: [1, 2, 3], exif: nil)
        let rowBytes = image.rowBytes
        var ring = [UInt8](repeating: 0, count: 8 * rowBytes)
        for y in 0..<image.height {
            ring.replaceSubrange((y % 8 * rowBytes)..<((y % 8 + 1) * rowBytes), with: image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            if y % 5 == 4 || y == image.height - 1 { ring.withUnsafeBufferPointer { ringed.write(from: $0.baseAddress!, ringRows: 8, upTo: y + 1) } }
        }
        #expect(try ringed.finish() == JPEGCodec.encode(image, settings: JPEGSettings(quality: 80, progressive: false, chroma: .yuv420), icc: [1, 2, 3], exif: nil))
        let short = try JPEGRowEncoder(width: 8, height: 8, format: format, settings: JPEGSettings(quality: 80),
                                       icc: nil, exif: nil)
        #expect(throws: DarkroomError.self) { try short.finish() }   // no rows written: an error, not a file
    }
}

/// Issue #10: a JPEG with restart markers is decoded on two threads (two bands, the second from a
/// restart marker); the bytes are those of the one-band path for every layout, scale and geometry.
@Suite struct RestartBandTests {
    /// kodim23 re-encoded with a restart marker every `rows` MCU rows.
    static func restartJPEG(_ format: PixelFormat = .rgb8, chroma: ChromaSubsampling = .yuv420, rows: Int) throws -> [UInt8] {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image.converted(to: format)
        let encoder = try JPEGRowEncoder(width: image.width, height: image.height, format: format, settings: JPEGSettings(quality: 90, progressive: false, chroma: chroma), icc: nil, exif: nil, restartRows: rows)
        image.pixels.withUnsafeBufferPointer { encoder.write(from: $0.baseAddress!, upTo: image.height) }
        return try encoder.finish()
    }

    static func compare(_ bytes: [UInt8], name: String, geometries: [String] = ["37%", "100x100", "x50", "200x150!", "640x480>", "300x500!"],
                        expectBands: Bool = true) throws {
        for geometry in geometries {
            for fast in [false, true] {
                for format in [ImageFormat.png, .jpeg] {
                    var options = ConvertOptions(format: format, resize: try ResizeGeometry(parsing: geometry), fast: fast)
                    options.resampling.threads = 2
                    var bands = Converter(options: options)
                    bands.switches.restartBandsMinimumPixels = 0
                    var reference = bands
                    reference.switches.allowsRestartBands = false
                    let events = PipelineEvents.Counter()
                    let split = try PipelineEvents.$counter.withValue(events) { try bands.convert(bytes) }
                    let one = try reference.convert(bytes)
                    #expect(split.bytes == one.bytes, "\(name) \(geometry) fast=\(fast) \(format)")
                    #expect(split.source == one.source)
                    if expectBands && geometry != "640x480>" && geometry != "x50" {   // (no resize; an output under 64 rows)
                        #expect(events["restart-bands"] == 1, "\(name) \(geometry) fast=\(fast): the two-band path ran")
                    }
                }
            }
        }
    }

    @Test(arguments: [1, 2, 3])
    func twoBandsEqualOneBand(rows: Int) throws {
        try Self.compare(Self.restartJPEG(rows: rows), name: "rgb 4:2:0 restart \(rows)")
        try Self.compare(Self.restartJPEG(chroma: .yuv444, rows: rows), name: "rgb 4:4:4 restart \(rows)")
        try Self.compare(Self.restartJPEG(.gray8, rows: rows), name: "gray restart \(rows)")
    }

    @Test func aFileWithoutRestartMarkersStaysInOneBand() throws {
        var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%"))
        options.resampling.threads = 2
        var converter = Converter(options: options)
        converter.switches.restartBandsMinimumPixels = 0
        let events = PipelineEvents.Counter()
        _ = try PipelineEvents.$counter.withValue(events) { try converter.convert(TestImages.bytes("kodim23.jpg")) }
        #expect(events["restart-bands"] == 0)
    }

    @Test func damageFoundInABandIsReportedAsInOneBand() throws {
        let whole = try Self.restartJPEG(rows: 1)
        // Cut files, a file without its EOI, and restart markers out of sequence after the split.
        var damaged = [whole.count * 40 / 100, whole.count * 80 / 100, whole.count - 2].map { Array(whole.prefix($0)) }
        let markers = (0..<whole.count - 1).filter { whole[$0] == 0xFF && (0xD0...0xD7).contains(whole[$0 + 1]) }
        for at in [markers[markers.count * 3 / 4], markers[markers.count / 2 + 2]] {
            var m = whole
            m[at + 1] = 0xD0 + ((m[at + 1] - 0xD0 + 3) & 7)
            damaged.append(m)
        }
        for (cut, bytes) in damaged.enumerated() {
            for failOn in [FailOn.none, .truncated] {
                var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "50%"), decode: DecodeOptions(failOn: failOn))
                options.resampling.threads = 2
                var bands = Converter(options: options)
                bands.switches.restartBandsMinimumPixels = 0
                var reference = bands
                reference.switches.allowsRestartBands = false
                let a = Result { () throws(DarkroomError) in try bands.convert(bytes) }
                let b = Result { () throws(DarkroomError) in try reference.convert(bytes) }
                switch (a, b) {
                case let (.success(x), .success(y)): #expect(x.bytes == y.bytes && x.warnings == y.warnings, "cut \(cut) \(failOn)")
                case let (.failure(x), .failure(y)): #expect(x == y, "cut \(cut) \(failOn)")
                default: Issue.record("two bands and one band disagree (cut \(cut), \(failOn)): \(a) vs \(b)")
                }
            }
        }
    }

    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"),
          arguments: ["color/jpeg/adobe-rgb-1998_xmp_test.jpg", "conform/jpeg/libavif/seine_sdr_gainmap_srgb.jpg",
                      "color/jpeg/display-p3_apple_gainmap_new.jpg", "conform/jpeg/pillow/jpeg_ff00_header.jpg"])
    func cameraFilesWithRestartMarkers(path: String) throws {
        let bytes = try #require(Corpus.read(path), "\(path) missing from the corpus")
        try Self.compare(bytes, name: path, geometries: ["37%", "150x100!"])   // each has a marker every MCU row
    }

    @Test func theTailCutterSurvivesHostileBytes() throws {
        // Truncated and mutated files, and every parameter out of range: -1 or a file that starts
        // with SOI and ends with EOI, never a read outside the bytes (the fuzz smoke runs ASan on
        // the decoders; this is the cutter's own walk).
        let good = try Self.restartJPEG(rows: 1)
        var generator = SystemRandomNumberGenerator()
        var inputs: [[UInt8]] = (0..<40).map { Array(good.prefix(max(0, good.count * $0 / 40))) }
        for _ in 0..<200 {
            var m = good
            for _ in 0..<8 { m[Int.random(in: 0..<m.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            inputs.append(m)
        }
        let parameters: [(Int32, Int32, Int32, Int32)] = [(4, 48, 48, 16), (1, 48, 48, 16), (0, 48, 48, 16), (-3, 48, 48, 16),
                                                          (4, 48, 0, 16), (4, 0, 48, 16), (4, 48, 48, 0), (31, 48, 48, 16),
                                                          (32, 48, 48, 16), (Int32.max, 48, 48, 16), (4, Int32.max, 1, 16)]
        for bytes in inputs {
            for (row, perRow, interval, height) in parameters {
                var out: UnsafeMutablePointer<UInt8>?
                var size = 0
                let rc = bytes.withUnsafeBufferPointer {
                    darkroom_jpeg_restart_tail($0.baseAddress, $0.count, row, perRow, interval, height, &out, &size)
                }
                if rc == 0, let out {
                    let tail = Array(UnsafeBufferPointer(start: out, count: size))
                    #expect(tail.prefix(2) == [0xFF, 0xD8] && tail.suffix(2) == [0xFF, 0xD9])
                    free(out)
                } else {
                    #expect(rc == -1 && out == nil)
                }
            }
        }
    }

    @Test func theTailStartsAtTheRightMarker() throws {
        // A tail cut at MCU row 4 of a file with a marker every MCU row decodes to the rows of the
        // whole file from row 4 x 16 on (checked away from the seam's first MCU row).
        let bytes = try Self.restartJPEG(rows: 1)
        let whole = try ImageDecoder.decode(bytes, options: DecodeOptions(applyOrientation: false, convertToSRGB: false)).image
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        let rc = bytes.withUnsafeBufferPointer {
            darkroom_jpeg_restart_tail($0.baseAddress, $0.count, 4, Int32((768 + 15) / 16), Int32((768 + 15) / 16), 16, &out, &size)
        }
        #expect(rc == 0)
        let tail = Array(UnsafeBufferPointer(start: try #require(out), count: size))
        free(out)
        let part = try ImageDecoder.decode(tail, options: DecodeOptions(applyOrientation: false, convertToSRGB: false)).image
        #expect(part.width == 768 && part.height == 512 - 64)
        let rowBytes = 768 * 3
        #expect(Array(part.pixels[(16 * rowBytes)...]) == Array(whole.pixels[(80 * rowBytes)...]))
        #expect(bytes.withUnsafeBufferPointer {
            darkroom_jpeg_restart_tail($0.baseAddress, $0.count, 4, 48, 5, 16, &out, &size)
        } == -1, "an MCU row that does not start a restart interval")
    }
}

/// Plans a conversion the way ``Converter`` does, for tests that check a decision of the plan.
enum TestPlan {
    static func plan(_ bytes: [UInt8], _ options: ConvertOptions) throws -> ConversionPlan {
        try bytes.withUnsafeBufferPointer { buffer in
            let source = try ImageSource(bytes, buffer: buffer, format: ImageFormat.sniff(bytes)!, options: options.decode)
            return try ConversionPlan(source: source, options: options)
        }
    }
}
