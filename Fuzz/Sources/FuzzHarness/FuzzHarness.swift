import Darkroom
import Foundation

/// What each libFuzzer target does with one input. The same file is compiled into the test
/// target (Tests/DarkroomTests/Fuzz/FuzzHarness.swift is a symlink to it), so
/// FuzzRegressionTests replays the regression files through exactly this code.
///
/// Every entry point either returns or throws; a trap, sanitizer report or hang is a bug.
public enum FuzzHarness {
    /// The pixel limit for the decoder targets: small, so the fuzzer is not slowed by huge buffers
    /// (DARKROOM_FUZZ_MAX_PIXELS overrides it, e.g. 250000 for more executions per second).
    public static let maxPixels = ProcessInfo.processInfo.environment["DARKROOM_FUZZ_MAX_PIXELS"].flatMap { Int($0) } ?? 4_000_000

    /// The pixel limit for the `convert` target: four times ``maxPixels`` (16,000,000 by default),
    /// so that `4mp` really shrinks an input (its output is at most 4,194,304 px).
    public static let convertMaxPixels = 4 * maxPixels

    /// The targets, in the order `scripts/fuzz.sh all` runs them.
    public static let targets = [
        "decode-png", "decode-jpeg", "decode-webp", "decode-avif", "decode-gif",
        "read-header", "resize-geometry", "gateway-request", "images-response", "convert", "animation",
    ]

    /// Runs `bytes` through the entry point of `target`.
    /// Errors are also turned into text, as the CLI and the HTTP sidecar do.
    public static func run(_ target: String, _ bytes: [UInt8]) throws {
        do {
            try runTarget(target, bytes)
        } catch {
            _ = String(describing: error)
            throw error
        }
    }

    static func runTarget(_ target: String, _ bytes: [UInt8]) throws {
        switch target {
        case "decode-png": try decode(bytes, format: .png)
        case "decode-jpeg": try decode(bytes, format: .jpeg)
        case "decode-webp": try decode(bytes, format: .webp)
        case "decode-avif": try decode(bytes, format: .avif)
        case "decode-gif": try decode(bytes, format: .gif)
        case "read-header": try readHeader(bytes)
        case "resize-geometry": try resizeGeometry(bytes)
        case "gateway-request": try gatewayRequest(bytes)
        case "images-response": try imagesResponse(bytes)
        case "convert": try convert(bytes)
        case "animation": try animation(bytes)
        default: preconditionFailure("unknown fuzz target \(target)")
        }
    }

    /// `ImageDecoder.decode` for one format (inputs sniffed as another format are skipped: the
    /// mutator wanders off the signature). For JPEG and WebP, an odd last byte also asks for
    /// shrink-on-load with a `minimumSize` taken from the last and middle bytes.
    public static func decode(_ bytes: [UInt8], format: ImageFormat) throws {
        guard ImageFormat.sniff(bytes) == format else { return }
        var options = DecodeOptions(maxPixels: maxPixels)
        if format == .jpeg || format == .webp, let last = bytes.last, last & 1 == 1 {
            options.minimumSize = (Int(last >> 1) * 8 + 1, Int(bytes[bytes.count / 2]) * 4 + 1)
        }
        let decoded = try ImageDecoder.decode(bytes, options: options)
        precondition(decoded.image.width >= 1 && decoded.image.height >= 1, "decoded an empty image")
    }

    /// `AnimationReader` on any format with `failOn` none (damaged animations are read as far as
    /// they go): the APNG chunk walk and compositor, the GIF compositor, libwebp's and libavif's
    /// sequences. Every frame is read and must be the canvas the reader announced; the frames
    /// times the canvas are bounded by ``maxPixels``.
    public static func animation(_ bytes: [UInt8]) throws {
        let reader = try AnimationReader(bytes, options: DecodeOptions(maxPixels: maxPixels, failOn: .none))
        var frames = 0
        while let frame = try reader.next() {
            precondition(frame.image.width == reader.width && frame.image.height == reader.height,
                         "frame \(frames) is \(frame.image.width)x\(frame.image.height), the canvas \(reader.width)x\(reader.height)")
            precondition(frame.durationMs >= 0, "a negative duration")
            frames += 1
        }
        precondition(frames == reader.frameCount, "read \(frames) frames of \(reader.frameCount)")
    }

    /// `ImageDecoder.readHeader` on any format.
    public static func readHeader(_ bytes: [UInt8]) throws {
        let header = try ImageDecoder.readHeader(bytes)
        _ = (header.uprightWidth, header.uprightHeight)
    }

