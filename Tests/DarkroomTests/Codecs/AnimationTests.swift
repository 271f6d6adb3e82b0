import Foundation
import Testing
@testable import Darkroom

/// Animations end to end: GIF compositing (disposal, transparency, clipping, interlacing, local
/// palettes, delays, loop counts) on hand-built files with exact expected pixels; the animated
/// WebP and GIF writers; GIF → WebP → GIF and WebP → GIF → WebP round trips; cut files under each
/// `failOn`; per-frame resizing; the pixel limit over frames; and, where Pillow is installed,
/// every frame of a converted corpus animation against Pillow's reading of its source.
@Suite struct AnimationTests {
    typealias G = GIFDecoderTests

    /// A Graphic Control Extension: disposal 0–3, delay in 1/100 s, transparent index or nil.
    static func gce(disposal: Int = 0, delay: Int = 0, transparent: Int? = nil) -> [UInt8] {
        [0x21, 0xF9, 4, UInt8(disposal << 2 | (transparent == nil ? 0 : 1)), UInt8(delay & 0xFF), UInt8(delay >> 8),
         UInt8(transparent ?? 0), 0]
    }

    /// A NETSCAPE2.0 application extension with loop count `loops`.
    static func netscape(_ loops: Int) -> [UInt8] {
        [0x21, 0xFF, 11] + Array("NETSCAPE2.0".utf8) + [3, 1, UInt8(loops & 0xFF), UInt8(loops >> 8), 0]
    }

    /// A `w`×`h` frame of one palette index.
    static func solid(_ index: Int, left: Int = 0, top: Int = 0, width: Int, height: Int,
                      palette: [[UInt8]]? = nil) -> [UInt8] {
        G.image(left: left, top: top, width: width, height: height, palette: palette,
                data: G.lzw([Int](repeating: index, count: width * height), minCodeSize: 2))
    }

    static let red: [UInt8] = [255, 0, 0, 255], green: [UInt8] = [0, 255, 0, 255], blue: [UInt8] = [0, 0, 255, 255]
    static let white: [UInt8] = [255, 255, 255, 255], clear: [UInt8] = [0, 0, 0, 0]

    /// Every frame of `bytes` through ``AnimationReader``.
    static func frames(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws -> [AnimationFrame] {
        let reader = try AnimationReader(bytes, options: options)
        var out: [AnimationFrame] = []
        while let frame = try reader.next() { out.append(frame) }
        return out
    }

    /// The RGBA pixel at (x, y) of `image`, with RGB zeroed where it is fully transparent.
    static func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] {
        let o = (y * image.width + x) * 4
        let p = Array(image.pixels[o..<o + 4])
        return p[3] == 0 ? clear : p
    }

    /// A 4x4 red frame, then a 2x2 blue frame at (1, 1) with `disposal`, then a 1x1 green frame at (0, 0).
    static func disposalFile(_ disposal: Int) -> [UInt8] {
        G.file(width: 4, height: 4, palette: G.fourColors,
               gce(delay: 10) + solid(0, width: 4, height: 4)
                   + gce(disposal: disposal, delay: 20) + solid(2, left: 1, top: 1, width: 2, height: 2)
                   + gce(delay: 30) + solid(1, width: 1, height: 1))
    }

    // MARK: GIF compositing

    @Test(arguments: [(0, "none"), (1, "none"), (2, "background"), (3, "previous")])
    func disposal(_ method: Int, _ name: String) throws {
        let f = try Self.frames(Self.disposalFile(method))
        #expect(f.count == 3)
        #expect(f.map(\.durationMs) == [100, 200, 300])
        // Frame 1 shows the blue square over red in every case.
        #expect(Self.pixel(f[1].image, 1, 1) == Self.blue && Self.pixel(f[1].image, 0, 0) == Self.red)
        // Frame 2: green at (0, 0); the square kept, cleared to transparent, or restored to red.
        #expect(Self.pixel(f[2].image, 0, 0) == Self.green)
        let expected = name == "none" ? Self.blue : name == "background" ? Self.clear : Self.red
        #expect(Self.pixel(f[2].image, 1, 1) == expected && Self.pixel(f[2].image, 2, 2) == expected)
        #expect(Self.pixel(f[2].image, 3, 3) == Self.red)
    }

