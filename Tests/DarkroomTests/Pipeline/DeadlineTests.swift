import CDarkroom
import Foundation
import Testing
@testable import Darkroom

/// ``ConvertOptions/deadline``: a deadline that has passed stops every encoder and decoder through
/// its own check (libjpeg's progress monitor, libpng's row callback, libwebp's progress hook, the
/// GIF quantiser and decoder) with ``DarkroomError/timeLimit(_:)`` and no output; no deadline, or
/// one far ahead, changes no byte.
@Suite struct DeadlineTests {
    static let passed = Deadline(after: .zero)
    static let farAhead = Deadline(after: .seconds(3600))

    /// A 256 × 192 gradient: big enough for every codec to call its callback more than once.
    static let image = TestImages.gradient(width: 256, height: 192, alpha: false)

    static func timeLimit(_ stage: TimeLimitError.Stage, _ format: ImageFormat?) -> DarkroomError {
        .timeLimit(TimeLimitError(stage: stage, format: format))
    }

    // MARK: The value

    @Test func aDeadlineIsAnInstantOnTheMonotonicClock() {
        #expect(Deadline(after: .zero).hasPassed)
        #expect(Deadline(after: .seconds(-5)).hasPassed)
        #expect(!Deadline(after: .seconds(60)).hasPassed)
        #expect(Deadline(after: .seconds(1)) < Deadline(after: .seconds(2)))
        let now = Deadline.now.nanoseconds
        let inFive = Deadline(ContinuousClock.now + .seconds(5)).nanoseconds
        #expect(inFive > now + 4_500_000_000 && inFive < now + 5_500_000_000)
        #expect(Deadline(nanoseconds: 1).hasPassed)
        // The C shims read the same clock.
        let c = darkroom_monotonic_ns(), swift = Deadline.now.nanoseconds
        #expect(swift >= c && swift - c < 1_000_000_000)
        #expect(darkroom_deadline_passed(0) == 0)
        #expect(darkroom_deadline_passed(1) == 1)
    }