    /// Bytes 0–3: input width and height (big-endian UInt16, 0 read as 1, so 1...65535);
    /// the rest, as UTF-8, is parsed by `ResizeGeometry(parsing:)`, then `targetSize` is asked.
    public static func resizeGeometry(_ bytes: [UInt8]) throws {
        guard bytes.count >= 4 else { return }
        let width = max(1, Int(bytes[0]) << 8 | Int(bytes[1]))
        let height = max(1, Int(bytes[2]) << 8 | Int(bytes[3]))
        let text = String(decoding: bytes[4...], as: UTF8.self)
        let geometry = try ResizeGeometry(parsing: text)
        let size = geometry.targetSize(width: width, height: height)
        precondition(size.width >= 1 && size.height >= 1, "targetSize returned a zero side")
    }

    /// Byte 0 chooses the form (even: JSON body, odd: form fields) and bit 1 `strictOpenAI`; the
    /// rest is the body. Form fields are `key=value` separated by `&` or newlines; a key of one
    /// character stands for a known field (by its code point), so the fuzzer reaches them.
    public static func gatewayRequest(_ bytes: [UInt8]) throws {
        guard let mode = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let strict = mode & 2 != 0
        let request = mode & 1 == 0
            ? try GatewayRequest(json: Data(body), strictOpenAI: strict)
            : try GatewayRequest(form: formFields(body), strictOpenAI: strict)
        _ = request.jsonData()
        for profile in ProviderProfile.all { _ = profile.resolve(request) }
    }

    static let knownFields = GatewayRequest.knownFields.sorted()

    static func formFields(_ body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        let text = String(decoding: body, as: UTF8.self)
        for pair in text.split(whereSeparator: { $0 == "&" || $0 == "\n" }) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            var key = String(kv[0])
            if key.unicodeScalars.count == 1, let c = key.unicodeScalars.first {
                key = knownFields[Int(c.value) % knownFields.count]
            }
            fields[key] = kv.count > 1 ? String(kv[1]) : ""
        }
        return fields
    }

    /// `ImagesResponse(parsing:)` (JSON, or server-sent events when not JSON), then every
    /// item's content (base64 decoding) and re-serialisation. The streamed reader
    /// (`ImagesResponseReader`, `b64_json` decoded while read, in chunks of 1 to 13 bytes picked
    /// by the input's length) must give the same contents whenever both succeed: a difference traps.
    public static func imagesResponse(_ bytes: [UInt8]) throws {
        let streamed = Result { () throws(DarkroomError) in
            try ImagesResponseReader(data: Data(bytes), chunkSize: 1 + bytes.count % 13).readAll()
        }
        let response = try ImagesResponse(parsing: Data(bytes))
        if case let .success(s) = streamed {
            precondition(s.contents() == response.contents(), "ImagesResponseReader and ImagesResponse(parsing:) differ")
        }
        _ = response.contents()
        _ = response.jsonData()
    }

    /// The resize geometries of the `convert` target, picked by bits 1–2 of its first byte: a
    /// gateway's 4 MP cap, a percentage, an exact tiny size that ignores the aspect, and half size
    /// (the decoder runs at full scale, so a JPEG of 2 MP or more with restart markers is decoded
    /// in two bands).
    public static let convertGeometries = ["4mp", "37%", "7x5!", "50%"]

    /// The options the first byte of a `convert` input stands for. Bit 0: the output format (JPEG,
    /// WebP); bits 1–2: the geometry (``convertGeometries``); bit 3: `fast` (shrink-on-load to the
    /// target itself); bit 4: `failOn` none (damaged input is decoded as far as it goes); bit 5:
    /// `keep` all (the input's EXIF rewritten, its XMP, IPTC and ICC profile checked and written;
    /// otherwise the default, the provenance label). Always two threads, so the row producer,
    /// restart bands and the output ring can run; the pixel limit is ``convertMaxPixels``.
    public static func convertOptions(_ mode: UInt8) throws -> ConvertOptions {
        var options = ConvertOptions(format: mode & 1 == 0 ? .jpeg : .webp,
                                     resize: try ResizeGeometry(parsing: convertGeometries[Int(mode >> 1) & 3]),
                                     fast: mode & 8 != 0)
        options.decode.maxPixels = convertMaxPixels
        if mode & 16 != 0 { options.decode.failOn = .none }
        if mode & 32 != 0 { options.encode.keep = .all }
        options.resampling.threads = 2
        return options
    }

    /// `Converter.convert` end to end: byte 0 chooses the options (``convertOptions(_:)``), the rest
    /// is the input file. The output must be a file of the asked format and size.
    public static func convert(_ bytes: [UInt8]) throws {
        guard let mode = bytes.first else { return }
        let options = try convertOptions(mode)
        let result = try Converter(options: options).convert(Array(bytes.dropFirst()))
        precondition(result.width >= 1 && result.height >= 1, "converted to an empty image")
        precondition(result.format == options.format && ImageFormat.sniff(result.bytes) == options.format,
                     "asked for \(options.format!), made \(result.format)")
        let header = try? ImageDecoder.readHeader(result.bytes)
        precondition(header?.width == result.width && header?.height == result.height,
                     "made \(result.width)x\(result.height), the file says \(String(describing: header))")
    }
}