    @Test func transparentIndexKeepsTheCanvas() throws {
        // Frame 1 is white with index 3 transparent except a blue pixel at (1, 0): the red of
        // frame 0 shows through everywhere else. The canvas starts transparent (frame 0 covers only (0,0)).
        let gif = G.file(width: 2, height: 2, palette: G.fourColors,
                         Self.solid(0, width: 1, height: 1)
                             + Self.gce(transparent: 3) + G.image(width: 2, height: 2, data: G.lzw([3, 2, 3, 3], minCodeSize: 2)))
        let f = try Self.frames(gif)
        #expect(Self.pixel(f[0].image, 0, 0) == Self.red && Self.pixel(f[0].image, 1, 1) == Self.clear)
        #expect(Self.pixel(f[1].image, 0, 0) == Self.red && Self.pixel(f[1].image, 1, 0) == Self.blue)
        #expect(Self.pixel(f[1].image, 0, 1) == Self.clear && Self.pixel(f[1].image, 1, 1) == Self.clear)
    }

    @Test func interlacedFrameMatchesItsProgressiveTwin() throws {
        // 3x8 rows 0…7 of indices y % 4, stored in interlace order (rows 0, 4 | 2, 6 | 1, 3, 5, 7).
        let rows = (0..<8).map { [Int](repeating: $0 % 4, count: 3) }
        let order = [0, 4, 2, 6, 1, 3, 5, 7]
        let plain = G.file(width: 3, height: 8, palette: G.fourColors,
                           Self.solid(3, width: 3, height: 8)
                               + G.image(width: 3, height: 8, data: G.lzw(rows.flatMap { $0 }, minCodeSize: 2)))
        let interlaced = G.file(width: 3, height: 8, palette: G.fourColors,
                                Self.solid(3, width: 3, height: 8)
                                    + G.image(width: 3, height: 8, interlaced: true,
                                              data: G.lzw(order.flatMap { rows[$0] }, minCodeSize: 2)))
        let a = try Self.frames(plain), b = try Self.frames(interlaced)
        #expect(a.count == 2 && b.count == 2)
        #expect(a[1].image.pixels == b[1].image.pixels)
        #expect(Self.pixel(b[1].image, 0, 5) == Self.green && Self.pixel(b[1].image, 2, 7) == Self.white)
    }

    @Test func localPalettePerFrame() throws {
        let gif = G.file(width: 1, height: 1, palette: G.fourColors,
                         Self.solid(0, width: 1, height: 1)
                             + Self.solid(1, width: 1, height: 1, palette: [[10, 20, 30], [40, 50, 60]])
                             + Self.solid(1, width: 1, height: 1))
        let f = try Self.frames(gif)
        #expect(f.map { Self.pixel($0.image, 0, 0) } == [Self.red, [40, 50, 60, 255], Self.green])
    }

    @Test func delaysOfTenMillisecondsOrLessShowForOneHundred() throws {
        // 0 and 1 (1/100 s) are shown for 100 ms by browsers, libvips and gif2webp; 2 stays 20 ms.
        let gif = G.file(width: 1, height: 1, palette: G.fourColors,
                         [0, 1, 2, 5, 250].map { Self.gce(delay: $0) + Self.solid($0 % 4, width: 1, height: 1) }.flatMap { $0 })
        let reader = try AnimationReader(gif)
        #expect(reader.durationsMs == [100, 100, 20, 50, 2500])
        #expect(reader.totalDurationMs == 2770)
        #expect(try Self.frames(gif).map(\.durationMs) == [100, 100, 20, 50, 2500])
    }

    @Test(arguments: [(nil, 1), (0, 0), (1, 2), (3, 4), (65535, 65536)] as [(Int?, Int)])
    func loopCountIsPlays(_ netscape: Int?, _ plays: Int) throws {
        let gif = G.file(width: 1, height: 1, palette: G.fourColors,
                         (netscape.map(Self.netscape) ?? []) + Self.solid(0, width: 1, height: 1) + Self.solid(1, width: 1, height: 1))
        #expect(try AnimationReader(gif).loopCount == plays)
        let inspection = try ImageInspection.inspect(gif)
        #expect(inspection.loopCount == plays && inspection.frameCount == 2 && inspection.durationMs == 200)
    }