    @Test func theErrorSaysWhereTheConversionWasStopped() {
        let error = Self.timeLimit(.encoding, .webp)
        #expect(error.description
                == "the conversion ran past its time limit and was stopped while encoding webp (ConvertOptions.deadline)")
        #expect(error.message(for: .http)
                == "the conversion ran past its time limit and was stopped while encoding webp"
                + " (the server's limit, set by darkroom-server --request-timeout)")
        #expect(Self.timeLimit(.resizing, nil).message(for: .commandLine)
                == "the conversion ran past its time limit and was stopped while resizing (the deadline it was given)")
    }

    // MARK: Each encoder, through its own callback

    enum Encoder: String, CaseIterable, CustomTestStringConvertible {
        case png, jpegBaseline, jpegProgressive, jpegOptimised, webpLossy, webpLossless, gif
        var testDescription: String { rawValue }
        var format: ImageFormat {
            switch self {
            case .png: .png
            case .jpegBaseline, .jpegProgressive, .jpegOptimised: .jpeg
            case .webpLossy, .webpLossless: .webp
            case .gif: .gif
            }
        }
        var options: EncodeOptions {
            switch self {
            case .jpegProgressive: EncodeOptions(progressive: true)
            case .jpegOptimised: EncodeOptions(optimizeCoding: true)
            case .webpLossless: EncodeOptions(lossless: true)
            default: EncodeOptions()
            }
        }

        /// The codec's own entry point, without the converter's check before it: the deadline is
        /// seen only by the codec's callback (or the quantiser's loop).
        func encode(_ image: Image, deadline: Deadline?) throws(DarkroomError) -> [UInt8] {
            let prepared = ImageEncoder.prepared(image, for: format, options: options)
            let quality = options.resolvedQuality(for: format)
            switch format {
            case .png: return try PNGCodec.encode(prepared, icc: nil, exif: nil, deadline: deadline)
            case .jpeg: return try JPEGCodec.encode(prepared, settings: JPEGSettings(options), icc: nil, exif: nil, deadline: deadline)
            case .webp:
                return try WebPCodec.encode(prepared, quality: QualityCurve.webpQuality(quality), lossless: options.lossless,
                                            icc: nil, exif: nil, deadline: deadline)
            case .gif: return try GIFCodec.encode(prepared, dither: options.dither, deadline: deadline)
            case .avif: preconditionFailure("libavif cannot be stopped")
            }
        }
    }

    @Test(arguments: Encoder.allCases)
    func aPassedDeadlineStopsTheEncoder(encoder: Encoder) throws {
        #expect(throws: Self.timeLimit(.encoding, encoder.format)) {
            try encoder.encode(Self.image, deadline: Self.passed)
        }
        // The same through the converter's encode, and with a far deadline the bytes are the same
        // as without one.
        #expect(throws: Self.timeLimit(.encoding, encoder.format)) {
            try ImageEncoder.encodeChecked(Self.image, as: encoder.format, embedding: .none, options: encoder.options,
                                           deadline: Self.passed)
        }
        let plain = try encoder.encode(Self.image, deadline: nil)
        #expect(try encoder.encode(Self.image, deadline: Self.farAhead) == plain)
        #expect(try ImageEncoder.encode(Self.image, as: encoder.format, options: encoder.options) == plain)
    }

    @Test func theJPEGRowEncoderStopsAtItsDeadline() throws {
        let encoder = try JPEGRowEncoder(width: 256, height: 192, format: .rgb8, settings: JPEGSettings(quality: 80),
                                         icc: nil, exif: nil, deadline: Self.passed)
        Self.image.pixels.withUnsafeBufferPointer { encoder.write(from: $0.baseAddress!, upTo: 192) }
        #expect(encoder.failure == Self.timeLimit(.encoding, .jpeg))
        #expect(throws: Self.timeLimit(.encoding, .jpeg)) { try encoder.finish() }
    }

    @Test func theCShimsAnswerDarkroomTimeLimit() throws {
        // Straight at the C entry points: the callbacks stop libjpeg and libpng, and the shims
        // free what they hold (ASan runs this under scripts/sanitize.sh).
        var err = [CChar](repeating: 0, count: Int(DARKROOM_ERR_LEN))
        var out: UnsafeMutablePointer<UInt8>?
        for (progressive, optimize) in [(0, 0), (1, 0), (0, 1)] {
            var size: UInt = 0
            let rc = Self.image.pixels.withUnsafeBufferPointer {
                darkroom_jpeg_encode($0.baseAddress, 256, 192, 3, 80, Int32(progressive), 0, Int32(optimize), nil, 0, nil, 0,
                                     1, &out, &size, &err)
            }
            #expect(rc == DARKROOM_TIME_LIMIT && out == nil)
        }
        var pngSize = 0
        let rc = Self.image.pixels.withUnsafeBufferPointer {
            darkroom_png_encode($0.baseAddress, 256, 192, 3, 8, 6, -1, -1, nil, 0, nil, 0, 1, &out, &pngSize, &err)
        }
        #expect(rc == DARKROOM_TIME_LIMIT && out == nil)
    }

    // MARK: Conversions

    /// Inputs of every decoder the converter streams or decodes whole.
    static func inputs() throws -> [(name: String, bytes: [UInt8])] {
        let png = try ImageEncoder.encode(image, as: .png)
        let jpeg = try ImageEncoder.encode(image, as: .jpeg)
        let progressive = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(progressive: true))
        let webp = try ImageEncoder.encode(image, as: .webp)
        let gif = try ImageEncoder.encode(image, as: .gif)
        return [("png", png), ("jpeg", jpeg), ("progressive jpeg", progressive), ("webp", webp), ("gif", gif)]
    }

    /// Conversions along every route: rows streamed (one thread or two, into a JPEG encoder or
    /// not), JPEG planes, whole image; every output format.
    static let conversions: [(name: String, options: ConvertOptions)] = {
        func options(_ format: ImageFormat?, _ resize: String?, threads: Int = 1, encode: EncodeOptions = EncodeOptions(),
                     targetSize: TargetSize? = nil) -> ConvertOptions {
            var o = ConvertOptions(format: format, resize: resize.map { try! ResizeGeometry(parsing: $0) }, encode: encode,
                                   targetSize: targetSize)
            o.resampling.threads = threads
            return o
        }
        return [
            ("same format", options(nil, nil)),
            ("png, shrunk", options(.png, "50%")),
            ("jpeg, shrunk, two threads", options(.jpeg, "37%", threads: 2)),
            ("progressive jpeg, enlarged", options(.jpeg, "150%", encode: EncodeOptions(progressive: true))),
            ("optimised jpeg, shrunk", options(.jpeg, "60%", encode: EncodeOptions(optimizeCoding: true))),
            ("webp, enlarged", options(.webp, "300x200!")),
            ("lossless webp", options(.webp, "50%", encode: EncodeOptions(lossless: true))),
            ("gif, shrunk", options(.gif, "50%")),
            ("jpeg under a target size", options(.jpeg, "50%", targetSize: TargetSize(maxBytes: 4000))),
        ]
    }()

    @Test func aPassedDeadlineStopsEveryConversionAndWritesNoFile() throws {
        let folder = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: folder) }
        for input in try Self.inputs() {
            let inputPath = folder.appendingPathComponent("in-\(input.name)").path
            try Data(input.bytes).write(to: URL(fileURLWithPath: inputPath))
            for conversion in Self.conversions {
                var options = conversion.options
                options.deadline = Self.passed
                let output = folder.appendingPathComponent("out").path
                var thrown: DarkroomError?
                do {
                    let result = try Converter(options: options).convert(contentsOf: inputPath)
                    try result.write(to: output)
                } catch {
                    thrown = error
                }
                guard case let .timeLimit(stopped)? = thrown else {
                    Issue.record("\(input.name) → \(conversion.name): \(String(describing: thrown)) instead of a time limit")
                    continue
                }
                // Every decoder sees the deadline before its first rows are out (WebP's before it starts).
                let format = ImageFormat.sniff(input.bytes)!
                #expect(stopped == TimeLimitError(stage: .decoding, format: format), "\(input.name) → \(conversion.name)")
                #expect(!FileManager.default.fileExists(atPath: output))
            }
        }
        // Nothing but the inputs: no output, no temporary.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix("in-") }
        #expect(left.isEmpty)
    }

    @Test func theDecoderAloneStopsAtItsDeadline() throws {
        for input in try Self.inputs() {
            let format = ImageFormat.sniff(input.bytes)!
            #expect(throws: Self.timeLimit(.decoding, format), "\(input.name)") {
                try input.bytes.withUnsafeBufferPointer { (buffer) throws(DarkroomError) in
                    let source = try ImageSource(input.bytes, buffer: buffer, format: format, options: DecodeOptions(),
                                                 deadline: Self.passed)
                    _ = try source.decodeImage(scale: .full)
                }
            }
        }
    }

    @Test func noDeadlineOrAFarOneChangesNoByte() throws {
        for input in try Self.inputs() {
            for conversion in Self.conversions {
                let plain = try Converter(options: conversion.options).convert(input.bytes).bytes
                var far = conversion.options
                far.deadline = Self.farAhead
                #expect(try Converter(options: far).convert(input.bytes).bytes == plain, "\(input.name) → \(conversion.name)")
            }
        }
        // The gateway's two doors.
        let png = try ImageEncoder.encode(Self.image, as: .png)
        var stage = GatewayConversion(request: try GatewayRequest(form: ["output_format": "webp"]), resize: try ResizeGeometry(parsing: "50%"))
        let plain = try stage.convert(png).bytes
        stage.deadline = Self.farAhead
        #expect(try stage.convert(png).bytes == plain)
        stage.deadline = Self.passed
        #expect(throws: Self.timeLimit(.decoding, .png)) { try stage.convert(png) }
        var refOptions = ReferencePrepOptions(maxPixels: 20_000)
        let reference = try ReferencePrep.prepare(bytes: png, name: "ref", options: refOptions).bytes
        refOptions.deadline = Self.farAhead
        #expect(try ReferencePrep.prepare(bytes: png, name: "ref", options: refOptions).bytes == reference)
        refOptions.deadline = Self.passed
        #expect(throws: Self.timeLimit(.decoding, .png)) { try ReferencePrep.prepare(bytes: png, name: "ref", options: refOptions) }
    }

    // MARK: A long encode

    /// 24 MP of noise: libwebp works on it for seconds, lossy and lossless.
    static func noise(width: Int, height: Int) -> Image {
        let count = width * height * 3
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            let words = UnsafeMutableRawPointer(buffer.baseAddress!).bindMemory(to: UInt64.self, capacity: count / 8)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for i in 0..<count / 8 {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                words[i] = state
            }
            for i in (count / 8 * 8)..<count { buffer[i] = 0x80 }
            initialized = count
        }
        return Image(unchecked: width, height: height, format: .rgb8, pixels: pixels)
    }

    @Test func aLongWebPEncodeStopsSoonAfterItsDeadline() throws {
        let image = Self.noise(width: 6000, height: 4000)
        for lossless in [false, true] {
            let clock = ContinuousClock()
            let start = clock.now
            #expect(throws: Self.timeLimit(.encoding, .webp), "lossless: \(lossless)") {
                try WebPCodec.encode(image, quality: 80, lossless: lossless, icc: nil, exif: nil,
                                     deadline: Deadline(after: .milliseconds(200)))
            }
            // A generous bound: the whole encode takes several seconds, the hook stops it within a few
            // macroblock rows (lossy) or one stage's step (lossless) of the deadline.
            let elapsed = clock.now - start
            #expect(elapsed < .seconds(3), "lossless: \(lossless), stopped after \(elapsed)")
        }
    }
}
