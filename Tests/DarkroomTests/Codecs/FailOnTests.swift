import Foundation
import Testing
@testable import Darkroom

/// `--fail-on` / ``DecodeOptions/failOn``: truncated or corrupt input is never silent.
@Suite struct FailOnTests {
    static func cut(_ bytes: [UInt8], to fraction: Double) -> [UInt8] {
        Array(bytes.prefix(Int(Double(bytes.count) * fraction)))
    }

    /// A noisy picture, so that compressed data spreads over the whole file.
    static func noise(width: Int, height: Int, format: PixelFormat = .rgb8) -> Image {
        var image = Image(unchecked: width, height: height, format: format)
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

    /// Bytes after an AVIF's last box that form no whole box are a warning — libavif never reads
    /// them — and inspect, check and decode say the same; a cut `mdat` is named in the error.
    @Test func junkAfterAnAVIFsBoxesIsAWarningEverywhere() throws {
        let avif = try ImageEncoder.encode(Self.noise(width: 32, height: 16, format: .rgb8), as: .avif)
        let junk = avif + [0x12, 0x34, 0x56, 0x78] + Array("????".utf8) + [UInt8](repeating: 7, count: 20)
        let warning = DecodeWarning(kind: .warning, message: "box '????' at offset \(avif.count) needs 305419896 bytes; the file ends 28 bytes after its start: ignored")
        #expect(try ImageInspection.inspect(junk).damage == [warning])
        #expect(try ImageDecoder.decode(junk).metadata.warnings == [warning])
        #expect(try ImageDecoder.check(junk).metadata.warnings == [warning])
        #expect(throws: DarkroomError.decoding(.damaged(.avif, warning: warning, failOn: .warning))) {
            try ImageDecoder.decode(junk, options: DecodeOptions(failOn: .warning))
        }
        let short = avif + [0, 0, 0]
        #expect(try ImageInspection.inspect(short).damage
                == [DecodeWarning(kind: .warning, message: "3 bytes at offset \(avif.count) after the last box form no box header: ignored")])
        #expect(try ImageInspection.inspect(avif).damage.isEmpty && ImageDecoder.decode(avif).metadata.warnings.isEmpty)
        // The image data cut short: libavif cannot parse it; the error names the box.
        let cut = Array(avif.dropLast(10))
        let error = #expect(throws: DarkroomError.self) { try ImageDecoder.decode(cut) }
        #expect(error?.description.contains("(truncated: box 'mdat' at offset ") == true, "\(String(describing: error)) \(cut.count)")
    }

    @Test func failOnParsesItsThreeNames() throws {
        #expect(try FailOn(parsing: "NONE") == .none)
        #expect(try FailOn(parsing: " warning ") == .warning)
        #expect(throws: DarkroomError.option(OptionError(name: "fail_on", value: "error", expected: "none, truncated or warning"))) {
            try FailOn(parsing: "error", name: "fail_on")
        }
    }
}