    // MARK: Cut files

    /// A 6-frame 8x8 GIF whose frames differ, so a cut lands inside a frame's image data.
    static func sixFrames() -> [UInt8] {
        G.file(width: 8, height: 8, palette: G.fourColors,
               Self.netscape(0) + (0..<6).map { k in
                   Self.gce(delay: 10) + G.image(width: 8, height: 8,
                                                 data: G.lzw((0..<64).map { ($0 * (k + 1) / 3) % 4 }, minCodeSize: 2))
               }.flatMap { $0 })
    }

    @Test func cutFileCountsOnlyWholeFramesAndIsTruncated() throws {
        let whole = Self.sixFrames()
        #expect(try AnimationReader(whole).frameCount == 6)
        let cut = Array(whole.prefix(whole.count / 3))
        // inspect: the frames whose data is all there, and the damage.
        let inspection = try ImageInspection.inspect(cut)
        #expect(inspection.frameCount >= 1 && inspection.frameCount < 6 && inspection.isDamaged)
        // failOn none: converted, the frames there are, with the warning.
        var options = ConvertOptions(format: .webp)
        options.decode.failOn = .none
        let converted = try Converter(options: options).convert(cut)
        #expect(converted.source.frameCount == inspection.frameCount)
        #expect(converted.warnings.contains { $0.kind == .truncated })
        // truncated (the default) and warning: refused, for an animated and for a still output.
        for failOn in [FailOn.truncated, .warning] {
            for format in [ImageFormat.webp, .gif, .png] {
                var strict = ConvertOptions(format: format)
                strict.decode.failOn = failOn
                #expect(throws: DarkroomError.self) { try Converter(options: strict).convert(cut) }
                do { _ = try Converter(options: strict).convert(cut) } catch {
                    guard case .decoding(.damaged(.gif, let warning, failOn)) = error else {
                        Issue.record("unexpected \(error)"); continue
                    }
                    #expect(warning.kind == .truncated)
                }
            }
        }
    }

    @Test func cutAfterThreeFramesKeepsThree() throws {
        let whole = Self.sixFrames()
        // Cut in the middle of the fourth frame's image data.
        let starts = (0..<(whole.count - 1)).filter { whole[$0] == 0x21 && whole[$0 + 1] == 0xF9 }
        #expect(starts.count == 6)
        let cut = Array(whole.prefix(starts[3] + 20))
        var decode = DecodeOptions()
        decode.failOn = .none
        let reader = try AnimationReader(cut, options: decode)
        #expect(reader.frameCount == 3 && reader.warnings.count == 1)
        #expect(try Self.frames(cut, options: decode).count == 3)
        #expect(try ImageInspection.inspect(cut).frameCount == 3)
        #expect(throws: DarkroomError.self) { try AnimationReader(cut) }
    }

    // MARK: Conversions

    /// An 8-frame 24x16 RGBA animation with a moving box, a blinking transparent corner and 30 colours.
    static func synthetic(frames: Int = 8) -> [(Image, Int)] {
        (0..<frames).map { k in
            var image = Image(unchecked: 24, height: 16, format: .rgba8)
            for y in 0..<16 {
                for x in 0..<24 {
                    let o = (y * 24 + x) * 4
                    let inBox = x >= k * 2 && x < k * 2 + 6 && y >= 4 && y < 10
                    let hole = x < 3 && y < 3 && k % 2 == 1
                    // 24 background colours and 6 box colours: a GIF holds them all exactly.
                    let c = inBox ? [UInt8(40 * (k % 6)), 200, 30] : [UInt8(x / 4 * 40), UInt8(y / 4 * 60), 128]
                    image.pixels[o..<o + 4] = ArraySlice(hole ? [0, 0, 0, 0] : c.map { $0 } + [255])
                }
            }
            // Durations that GIF holds exactly (multiples of 10 ms, over 10).
            return (image, 20 + 10 * k)
        }
    }

    static func write(_ frames: [(Image, Int)], as format: ImageFormat, loop: Int, lossless: Bool = true) throws -> [UInt8] {
        let first = frames[0].0
        let writer = try AnimationWriter(format: format, width: first.width, height: first.height, loopCount: loop,
                                         options: EncodeOptions(lossless: lossless), lossless: lossless, embedding: .none)
        for (image, ms) in frames { try writer.add(image, durationMs: ms) }
        return try writer.finish()
    }

