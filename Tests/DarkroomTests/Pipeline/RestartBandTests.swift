import Foundation
import CDarkroom
import Testing
@testable import Darkroom

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
                    bands.switches.allowsPlanes = false   // JPEG to JPEG: the RGB rows, not the planar route
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
