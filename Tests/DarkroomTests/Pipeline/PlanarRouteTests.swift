import Foundation
import Testing
@testable import Darkroom

/// Issue #17: a JPEG converted to a JPEG with nothing that needs RGB is resized on its stored
/// Y, Cb and Cr planes (``PlanarResize``). The route is taken exactly when its conditions hold,
/// makes the planned size with the asked sampling, is as good as the RGB route, and treats damage
/// and limits as the RGB route does.
@Suite struct PlanarRouteTests {
    static let resize = try! ResizeGeometry(parsing: "37%")

    /// The route the plan picks for `bytes` under `options`.
    static func route(_ bytes: [UInt8], _ options: ConvertOptions, switches: ConversionPlan.Switches = .init()) throws -> ConversionPlan.Route {
        try bytes.withUnsafeBufferPointer { buffer in
            let source = try ImageSource(bytes, buffer: buffer, format: ImageFormat.sniff(bytes)!, options: options.decode)
            return try ConversionPlan(source: source, options: options, switches: switches).route
        }
    }

    /// The (h, v) sampling factors of each component in the frame header (SOF0/1/2) of `jpeg`.
    static func sampling(_ jpeg: [UInt8]) -> [[Int]] {
        var i = 2
        while i + 4 < jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1], length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            if marker == 0xC0 || marker == 0xC1 || marker == 0xC2 {
                let count = Int(jpeg[i + 9])
                return (0..<count).map { c in
                    let f = jpeg[i + 11 + 3 * c]
                    return [Int(f >> 4), Int(f & 15)]
                }
            }
            i += 2 + length
        }
        return []
    }

    /// `jpeg` (from our encoder: JFIF, components 1, 2, 3) rewritten so that libjpeg reads it as
    /// RGB-coded: no JFIF marker and components named 'R', 'G', 'B'.
    static func rgbCoded(_ jpeg: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0xFF, 0xD8]
        var i = 2
        while i + 4 < jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1], length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            var segment = Array(jpeg[i..<(i + 2 + length)])
            if marker == 0xC0 { for c in 0..<3 { segment[10 + 3 * c] = [0x52, 0x47, 0x42][c] } }
            if marker == 0xDA {
                for c in 0..<Int(segment[4]) { segment[5 + 2 * c] = [0x52, 0x47, 0x42][c] }
                out += segment + jpeg[(i + 2 + length)...]
                return out
            }
            if marker != 0xE0 { out += segment }
            i += 2 + length
        }
        return out
    }

    static func encoded(_ name: String, chroma: ChromaSubsampling = .yuv420, progressive: Bool = false,
                        icc: [UInt8]? = nil, restartRows: Int = 0) throws -> [UInt8] {
        let image = try ImageDecoder.decode(TestImages.bytes(name)).image
        let encoder = try JPEGRowEncoder(width: image.width, height: image.height, format: image.format,
                                         settings: JPEGSettings(quality: 92, progressive: progressive, chroma: chroma),
                                         icc: icc, exif: nil, restartRows: restartRows)
        image.pixels.withUnsafeBufferPointer { encoder.write(from: $0.baseAddress!, upTo: image.height) }
        return try encoder.finish()
    }

    @Test func theRouteIsTakenExactlyWhenItsConditionsHold() throws {
        let kodim = try TestImages.bytes("kodim23.jpg")
        let jpeg = ConvertOptions(format: .jpeg, resize: Self.resize)
        #expect(try Self.route(kodim, jpeg) == .planes)
        #expect(try Self.route(kodim, ConvertOptions(resize: Self.resize)) == .planes, "the input's format kept")
        #expect(try Self.route(kodim, ConvertOptions(format: .jpeg)) == .planes, "no resize: a re-encode on the planes")
        #expect(try Self.route(TestImages.bytes("gray.jpg"), jpeg) == .planes, "gray: one plane")
        #expect(try Self.route(Self.encoded("kodim23.jpg", progressive: true), jpeg) == .planes)
        #expect(try Self.route(Self.encoded("kodim23.jpg", chroma: .yuv444), jpeg) == .planes)

        // Not a JPEG out, not a YCbCr or gray JPEG in.
        for format in [ImageFormat.png, .webp] {
            #expect(try Self.route(kodim, ConvertOptions(format: format, resize: Self.resize)) != .planes)
        }
        #expect(try Self.route(TestImages.bytes("cmyk.jpg"), jpeg) != .planes, "CMYK")
        let rgbCoded = Self.rgbCoded(try Self.encoded("kodim23.jpg"))
        #expect(try ImageDecoder.decode(rgbCoded).image.width == 768, "still a JPEG")
        #expect(try Self.route(rgbCoded, jpeg) != .planes, "RGB-coded components")
        // Turned upright: not planar; with orientation off it is.
        let rotated = try TestImages.bytes("hopper-orientation-6.jpg")
        #expect(try Self.route(rotated, jpeg) != .planes)
        var asStored = jpeg
        asStored.decode.applyOrientation = false
        #expect(try Self.route(rotated, asStored) == .planes)
        // An ICC profile to convert from: not planar; kept as it is (no sRGB conversion): planar.
        let withProfile = try Self.encoded("kodim23.jpg", icc: Array(repeating: 7, count: 200))
        #expect(try Self.route(withProfile, jpeg) != .planes)
        var keepProfile = jpeg
        keepProfile.decode.convertToSRGB = false
        #expect(try Self.route(withProfile, keepProfile) == .planes)
        // An sRGB profile: nothing to convert, planar; the output embeds it as the RGB route does.
        let srgb = try #require(ColorManagement.sRGBProfile())
        let withSRGB = try Self.encoded("kodim23.jpg", icc: srgb)
        #expect(try Self.route(withSRGB, jpeg) == .planes)
        for keep in [MetadataKeep.none, .icc, .all] {
            var options = jpeg
            options.encode.keep = keep
            let planar = try Converter(options: options).convert(withSRGB)
            var rgb = Converter(options: options)
            rgb.switches.allowsPlanes = false
            let reference = try rgb.convert(withSRGB)
            #expect(planar.source == reference.source, "\(keep)")
            #expect(try ImageDecoder.decode(planar.bytes).metadata.iccProfile == ImageDecoder.decode(reference.bytes).metadata.iccProfile,
                    "\(keep)")
        }
        if let p3 = Corpus.read("color/jpeg/display-p3_apple_gainmap_new.jpg") {
            #expect(try Self.route(p3, asStored) != .planes, "Display P3")   // (orientation aside)
            var p3AsIs = asStored
            p3AsIs.decode.convertToSRGB = false
            #expect(try Self.route(p3, p3AsIs) == .planes, "the same file without the conversion")
        }
        // A target size takes it too (the planes kept whole, encoded at each quality tried); the
        // nearest filter and the switches do not.
        var sized = jpeg
        sized.targetSize = TargetSize(maxBytes: 10_000)
        #expect(try Self.route(kodim, sized) == .planes)
        var nearest = jpeg
        nearest.resampling.filter = .nearest
        #expect(try Self.route(kodim, nearest) != .planes)
        var flatten = jpeg
        flatten.flattenAlpha = true
        #expect(try Self.route(kodim, flatten) != .planes)
        var off = ConversionPlan.Switches()
        off.allowsPlanes = false
        #expect(try Self.route(kodim, jpeg, switches: off) != .planes)
        off = ConversionPlan.Switches()
        off.allowsStreaming = false
        #expect(try Self.route(kodim, jpeg, switches: off) == .whole)
    }

    @Test(arguments: ["37%", "300x201!", "7x5!", "1x1", "768x512", "64x", "x33"])
    func theOutputHasThePlannedSizeAndSampling(geometry: String) throws {
        for (name, chroma, expected) in [("kodim23.jpg", ChromaSubsampling.yuv420, [[2, 2], [1, 1], [1, 1]]),
                                         ("kodim23.jpg", .yuv444, [[1, 1], [1, 1], [1, 1]]),
                                         ("gray.jpg", .yuv420, [[1, 1]])] {
            var options = ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: geometry))
            options.encode.chroma = chroma
            let events = PipelineEvents.Counter()
            let result = try PipelineEvents.$counter.withValue(events) { try Converter(options: options).convert(TestImages.bytes(name)) }
            #expect(events["planar-route"] == 1 && events["ring-output"] == 0, "\(name) \(geometry)")
            var rgb = Converter(options: options)
            rgb.switches.allowsPlanes = false
            let reference = try rgb.convert(TestImages.bytes(name))
            #expect(result.width == reference.width && result.height == reference.height, "\(name) \(geometry)")
            let header = try ImageDecoder.readHeader(result.bytes)
            #expect(header.width == result.width && header.height == result.height)
            #expect(Self.sampling(result.bytes) == expected, "\(name) \(geometry) \(chroma)")
            #expect(result.source == reference.source && result.resized == reference.resized)
        }
    }

    /// The planar output against the RGB route's, both at quality 95, decoded: the same picture
    /// (PSNR over RGB above 36 dB; a plane misplaced by a row or chroma swapped falls far below),
    /// for 4:2:0, 4:4:4, progressive and restart-marker inputs, gray, DCT-scaled (`fast`) decodes
    /// and odd output sizes.
    @Test func thePlanarOutputMatchesTheRGBRoute() throws {
        let inputs: [(String, [UInt8])] = [
            ("kodim23", try TestImages.bytes("kodim23.jpg")), ("hopper", try TestImages.bytes("hopper.jpg")),
            ("gray", try TestImages.bytes("gray.jpg")), ("kodim23 444", try Self.encoded("kodim23.jpg", chroma: .yuv444)),
            ("kodim23 progressive", try Self.encoded("kodim23.jpg", progressive: true)),
            ("kodim23 restart", try Self.encoded("kodim23.jpg", restartRows: 2)),
        ]
        for (name, bytes) in inputs {
            for geometry in ["37%", "50%", "301x199!", "100x", "90%"] {
                for fast in [false, true] {
                    let options = ConvertOptions(format: .jpeg, quality: 95, resize: try ResizeGeometry(parsing: geometry), fast: fast)
                    let planar = try ImageDecoder.decode(Converter(options: options).convert(bytes).bytes).image
                    var rgb = Converter(options: options)
                    rgb.switches.allowsPlanes = false
                    let reference = try ImageDecoder.decode(rgb.convert(bytes).bytes).image
                    let db = psnr(planar, reference)
                    #expect(db > 36, "\(name) \(geometry) fast=\(fast): \(db) dB")
                }
            }
        }
    }

    /// With two threads the groups are decoded on a producer thread ahead of the stripes: the
    /// same bytes and warnings as on one thread, whole, cut (fail-on none) or corrupt.
    @Test func aProducerThreadGivesTheSameBytes() throws {
        let kodim = try TestImages.bytes("kodim23.jpg")
        var corrupt = kodim
        for i in 1200..<3000 { corrupt[i] = UInt8(truncatingIfNeeded: i &* 7919) | 0x01 }
        let inputs = [kodim, Array(kodim.prefix(kodim.count * 55 / 100)), corrupt, try TestImages.bytes("gray.jpg"),
                      try Self.encoded("kodim23.jpg", chroma: .yuv444, progressive: true)]
        for (n, bytes) in inputs.enumerated() {
            for geometry in ["37%", "10x10!", "768x512", "301x199!"] {
                for fast in [false, true] {
                    var options = ConvertOptions(format: .jpeg, resize: try ResizeGeometry(parsing: geometry),
                                                 decode: DecodeOptions(failOn: .none), fast: fast)
                    options.resampling.threads = 1
                    let one = Result { () throws(DarkroomError) in try Converter(options: options).convert(bytes) }
                    options.resampling.threads = 2
                    let events = PipelineEvents.Counter()
                    let two = PipelineEvents.$counter.withValue(events) {
                        Result { () throws(DarkroomError) in try Converter(options: options).convert(bytes) }
                    }
                    #expect(events["planar-route"] == 1)
                    switch (one, two) {
                    case let (.success(a), .success(b)): #expect(a.bytes == b.bytes && a.warnings == b.warnings, "input \(n) \(geometry)")
                    case let (.failure(a), .failure(b)): #expect(a == b, "input \(n) \(geometry)")
                    default: Issue.record("input \(n) \(geometry) fast=\(fast): \(one) vs \(two)")
                    }
                }
            }
        }
    }

    @Test func aTruncatedInputIsRefusedOrWarnedAsOnTheRGBRoute() throws {
        let bytes = try TestImages.bytes("kodim23.jpg")
        let cut = Array(bytes.prefix(bytes.count * 55 / 100))
        for failOn in [FailOn.truncated, .none, .warning] {
            let options = ConvertOptions(format: .jpeg, resize: Self.resize, decode: DecodeOptions(failOn: failOn))
            var rgb = Converter(options: options)
            rgb.switches.allowsPlanes = false
            let events = PipelineEvents.Counter()
            let planar = PipelineEvents.$counter.withValue(events) {
                Result { () throws(DarkroomError) in try Converter(options: options).convert(cut) }
            }
            #expect(events["planar-route"] == 1)
            let reference = Result { () throws(DarkroomError) in try rgb.convert(cut) }
            switch (planar, reference) {
            case let (.success(a), .success(b)):
                #expect(failOn == .none)
                #expect(a.warnings == b.warnings && a.warnings.map(\.kind) == [.truncated])
                #expect(a.width == b.width && a.height == b.height)
            case let (.failure(a), .failure(b)):
                #expect(failOn != .none)
                #expect(a == b, "\(failOn)")
                guard case .decoding(.damaged(.jpeg, let warning, _)) = a else {
                    Issue.record("expected a damaged-input error, got \(a)")
                    continue
                }
                #expect(warning.kind == .truncated)
            default:
                Issue.record("\(failOn): planar \(planar) vs RGB \(reference)")
            }
        }
    }

    @Test func aCorruptStreamFailsOrWarnsAsOnTheRGBRoute() throws {
        var bytes = try TestImages.bytes("kodim23.jpg")
        let sos = try #require((0..<bytes.count - 1).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xDA })
        for i in (sos + 200)..<min(bytes.count - 2, sos + 4000) { bytes[i] = UInt8(truncatingIfNeeded: i &* 7919) | 0x01 }
        for failOn in [FailOn.none, .truncated] {
            let options = ConvertOptions(format: .jpeg, resize: Self.resize, decode: DecodeOptions(failOn: failOn))
            var rgb = Converter(options: options)
            rgb.switches.allowsPlanes = false
            let planar = Result { () throws(DarkroomError) in try Converter(options: options).convert(bytes) }
            let reference = Result { () throws(DarkroomError) in try rgb.convert(bytes) }
            switch (planar, reference) {
            case let (.success(a), .success(b)): #expect(a.warnings == b.warnings && !a.warnings.isEmpty, "\(failOn)")
            case let (.failure(a), .failure(b)): #expect(a == b, "\(failOn)")
            default: Issue.record("\(failOn): planar \(planar) vs RGB \(reference)")
            }
        }
    }

    @Test func thePixelLimitIsCheckedBeforeThePlanesExist() throws {
        let bytes = try TestImages.bytes("kodim23.jpg")
        // The input's declared size, when the source opens (before any plan or plane).
        let options = ConvertOptions(format: .jpeg, resize: Self.resize, decode: DecodeOptions(maxPixels: 768 * 512 - 1))
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 768, height: 512, limit: 768 * 512 - 1))) {
            try Converter(options: options).convert(bytes)
        }
        // The raw start checks the scaled size against the limit before libjpeg allocates its buffers.
        try bytes.withUnsafeBufferPointer { buffer in
            let decoder = try JPEGRowDecoder(buffer: buffer)
            #expect(decoder.canReadPlanes)
            #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 768, height: 512, limit: 384 * 256 - 1))) {
                try decoder.startPlanes(scaleDenominator: 2, maxPixels: 384 * 256 - 1)
            }
        }
        // At 1/2, libjpeg-turbo scales the chroma IDCT up: three planes of the luma's size.
        try bytes.withUnsafeBufferPointer { buffer in
            let layout = try JPEGRowDecoder(buffer: buffer).startPlanes(scaleDenominator: 2, maxPixels: 384 * 256)
            #expect(layout.planes.map(\.width) == [384, 384, 384] && layout.planes.map(\.height) == [256, 256, 256])
            #expect(layout.planes.map(\.xFactor) == [1, 1, 1] && layout.groups == 32)
            let full = try JPEGRowDecoder(buffer: buffer).startPlanes(scaleDenominator: 1, maxPixels: 768 * 512)
            #expect(full.planes.map(\.width) == [768, 384, 384] && full.planes.map(\.yFactor) == [1, 2, 2])
            #expect(full.planes.map(\.groupRows) == [16, 8, 8] && full.groups == 32)
        }
    }

    /// JPEG (JFIF) chroma is centred; an odd output side gives a chroma plane of ⌈n/2⌉ samples
    /// that covers half a sample more than the picture. The chroma planes are resampled at the
    /// luma's scale (not their extents'), so a vertical colour edge stays where the luma edge is.
    @Test func chromaStaysCentredAtOddSizes() throws {
        // A red/blue split image, the edge at x = 704 of 768 (far from the left, where the scales agree).
        var image = try Image(width: 768, height: 64, format: .rgb8)
        for y in 0..<64 {
            for x in 0..<768 {
                let o = (y * 768 + x) * 3
                image.pixels[o] = x < 704 ? 220 : 20
                image.pixels[o + 1] = 40
                image.pixels[o + 2] = x < 704 ? 20 : 220
            }
        }
        let jpeg = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(quality: 100))
        let options = ConvertOptions(format: .jpeg, quality: 100, resize: try ResizeGeometry(parsing: "255x21!"))
        let planar = try ImageDecoder.decode(Converter(options: options).convert(jpeg).bytes).image
        var rgb = Converter(options: options)
        rgb.switches.allowsPlanes = false
        let reference = try ImageDecoder.decode(rgb.convert(jpeg).bytes).image
        // The column where red falls below blue, in the middle row, is the same on both routes.
        func edge(_ image: Image) -> Int {
            let row = 10 * image.width * 3
            return (0..<image.width).first { image.pixels[row + $0 * 3] < image.pixels[row + $0 * 3 + 2] } ?? -1
        }
        #expect(edge(planar) == edge(reference) && abs(edge(planar) - 234) <= 1, "\(edge(planar)) vs \(edge(reference))")
        #expect(psnr(planar, reference) > 30)
    }
}