    /// Same pixels, comparing RGB only where the pixel is opaque.
    static func samePixels(_ a: Image, _ b: Image) -> Bool {
        guard a.width == b.width && a.height == b.height else { return false }
        for y in 0..<a.height { for x in 0..<a.width where pixel(a, x, y) != pixel(b, x, y) { return false } }
        return true
    }

    /// `samePixels` as a message-friendly check: the first differing pixel, or nil.
    static func firstDifference(_ a: Image, _ b: Image) -> String? {
        guard a.width == b.width && a.height == b.height else { return "sizes \(a.width)x\(a.height) and \(b.width)x\(b.height)" }
        for y in 0..<a.height {
            for x in 0..<a.width where pixel(a, x, y) != pixel(b, x, y) {
                return "(\(x), \(y)): \(pixel(a, x, y)) vs \(pixel(b, x, y))"
            }
        }
        return nil
    }

    @Test(arguments: [0, 1, 3])
    func webpToGIFToWebPKeepsFramesDurationsLoopAndPixels(_ plays: Int) throws {
        let source = Self.synthetic()
        let webp = try Self.write(source, as: .webp, loop: plays)
        let a = try AnimationReader(webp)
        #expect(a.format == .webp && a.frameCount == 8 && a.loopCount == plays)
        #expect(a.durationsMs == source.map(\.1))
        let gif = try Converter(options: ConvertOptions(format: .gif)).convert(webp)
        #expect(gif.frameCount == 8)
        let b = try AnimationReader(gif.bytes)
        #expect(b.format == .gif && b.frameCount == 8 && b.loopCount == plays && b.durationsMs == source.map(\.1))
        var options = ConvertOptions(format: .webp)
        options.encode.lossless = true
        let back = try Converter(options: options).convert(gif.bytes)
        let c = try AnimationReader(back.bytes)
        #expect(c.frameCount == 8 && c.loopCount == plays && c.durationsMs == source.map(\.1))
        // 17 colours and binary alpha: lossless WebP and GIF keep every pixel exactly.
        var k = 0
        let readers = [a, b, c]
        while let fa = try readers[0].next(), let fb = try readers[1].next(), let fc = try readers[2].next() {
            #expect(Self.firstDifference(fa.image, source[k].0) == nil, "frame \(k) of the WebP")
            #expect(Self.firstDifference(fb.image, source[k].0) == nil, "frame \(k) of the GIF")
            #expect(Self.firstDifference(fc.image, source[k].0) == nil, "frame \(k) of the WebP again")
            k += 1
        }
        #expect(k == 8)
    }

    /// A canvas that is transparent around a first frame libwebp crops to its opaque part still
    /// makes the file say it has alpha (VP8X), so readers that trust the flag (Pillow) keep that
    /// border transparent; an opaque animation's flag stays clear.
    @Test func aTransparentCanvasSetsTheWebPAlphaFlag() throws {
        var first = Image(unchecked: 32, height: 32, format: .rgba8)   // transparent but a 12×12 square
        for y in 10..<22 { for x in 10..<22 { first.pixels.replaceSubrange((y * 32 + x) * 4..<((y * 32 + x) * 4 + 4), with: [200, 30, 30, 255]) } }
        var second = first
        for y in 12..<20 { for x in 12..<20 { second.pixels.replaceSubrange((y * 32 + x) * 4..<((y * 32 + x) * 4 + 4), with: [30, 200, 30, 255]) } }
        let webp = try Self.write([(first, 100), (second, 100)], as: .webp, loop: 0)
        #expect(Array(webp[12..<16]) == Array("VP8X".utf8) && webp[20] & 0x10 != 0, "the alpha flag")
        let back = try AnimationReader(webp)
        let inspected = try ImageInspection.inspect(webp)
        #expect(back.frameCount == 2 && inspected.hasAlpha)
        var opaque = first
        for i in stride(from: 3, to: opaque.pixels.count, by: 4) { opaque.pixels[i] = 255 }
        let solid = try Self.write([(opaque, 100), (opaque.flattened(onto: .white), 100)], as: .webp, loop: 0)
        #expect(solid[20] & 0x10 == 0, "no alpha flag without transparency")
    }

    @Test func gifToWebPToGIFKeepsFramesDurationsLoopAndPixels() throws {
        let gif = try Self.write(Self.synthetic(), as: .gif, loop: 5)
        let source = try Self.frames(gif)
        let loop = try AnimationReader(gif).loopCount
        #expect(source.count == 8 && loop == 5)
        let webp = try Converter(options: ConvertOptions(format: .webp)).convert(gif)
        #expect(webp.lossless && webp.frameCount == 8)
        let back = try Converter(options: ConvertOptions(format: .gif)).convert(webp.bytes)
        for bytes in [webp.bytes, back.bytes] {
            let reader = try AnimationReader(bytes)
            #expect(reader.frameCount == 8 && reader.loopCount == 5 && reader.durationsMs == source.map(\.durationMs))
            let frames = try Self.frames(bytes)
            for (k, frame) in frames.enumerated() { #expect(Self.firstDifference(frame.image, source[k].image) == nil, "frame \(k)") }
        }
    }

    @Test func eachFrameIsResizedOnItsOwn() throws {
        let gif = try Self.write(Self.synthetic(), as: .gif, loop: 0)
        var options = ConvertOptions(format: .webp, resize: try ResizeGeometry(parsing: "12x8!"))
        options.encode.lossless = true
        let converted = try Converter(options: options).convert(gif)
        #expect(converted.width == 12 && converted.height == 8 && converted.frameCount == 8)
        let out = try Self.frames(converted.bytes)
        let source = try Self.frames(gif)
        #expect(out.count == 8)
        for (k, frame) in out.enumerated() {
            #expect(frame.image.width == 12 && frame.image.height == 8)
            let expected = source[k].image.resized(width: 12, height: 8, options: options.resampling, kernel: .selected)
            // Lossless WebP keeps every visible sample; hidden colours may differ.
            #expect(Self.firstDifference(frame.image, expected) == nil, "frame \(k)")
        }
    }

    @Test func frameSelection() throws {
        let gif = try Self.write(Self.synthetic(), as: .gif, loop: 0)
        let source = try Self.frames(gif)
        var options = ConvertOptions(format: .gif, frames: .range(2...4))
        let sub = try Converter(options: options).convert(gif)
        let frames = try Self.frames(sub.bytes)
        #expect(sub.frameCount == 3 && frames.count == 3 && frames.map(\.durationMs) == [40, 50, 60])
        for k in 0..<3 { #expect(Self.firstDifference(frames[k].image, source[k + 2].image) == nil) }
        // One frame: a still image of that frame.
        options.format = .png
        options.frames = .range(5...5)
        let still = try Converter(options: options).convert(gif)
        #expect(still.frameCount == 1)
        let stillImage = try ImageDecoder.decode(still.bytes).image.converted(to: .rgba8)
        #expect(Self.firstDifference(stillImage, source[5].image) == nil)
        // automatic into JPEG (which cannot animate): the first frame; all into JPEG, a range into
        // JPEG, or past the end: refused.
        options.format = .jpeg
        options.frames = .automatic
        #expect(try Converter(options: options).convert(gif).frameCount == 1)
        for frames in [FrameSelection.all, .range(1...2), .range(8...9)] {
            options.frames = frames
            #expect(throws: DarkroomError.self) { try Converter(options: options).convert(gif) }
        }
        // Parsing.
        #expect(try FrameSelection(parsing: "all") == .all && (try FrameSelection(parsing: "FIRST")) == .first)
        #expect(try FrameSelection(parsing: "3") == .range(3...3) && (try FrameSelection(parsing: "2-5")) == .range(2...5))
        for bad in ["", "-1", "5-2", "x", "1-2-3", "1.5", "99999999"] {
            #expect(throws: DarkroomError.self) { try FrameSelection(parsing: bad) }
        }
    }

    /// `--max-bytes` with an animated output: one quality for every frame, the highest that fits
    /// (the next one up does not), the output still animated; GIF is one encode.
    @Test func aByteTargetSearchesOneQualityForAllFrames() throws {
        // Six 128 × 85 frames of a photo, each shifted 8 px: a lossless WebP animation.
        let photo = try ImageDecoder.decode(try TestImages.bytes("kodim23.jpg")).image
            .resized(width: 128, height: 85, options: ResizeOptions(), kernel: .selected).converted(to: .rgba8)
        let frames: [(Image, Int)] = (0..<6).map { k in
            var image = Image(unchecked: 128, height: 85, format: .rgba8)
            for y in 0..<85 {
                for x in 0..<128 {
                    let from = (y * 128 + (x + 8 * k) % 128) * 4, to = (y * 128 + x) * 4
                    image.pixels[to..<to + 4] = photo.pixels[from..<from + 4]
                }
            }
            return (image, 80)
        }
        let source = try Self.write(frames, as: .webp, loop: 0)
        func size(_ quality: Int) throws -> Int {
            try Converter(options: ConvertOptions(format: .webp, quality: quality)).convert(source).bytes.count
        }
        let (low, high) = (try size(30), try size(100))
        #expect(low < high)
        var options = ConvertOptions(format: .webp)
        options.targetSize = TargetSize(maxBytes: (low + high) / 2)
        let result = try Converter(options: options).convert(source)
        let outcome = try #require(result.targetSize)
        let quality = try #require(outcome.quality)
        #expect(outcome.met && result.bytes.count <= (low + high) / 2)
        #expect(try result.frameCount == 6 && AnimationReader(result.bytes).frameCount == 6)
        #expect(try result.bytes == Converter(options: ConvertOptions(format: .webp, quality: quality)).convert(source).bytes)
        #expect(try quality == 100 || size(quality + 1) > (low + high) / 2, "q\(quality)")
        #expect(outcome.attempts.count > 1 && outcome.attempts.count <= TargetSize.maxAttempts)
        // GIF: one encode, met or not, no quality.
        var gif = ConvertOptions(format: .gif)
        gif.targetSize = TargetSize(maxBytes: 1)
        let one = try Converter(options: gif).convert(source)
        #expect(one.targetSize?.met == false && one.targetSize?.quality == nil && one.targetSize?.attempts.count == 1)
        #expect(one.frameCount == 6)
    }

    @Test func framesTimesPixelsCountAgainstTheLimit() throws {
        // 8 frames of 24x16 = 3072 px.
        let gif = try Self.write(Self.synthetic(), as: .gif, loop: 0)
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 24, height: 128, limit: 3000))) {
            try AnimationReader(gif, options: DecodeOptions(maxPixels: 3000))
        }
        var options = ConvertOptions(format: .webp)
        options.decode.maxPixels = 3000
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 24, height: 128, limit: 3000))) {
            try Converter(options: options).convert(gif)
        }
        options.decode.maxPixels = 3072
        #expect(try Converter(options: options).convert(gif).frameCount == 8)
        // The still path (first frame) needs only one frame's pixels.
        options.decode.maxPixels = 400
        options.format = .jpeg
        #expect(try Converter(options: options).convert(gif).frameCount == 1)
    }

    @Test func gifWriterMarksUnchangedPixelsAndClearsForNewTransparency() throws {
        // Frame 1 changes one pixel: it is written as that 1x1 rectangle over a kept canvas. Frame 3
        // turns an opaque pixel, (0, 0), transparent, which cannot be drawn over a kept canvas:
        // frame 2 (its change at (1, 1)) is written over its rectangle grown to cover (0, 0), with
        // disposal 2 (clear to transparent), and frame 3 redraws only the opaque pixels of that
        // cleared 2x2 square — not the whole canvas.
        var a = Image(unchecked: 4, height: 4, format: .rgba8, pixels: [UInt8](repeating: 255, count: 64))
        for i in 0..<16 { a.pixels[i * 4 + 1] = 0 }   // magenta
        var b = a
        b.pixels[(2 * 4 + 2) * 4 ..< (2 * 4 + 2) * 4 + 4] = [0, 0, 255, 255]
        var b2 = b
        b2.pixels[(1 * 4 + 1) * 4 ..< (1 * 4 + 1) * 4 + 4] = [0, 0, 255, 255]
        var c = b2
        c.pixels[3] = 0
        let gif = try Self.write([(a, 100), (b, 100), (b2, 100), (c, 100)], as: .gif, loop: 0)
        let frames = try Self.frames(gif)
        #expect(frames.count == 4)
        for (k, image) in [a, b, b2, c].enumerated() { #expect(Self.firstDifference(frames[k].image, image) == nil, "frame \(k)") }
        let scan = try GIFDecoder.scan(gif)
        let rects = scan.frames.map { [$0.left, $0.top, $0.width, $0.height, $0.disposal] }
        #expect(rects == [[0, 0, 4, 4, 1], [2, 2, 1, 1, 1], [0, 0, 2, 2, 2], [0, 0, 2, 2, 1]])
        #expect(scan.netscapeLoops == 0)
        // One play writes no loop extension; two plays write 1.
        #expect(try GIFDecoder.scan(Self.write([(a, 100), (b, 100)], as: .gif, loop: 1)).netscapeLoops == nil)
        #expect(try GIFDecoder.scan(Self.write([(a, 100), (b, 100)], as: .gif, loop: 2)).netscapeLoops == 1)
    }

    @Test func ditheredGIFDoesNotFlickerWhereNothingChanged() throws {
        // A smooth gradient (thousands of colours, dithered) with a box that moves: every pixel
        // given unchanged is shown unchanged, and the later frames are small rectangles.
        let a = TestImages.gradient(width: 64, height: 48, alpha: false).converted(to: .rgba8)
        var b = a
        for y in 10..<14 { for x in 20..<26 { b.pixels[(y * 64 + x) * 4 ..< (y * 64 + x) * 4 + 4] = [0, 0, 0, 255] } }
        let writer = try AnimationWriter(format: .gif, width: 64, height: 48, loopCount: 0,
                                         options: EncodeOptions(dither: true), lossless: false, embedding: .none)
        for image in [a, b, a] { try writer.add(image, durationMs: 100) }
        let gif = try writer.finish()
        let f = try Self.frames(gif)
        #expect(f.count == 3)
        var changed = 0
        for y in 0..<48 {
            for x in 0..<64 where !(10..<14).contains(y) || !(20..<26).contains(x) {
                if Self.pixel(f[0].image, x, y) != Self.pixel(f[1].image, x, y) || Self.pixel(f[1].image, x, y) != Self.pixel(f[2].image, x, y) {
                    changed += 1
                }
            }
        }
        #expect(changed == 0)
        let scan = try GIFDecoder.scan(gif)
        #expect(scan.frames[1].width <= 6 && scan.frames[1].height <= 4)
    }

    @Test func exactFramesStayExactWithSmallTables() throws {
        // 300 frames of 16x16: a grey background, and a 4x4 square of a new colour in each frame
        // (300 colours in all, at most 2 in any frame). Every frame comes back exactly; each frame
        // that adds a colour writes its own 4-entry table, not the 256 entries of the colours so far.
        var frames: [(Image, Int)] = []
        for k in 0..<300 {
            var image = Image(unchecked: 16, height: 16, format: .rgba8, pixels: [UInt8](repeating: 128, count: 16 * 16 * 4))
            for i in 0..<256 { image.pixels[i * 4 + 3] = 255 }
            for y in 6..<10 {
                for x in 6..<10 {
                    let o = (y * 16 + x) * 4
                    image.pixels[o] = UInt8(k % 256); image.pixels[o + 1] = UInt8((k * 7) % 256); image.pixels[o + 2] = UInt8(k / 256 * 100)
                }
            }
            frames.append((image, 40))
        }
        let gif = try Self.write(frames, as: .gif, loop: 0)
        let decoded = try Self.frames(gif)
        #expect(decoded.count == 300)
        for (k, frame) in decoded.enumerated() { #expect(Self.firstDifference(frame.image, frames[k].0) == nil, "frame \(k)") }
        #expect(gif.count < 20_000, "\(gif.count) bytes")
    }

    @Test func gifDelaysFromMilliseconds() {
        // ms → 1/100 s: rounded, at least 2; 10 ms or less is what browsers show for it, 100 ms.
        let cases = [(0, 10), (10, 10), (14, 2), (20, 2), (25, 3), (100, 10), (1234, 123)]
        for (ms, cs) in cases { #expect(GIFDelay.centiseconds(milliseconds: ms) == cs, "\(ms) ms") }
    }

    // MARK: Against Pillow

    static let python = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/darkroom-peers/bin/python").path
    static var hasPillow: Bool {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", "import PIL"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Corpus animations whose frames Pillow composites as browsers do (Pillow fills disposal 2
    /// with the background colour, browsers and gif2webp with transparency: files with disposal 2
    /// are compared on frame counts, durations and loops only).
    static let corpusAnimations = [
        "conform/gif/libvips/cogs.gif", "conform/gif/pillow/dispose_prev.gif", "conform/gif/pillow/dispose_none.gif",
        "conform/gif/wuffs/muybridge.gif", "conform/gif/image-rs/any-disposal.gif", "conform/gif/image-rs/mixed-disposal.gif",
        "conform/gif/wuffs/animated-red-blue.gif", "conform/gif/pygif-suite/dispose-restore-previous.gif",
        "conform/gif/pillow/dispose_bgnd.gif", "conform/webp/image-rs/anim.webp",
    ]

    @Test(.enabled(if: TestSupport.hasCorpus && AnimationTests.hasPillow,
                   "Pillow (~/.cache/darkroom-peers/bin/python) or ../shared/corpus missing: frames not compared with Pillow"))
    func framesMatchPillowsReadingOfTheSource() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for path in Self.corpusAnimations {
            let input = TestSupport.corpus.appendingPathComponent(path)
            let bytes = [UInt8](try Data(contentsOf: input))
            let hasBackgroundDisposal = try bytes.format == .gif && GIFDecoder.scan(bytes).frames.contains { $0.disposal == 2 }
            for format in [ImageFormat.webp, .gif, .png] {
                var options = ConvertOptions(format: format)
                options.encode.lossless = true
                let converted = try Converter(options: options).convert(bytes)
                let output = dir.appendingPathComponent("out.\(format.rawValue)")
                try Data(converted.bytes).write(to: output)
                let report = try Self.pillowCompare(input.path, output.path)
                let frames = try #require(report["frames"] as? [Int])
                let durations = try #require(report["durations"] as? [[Any]])
                let loops = try #require(report["loop"] as? [Any])
                let source = try AnimationReader(bytes)
                #expect(frames[1] == source.frameCount, "\(path) → \(format): frames \(frames)")
                // Pillow's durations as stored (GIF 0 and 10 ms are shown as 100 ms).
                let stored = durations[1].map { ($0 as? Int) ?? -1 }
                #expect(stored == source.durationsMs, "\(path) → \(format): durations \(stored) vs \(source.durationsMs)")
                // Pillow's loop: GIF NETSCAPE value (nil = play once), WebP plays.
                let outLoop = loops[1] as? Int
                let plays = format == .gif ? (outLoop.map { $0 == 0 ? 0 : $0 + 1 } ?? 1) : (outLoop ?? -1)
                #expect(plays == source.loopCount, "\(path) → \(format): loop \(String(describing: outLoop))")
                if !hasBackgroundDisposal {
                    let diff = try #require(report["max_diff"] as? [Int])
                    let mismatched = try #require(report["mismatched"] as? [Int])
                    let psnr = try #require(report["psnr"] as? [Double])
                    let what = "\(path) → \(format): max diff per frame \(diff), alpha mismatches \(mismatched), PSNR \(psnr)"
                    #expect(mismatched.allSatisfy { $0 == 0 }, "\(what)")
                    if format == .webp || format == .png {
                        // Lossless WebP and APNG of composited frames: exact.
                        #expect(diff.allSatisfy { $0 == 0 }, "\(what)")
                    } else if bytes.format == .gif {
                        // GIF → GIF: exact while a frame has at most 255 colours; a frame with all
                        // 256 loses one to the transparent index (the nearest colour replaces it).
                        #expect(diff.allSatisfy { $0 <= 16 } && psnr.allSatisfy { $0 >= 40 }, "\(what)")
                    } else {
                        // Thousands of colours into 255, dithered: PSNR, not the largest difference.
                        #expect(psnr.allSatisfy { $0 >= 28 }, "\(what)")
                    }
                }
            }
        }
    }

    static func pillowCompare(_ source: String, _ output: String) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [TestSupport.packageRoot.appendingPathComponent("scripts/anim-compare.py").path, source, output]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

private extension Array where Element == UInt8 {
    var format: ImageFormat? { ImageFormat.sniff(self) }
}
