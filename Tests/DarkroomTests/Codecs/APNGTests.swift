import Foundation
import Testing
@testable import Darkroom

/// Animated PNG reading: the chunk walk (sequence numbers, frame rectangles, the default image,
/// `num_frames`, cut files, CRCs) on hand-built files, compositing (dispose NONE/BACKGROUND/
/// PREVIOUS, blend SOURCE/OVER) with exact expected pixels, delays, `num_plays`, damage under
/// each `failOn`; and every APNG of the corpus against Pillow's reading of it.
@Suite struct APNGTests {
    // MARK: Building APNGs

    /// A chunk: length, type, data, CRC.
    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        APNGScan.append(chunk: type, data[...], to: &out)
        return out
    }

    static func be32(_ v: Int) -> [UInt8] { APNGScan.bytes32(v) }
    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    /// The IDAT payload of `rgba` (`width × height` straight RGBA8) as libpng compresses it.
    static func compressed(_ rgba: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let png = try PNGCodec.encode(Image(unchecked: width, height: height, format: .rgba8, pixels: rgba), icc: nil, exif: nil)
        var out: [UInt8] = []
        var pos = 8
        while pos + 12 <= png.count {
            let length = APNGScan.be32(png, pos)
            if APNGScan.type(png, pos) == "IDAT" { out += png[(pos + 8)..<(pos + 8 + length)] }
            pos += length + 12
        }
        return out
    }

    /// One frame of a hand-built APNG.
    struct Frame {
        var x = 0, y = 0, width: Int, height: Int
        var rgba: [UInt8]
        var delay = (10, 100)
        var dispose: UInt8 = 0
        var blend: UInt8 = 0
    }

    static func fcTL(_ sequence: Int, _ f: Frame) -> [UInt8] {
        chunk("fcTL", be32(sequence) + be32(f.width) + be32(f.height) + be32(f.x) + be32(f.y)
                  + be16(f.delay.0) + be16(f.delay.1) + [f.dispose, f.blend])
    }

    /// An RGBA APNG of `frames` on a `width × height` canvas: the first frame is the IDAT image
    /// unless `defaultImage` is given (an IDAT image that is no frame); `plays` in acTL.
    static func apng(width: Int, height: Int, frames: [Frame], plays: Int = 0, declared: Int? = nil,
                     defaultImage: [UInt8]? = nil) throws -> [UInt8] {
        var out = APNGScan.signature
        out += chunk("IHDR", be32(width) + be32(height) + [8, 6, 0, 0, 0])
        out += chunk("acTL", be32(declared ?? frames.count) + be32(plays))
        var sequence = 0
        var rest = frames[...]
        if let defaultImage {
            out += chunk("IDAT", try compressed(defaultImage, width: width, height: height))
        } else {
            let first = rest.removeFirst()
            out += fcTL(sequence, first)
            sequence += 1
            out += chunk("IDAT", try compressed(first.rgba, width: first.width, height: first.height))
        }
        for frame in rest {
            out += fcTL(sequence, frame)
            sequence += 1
            out += chunk("fdAT", be32(sequence) + (try compressed(frame.rgba, width: frame.width, height: frame.height)))
            sequence += 1
        }
        out += chunk("IEND", [])
        return out
    }

    static func solid(_ colour: [UInt8], _ width: Int, _ height: Int) -> [UInt8] {
        (0..<(width * height)).flatMap { _ in colour }
    }

    static let red: [UInt8] = [255, 0, 0, 255], green: [UInt8] = [0, 255, 0, 255], blue: [UInt8] = [0, 0, 255, 255]
    static let clear: [UInt8] = [0, 0, 0, 0]

    static func frames(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) throws -> [AnimationFrame] {
        try AnimationTests.frames(bytes, options: options)
    }

    static func pixel(_ image: Image, _ x: Int, _ y: Int) -> [UInt8] { AnimationTests.pixel(image, x, y) }

    // MARK: Compositing

    /// A 4x4 red IDAT frame, a 2x2 blue frame at (1, 1) with `dispose`, then a 1x1 green frame at (0, 0).
    static func disposalFile(_ dispose: UInt8) throws -> [UInt8] {
        try apng(width: 4, height: 4, frames: [
            Frame(width: 4, height: 4, rgba: solid(red, 4, 4), delay: (1, 10)),
            Frame(x: 1, y: 1, width: 2, height: 2, rgba: solid(blue, 2, 2), delay: (2, 10), dispose: dispose),
            Frame(width: 1, height: 1, rgba: green, delay: (3, 10)),
        ])
    }

    @Test(arguments: [(UInt8(0), "none"), (1, "background"), (2, "previous")])
    func dispose(_ op: UInt8, _ name: String) throws {
        let f = try Self.frames(try Self.disposalFile(op))
        #expect(f.count == 3 && f.map(\.durationMs) == [100, 200, 300])
        #expect(Self.pixel(f[1].image, 1, 1) == Self.blue && Self.pixel(f[1].image, 0, 0) == Self.red)
        // Frame 2: green at (0, 0); the square kept, cleared to transparent black, or restored to red.
        #expect(Self.pixel(f[2].image, 0, 0) == Self.green)
        let expected = name == "none" ? Self.blue : name == "background" ? Self.clear : Self.red
        #expect(Self.pixel(f[2].image, 1, 1) == expected && Self.pixel(f[2].image, 2, 2) == expected, "\(name)")
        #expect(Self.pixel(f[2].image, 3, 3) == Self.red && Self.pixel(f[2].image, 0, 3) == Self.red)
    }

    @Test func previousOnTheFirstFrameActsAsBackground() throws {
        // The first frame (the IDAT image) with dispose PREVIOUS: cleared to transparent black
        // before the second, which covers only (0, 0).
        let file = try Self.apng(width: 2, height: 2, frames: [
            Frame(width: 2, height: 2, rgba: Self.solid(Self.red, 2, 2), dispose: 2),
            Frame(width: 1, height: 1, rgba: Self.green),
        ])
        let f = try Self.frames(file)
        #expect(Self.pixel(f[1].image, 0, 0) == Self.green && Self.pixel(f[1].image, 1, 1) == Self.clear)
    }

    @Test func blendOverIsStraightAlphaOver() throws {
        // Over an opaque pixel, over a half-transparent one, over a transparent one; a
        // transparent source leaves the canvas; SOURCE replaces alpha too.
        let base: [UInt8] = [0, 0, 0, 255] + [255, 0, 0, 128] + [0, 0, 0, 0] + [10, 20, 30, 255]
        let top: [UInt8] = [0, 0, 255, 128] + [0, 0, 255, 128] + [0, 0, 255, 128] + [99, 99, 99, 0]
        for blend in [UInt8(1), 0] {
            let file = try Self.apng(width: 4, height: 1, frames: [
                Frame(width: 4, height: 1, rgba: base), Frame(width: 4, height: 1, rgba: top, blend: blend),
            ])
            let f = try Self.frames(file)
            let px = (0..<4).map { Self.pixel(f[1].image, $0, 0) }
            if blend == 1 {
                // αo = αs + αd(1 − αs); colour = (Cs·αs + Cd·αd(1 − αs)) / αo, rounded.
                // (1): u = 128·255 = 32640, v = 127·128 = 16256: R = 255·16256/48896 = 84.8 → 85,
                // B = 255·32640/48896 = 170.2 → 170, α = 48896/255 = 191.7 → 192.
                #expect(px == [[0, 0, 128, 255], [85, 0, 170, 192], [0, 0, 255, 128], [10, 20, 30, 255]], "\(px)")
            } else {
                #expect(px == [[0, 0, 255, 128], [0, 0, 255, 128], [0, 0, 255, 128], Self.clear], "\(px)")
            }
        }
    }

    @Test func defaultImageIsSkipped() throws {
        // The IDAT image (white) has no fcTL before it: the animation is the two fdAT frames.
        let white: [UInt8] = [255, 255, 255, 255]
        let file = try Self.apng(width: 2, height: 1, frames: [
            Frame(width: 1, height: 1, rgba: Self.red), Frame(x: 1, width: 1, height: 1, rgba: Self.blue),
        ], defaultImage: Self.solid(white, 2, 1))
        let reader = try AnimationReader(file)
        #expect(reader.frameCount == 2)
        let f = try Self.frames(file)
        // Frame 0 is drawn on transparent black, not on the default image.
        #expect(Self.pixel(f[0].image, 0, 0) == Self.red && Self.pixel(f[0].image, 1, 0) == Self.clear)
        #expect(Self.pixel(f[1].image, 1, 0) == Self.blue)
        // A still decode gives the IDAT image, as a PNG decoder without APNG shows it.
        let still = try ImageDecoder.decode(file).image.converted(to: .rgba8)
        #expect(Self.pixel(still, 0, 0) == white)
        // One frame that is not the IDAT image: a conversion shows that frame, not the default image.
        let one = try Self.apng(width: 1, height: 1, frames: [Frame(width: 1, height: 1, rgba: Self.green)],
                                defaultImage: white)
        #expect(try AnimationReader(one).frameCount == 1)
        let jpeg = try Converter(options: ConvertOptions(format: .png)).convert(one)
        #expect(Self.pixel(try ImageDecoder.decode(jpeg.bytes).image.converted(to: .rgba8), 0, 0) == Self.green)
    }

    // MARK: Timing and loop

    @Test func delays() throws {
        // num/den s, den 0 meaning 100, rounded to the ms; 10 ms or less shows for 100 ms.
        let cases: [((Int, Int), Int)] = [((0, 0), 100), ((1, 0), 100), ((1, 100), 100), ((3, 200), 15), ((1, 3), 333),
                                          ((2, 3), 667), ((11, 1000), 11), ((65535, 1), 65_535_000), ((65535, 65535), 1000)]
        for ((num, den), ms) in cases {
            #expect(APNGScan.durationMilliseconds(numerator: num, denominator: den) == ms, "\(num)/\(den)")
        }
        let frames = cases.prefix(5).map { Frame(width: 1, height: 1, rgba: Self.red, delay: $0.0) }
        let reader = try AnimationReader(try Self.apng(width: 1, height: 1, frames: frames))
        #expect(reader.durationsMs == [100, 100, 100, 15, 333] && reader.totalDurationMs == 648)
    }

    @Test(arguments: [0, 1, 5])
    func numPlaysIsPlays(_ plays: Int) throws {
        let file = try Self.apng(width: 1, height: 1, frames: [Frame(width: 1, height: 1, rgba: Self.red),
                                                               Frame(width: 1, height: 1, rgba: Self.blue)], plays: plays)
        #expect(try AnimationReader(file).loopCount == plays)
        let inspection = try ImageInspection.inspect(file)
        #expect(inspection.frameCount == 2 && inspection.loopCount == plays && inspection.durationMs == 200 && !inspection.isDamaged)
    }

    // MARK: Damage

    /// Four 2x2 frames, each another colour, each a full-canvas fdAT after the IDAT frame.
    static func fourFrames() throws -> [UInt8] {
        try apng(width: 2, height: 2, frames: [red, green, blue, [9, 9, 9, 255]].map { Frame(width: 2, height: 2, rgba: solid($0, 2, 2)) })
    }

    /// The offset of the `n`th chunk of `type` in `bytes`.
    static func offset(of type: String, _ n: Int = 0, in bytes: [UInt8]) -> Int {
        var pos = 8, seen = 0
        while pos + 12 <= bytes.count {
            if APNGScan.type(bytes, pos) == type {
                if seen == n { return pos }
                seen += 1
            }
            pos += APNGScan.be32(bytes, pos) + 12
        }
        return -1
    }

    @Test func cutFileKeepsTheWholeFramesUnderFailOnNone() throws {
        let whole = try Self.fourFrames()
        #expect(try AnimationReader(whole).frameCount == 4)
        // Cut inside the third frame's fdAT: frames 1 and 2 are whole, the third may go on.
        let cut = Array(whole.prefix(Self.offset(of: "fdAT", 1, in: whole) + 20))
        for failOn in [FailOn.truncated, .warning] {
            #expect(throws: DarkroomError.self) { try AnimationReader(cut, options: DecodeOptions(failOn: failOn)) }
            do { _ = try AnimationReader(cut, options: DecodeOptions(failOn: failOn)) } catch {
                guard case let .decoding(.damaged(.png, warning, policy)) = error else { Issue.record("\(error)"); continue }
                #expect(policy == failOn && warning.kind == .truncated && warning.message.contains("needs"), "\(warning)")
            }
            // A still output refuses it too (the conversion checks the animation's damage).
            var options = ConvertOptions(format: .jpeg)
            options.decode.failOn = failOn
            #expect(throws: DarkroomError.self) { try Converter(options: options).convert(cut) }
        }
        let reader = try AnimationReader(cut, options: DecodeOptions(failOn: .none))
        #expect(reader.frameCount == 2 && reader.warnings.map(\.kind) == [.truncated])
        let f = try Self.frames(cut, options: DecodeOptions(failOn: .none))
        #expect(f.count == 2 && Self.pixel(f[1].image, 1, 1) == Self.green)
        let inspection = try ImageInspection.inspect(cut)
        #expect(inspection.frameCount == 2 && inspection.damage.contains { $0.message.hasPrefix("APNG:") })
        // Cut between two chunks (before the third fcTL's successor): the frame there is not counted either.
        let atBoundary = Array(whole.prefix(Self.offset(of: "fcTL", 3, in: whole)))
        #expect(try AnimationReader(atBoundary, options: DecodeOptions(failOn: .none)).frameCount == 2)
    }

    @Test func brokenAnimationChunksEndTheAnimationThere() throws {
        let whole = try Self.fourFrames()
        // Each break lands in the third frame (fcTL 2): two frames are kept.
        let fcTL = Self.offset(of: "fcTL", 2, in: whole)
        func patched(_ at: Int, _ bytes: [UInt8], fixCRC: Bool = true) -> [UInt8] {
            var out = whole
            out.replaceSubrange(at..<(at + bytes.count), with: bytes)
            if fixCRC {
                let length = APNGScan.be32(out, fcTL)
                let crc = APNGScan.crc(out, fcTL + 4, length + 4)
                out.replaceSubrange((fcTL + 8 + length)..<(fcTL + 12 + length), with: APNGScan.bytes32(Int(crc)))
            }
            return out
        }
        let cases: [(String, [UInt8], String)] = [
            ("a sequence number off by one", patched(fcTL + 8, Self.be32(5)), "sequence number 5, 3 expected"),
            ("a frame wider than the canvas", patched(fcTL + 12, Self.be32(3)), "is not inside the 2x2 canvas"),
            ("a width of 2^32 - 1", patched(fcTL + 12, [0xFF, 0xFF, 0xFF, 0xFF]), "is not inside"),
            ("an x offset of 2^32 - 1", patched(fcTL + 20, [0xFF, 0xFF, 0xFF, 0xFF]), "is not inside"),
            ("a zero height", patched(fcTL + 16, Self.be32(0)), "is not inside"),
            ("dispose_op 3", patched(fcTL + 32, [3]), "dispose_op 3"),
            ("blend_op 2", patched(fcTL + 33, [2]), "blend_op 2"),
            ("a bad fcTL CRC", patched(fcTL + 32, [1], fixCRC: false), "CRC mismatch in chunk 'fcTL'"),
        ]
        for (what, file, message) in cases {
            #expect(throws: DarkroomError.self, "\(what)") { try AnimationReader(file) }
            let reader = try AnimationReader(file, options: DecodeOptions(failOn: .none))
            #expect(reader.frameCount == 2, "\(what): \(reader.frameCount) frames, \(reader.warnings)")
            #expect(reader.warnings.count == 1 && reader.warnings[0].kind == .truncated
                    && reader.warnings[0].message.contains(message), "\(what): \(reader.warnings)")
            #expect(try Self.frames(file, options: DecodeOptions(failOn: .none)).count == 2, "\(what)")
        }
    }

    @Test func corruptFrameDataIsAWarningWhenRead() throws {
        let whole = try Self.fourFrames()
        // The second frame's fdAT: its compressed data replaced by bytes zlib refuses, CRC fixed.
        let fdAT = Self.offset(of: "fdAT", 0, in: whole)
        let length = APNGScan.be32(whole, fdAT)
        var bad = whole
        for i in (fdAT + 12)..<(fdAT + 8 + length) { bad[i] = 0xAB }
        let crc = APNGScan.crc(bad, fdAT + 4, length + 4)
        bad.replaceSubrange((fdAT + 8 + length)..<(fdAT + 12 + length), with: APNGScan.bytes32(Int(crc)))
        // Opening is fine (the structure is intact); reading frame 2 is the damage.
        let strict = try AnimationReader(bad)
        #expect(strict.frameCount == 4)
        _ = try strict.next()
        #expect(throws: DarkroomError.self) { try strict.next() }
        let lenient = try AnimationReader(bad, options: DecodeOptions(failOn: .none))
        var frames: [AnimationFrame] = []
        while let f = try lenient.next() { frames.append(f) }
        #expect(frames.count == 4 && lenient.warnings.count == 1 && lenient.warnings[0].kind == .truncated)
        #expect(lenient.warnings[0].message.hasPrefix("APNG frame 2:"), "\(lenient.warnings)")
        // Blend SOURCE of an undecodable frame: its rectangle is transparent black.
        #expect(Self.pixel(frames[1].image, 0, 0) == Self.clear && Self.pixel(frames[2].image, 0, 0) == Self.blue)
        // A bad CRC on the data alone: decoded as it is, and said.
        var crcOnly = whole
        crcOnly[fdAT + 8 + length] ^= 0xFF
        let reader = try AnimationReader(crcOnly, options: DecodeOptions(failOn: .none))
        var k = 0
        while let f = try reader.next() { if k == 1 { #expect(Self.pixel(f.image, 1, 1) == Self.green) }; k += 1 }
        #expect(reader.warnings.map(\.message) == ["APNG frame 2: CRC mismatch in chunk 'fdAT' at offset \(fdAT)"])
    }

    @Test func unusableAnimationControlReadsAsAStill() throws {
        let whole = try Self.fourFrames()
        let acTL = Self.offset(of: "acTL", in: whole)
        func withFrames(_ value: [UInt8]) -> [UInt8] {
            var out = whole
            out.replaceSubrange((acTL + 8)..<(acTL + 12), with: value)
            let crc = APNGScan.crc(out, acTL + 4, 12)
            out.replaceSubrange((acTL + 16)..<(acTL + 20), with: APNGScan.bytes32(Int(crc)))
            return out
        }
        // num_frames 0 or over 2^31 − 1: a still PNG (its IDAT image), as browsers and Pillow show it.
        for value in [Self.be32(0), [0x80, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF]] {
            let reader = try AnimationReader(withFrames(value))
            #expect(reader.frameCount == 1 && reader.loopCount == 0)
            #expect(Self.pixel(try #require(try reader.next()).image, 0, 0) == Self.red)
        }
        // num_frames smaller than the frames: the first num_frames, and a warning (not a truncation).
        let fewer = try AnimationReader(withFrames(Self.be32(3)))
        #expect(fewer.frameCount == 3 && fewer.warnings.map(\.kind) == [.warning])
        #expect(throws: DarkroomError.self) { try AnimationReader(withFrames(Self.be32(3)), options: DecodeOptions(failOn: .warning)) }
        // Larger: the frames there are.
        let more = try AnimationReader(withFrames(Self.be32(9)))
        #expect(more.frameCount == 4 && more.warnings.map(\.kind) == [.warning])
    }

    @Test func hostileLengthsEndTheWalk() throws {
        let whole = try Self.fourFrames()
        // A chunk length of 2^31 and one of 2^32 − 1 in the middle of the file: the walk stops there.
        let fdAT = Self.offset(of: "fdAT", 1, in: whole)
        for length in [[UInt8(0x80), 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF]] {
            var file = whole
            file.replaceSubrange(fdAT..<(fdAT + 4), with: length)
            let reader = try AnimationReader(file, options: DecodeOptions(failOn: .none))
            #expect(reader.frameCount == 2 && reader.warnings.first?.kind == .truncated)
        }
        // Every prefix of the file opens or is refused with a typed error: no trap.
        for n in stride(from: 0, through: whole.count, by: 3) {
            let prefix = Array(whole.prefix(n))
            _ = APNGScan(prefix)
            if let reader = try? AnimationReader(prefix, options: DecodeOptions(failOn: .none)) {
                while (try? reader.next()) != nil {}
            }
        }
    }

    @Test func mutatedFilesNeverTrap() throws {
        // 3,000 copies of a small APNG with 1–8 bytes overwritten (lengths, sequence numbers,
        // rectangles, delays, ops, data) and 500 cut at random: each opens and reads every frame,
        // or throws a typed error, through the fuzz target's own entry point.
        let whole = try Self.fourFrames()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % n
        }
        var opened = 0
        for k in 0..<3500 {
            var file = whole
            if k < 3000 {
                for _ in 0...next(8) { file[8 + next(file.count - 8)] = UInt8(next(256)) }
            } else {
                file = Array(file.prefix(next(file.count)))
            }
            do {
                try FuzzHarness.animation(file)
                opened += 1
            } catch is DarkroomError {
            } catch {
                Issue.record("untyped error \(error)")
            }
        }
        // Most mutations land in compressed data or CRCs and still open (read as damaged or a still).
        #expect(opened > 1000, "\(opened)")
    }

    @Test func framesTimesCanvasCountAgainstThePixelLimit() throws {
        let file = try Self.fourFrames()   // 4 frames of 2x2 = 16 px
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 2, height: 8, limit: 15))) {
            try AnimationReader(file, options: DecodeOptions(maxPixels: 15))
        }
        #expect(try AnimationReader(file, options: DecodeOptions(maxPixels: 16)).frameCount == 4)
    }

    // MARK: Conversions

    @Test func apngConvertsFrameByFrame() throws {
        let file = try Self.disposalFile(2)
        var options = ConvertOptions(format: .webp)
        options.encode.lossless = true
        let webp = try Converter(options: options).convert(file)
        #expect(webp.frameCount == 3 && webp.source.frameCount == 3 && webp.source.loopCount == 0)
        let source = try Self.frames(file), out = try Self.frames(webp.bytes)
        #expect(out.map(\.durationMs) == [100, 200, 300])
        for k in 0..<3 { #expect(AnimationTests.firstDifference(out[k].image, source[k].image) == nil, "frame \(k)") }
        // --frames: one frame as a still, a range as an animation.
        options.frames = .range(1...1)
        let one = try Converter(options: options).convert(file)
        #expect(one.frameCount == 1)
        #expect(AnimationTests.firstDifference(try ImageDecoder.decode(one.bytes).image.converted(to: .rgba8), source[1].image) == nil)
        options.frames = .range(1...2)
        let two = try Converter(options: options).convert(file)
        let durations = try AnimationReader(two.bytes).durationsMs
        #expect(two.frameCount == 2 && durations == [200, 300])
    }

    // MARK: Writing

    @Test(arguments: [0, 1, 3])
    func writtenAPNGKeepsFramesDurationsLoopAndPixels(_ plays: Int) throws {
        let source = AnimationTests.synthetic()
        let png = try AnimationTests.write(source, as: .png, loop: plays)
        let scan = try #require(APNGScan(png))
        #expect(scan.damage.isEmpty && scan.declaredFrames == 8 && scan.plays == plays && scan.defaultImageIsFrame)
        let reader = try AnimationReader(png)
        #expect(reader.format == .png && reader.frameCount == 8 && reader.loopCount == plays)
        #expect(reader.durationsMs == source.map(\.1))
        var k = 0
        while let frame = try reader.next() {
            #expect(AnimationTests.firstDifference(frame.image, source[k].0) == nil, "frame \(k)")
            k += 1
        }
        #expect(k == 8 && reader.warnings.isEmpty)
        // A PNG decoder without APNG shows the first frame (the IDAT image is part of the animation).
        let still = try ImageDecoder.decode(png).image.converted(to: .rgba8)
        #expect(AnimationTests.firstDifference(still, source[0].0) == nil)
    }

    @Test func writerDrawsOnlyTheChangedRectangle() throws {
        // Frame 1 changes one pixel, frame 2 nothing, frame 3 turns a pixel transparent.
        var a = Image(unchecked: 4, height: 4, format: .rgba8, pixels: Self.solid(Self.red, 4, 4))
        a.pixels[0..<4] = [1, 2, 3, 255]
        var b = a
        b.pixels[(2 * 4 + 1) * 4 ..< (2 * 4 + 1) * 4 + 4] = [0, 0, 255, 255]
        var d = b
        d.pixels[(3 * 4 + 3) * 4 ..< (3 * 4 + 3) * 4 + 4] = [0, 0, 0, 0]
        let png = try AnimationTests.write([(a, 100), (b, 250), (b, 5), (d, 70_000)], as: .png, loop: 0)
        let scan = try #require(APNGScan(png))
        #expect(scan.frames.map { [$0.x, $0.y, $0.width, $0.height] } == [[0, 0, 4, 4], [1, 2, 1, 1], [0, 0, 1, 1], [3, 3, 1, 1]])
        // A 1x1 rectangle has no unchanged pixel to mask: SOURCE.
        #expect(scan.frames.allSatisfy { $0.dispose == .none && $0.blend == .source })
        // Delays: ms/1000; 10 ms or less as 100 ms; over 65,535 ms in 1/100 s.
        #expect(scan.frames.map { [$0.delayNumerator, $0.delayDenominator] } == [[100, 1000], [250, 1000], [100, 1000], [7000, 100]])
        let f = try Self.frames(png)
        for (k, image) in [a, b, b, d].enumerated() { #expect(AnimationTests.firstDifference(f[k].image, image) == nil, "frame \(k)") }
        #expect(f.map(\.durationMs) == [100, 250, 100, 70_000])
    }

    @Test func opaqueChangesOverNoiseAreBlendedOver() throws {
        // A 16x16 canvas of noise; frame 1 changes two opaque corners, frame 2 makes one
        // transparent. Frame 1 masked (unchanged pixels transparent, blend OVER) is far smaller
        // than the noise; frame 2 needs SOURCE. Both are shown exactly.
        var state: UInt32 = 12345
        let noise = (0..<(16 * 16)).flatMap { _ -> [UInt8] in
            state = state &* 1_103_515_245 &+ 12345
            return [UInt8(state >> 24), UInt8(state >> 16 & 0xFF), UInt8(state >> 8 & 0xFF), 255]
        }
        let a = Image(unchecked: 16, height: 16, format: .rgba8, pixels: noise)
        var b = a
        b.pixels[0..<4] = [1, 2, 3, 255]
        b.pixels[(255 * 4)..<(256 * 4)] = [4, 5, 6, 255]
        var c = b
        c.pixels[0..<4] = [0, 0, 0, 0]
        let png = try AnimationTests.write([(a, 100), (b, 100), (c, 100)], as: .png, loop: 0)
        let scan = try #require(APNGScan(png))
        #expect(scan.frames.map(\.blend) == [.source, .over, .source])
        #expect(scan.frames.map { [$0.x, $0.y, $0.width, $0.height] } == [[0, 0, 16, 16], [0, 0, 16, 16], [0, 0, 1, 1]])
        let f = try Self.frames(png)
        for (k, image) in [a, b, c].enumerated() { #expect(AnimationTests.firstDifference(f[k].image, image) == nil, "frame \(k)") }
    }

    @Test func delaysFromMilliseconds() {
        let cases: [(Int, (Int, Int))] = [(0, (100, 1000)), (10, (100, 1000)), (11, (11, 1000)), (65535, (65535, 1000)),
                                          (65536, (6554, 100)), (655_350, (65535, 100)), (655_351, (655, 1)),
                                          (Int(Int32.max), (65535, 1))]
        for (ms, expected) in cases {
            let d = APNGAnimWriter.delay(milliseconds: ms)
            #expect(d.numerator == expected.0 && d.denominator == expected.1, "\(ms) ms: \(d)")
        }
    }

    @Test func keptProfileAndEXIFPrecedeTheImageData() throws {
        let profile = ColorManagement.sRGBProfile()
        var metadata = ImageMetadata(sourceFormat: .png, storedWidth: 2, storedHeight: 2, storedBitDepth: 8)
        metadata.iccProfile = profile
        let writer = try AnimationWriter(format: .png, width: 2, height: 2, loopCount: 0,
                                         options: EncodeOptions(keep: .icc), lossless: true,
                                         embedding: ImageEncoder.outputMetadata(.rgba8, width: 2, height: 2, as: .png, metadata: metadata,
                                                                                keep: .icc))
        try writer.add(Image(unchecked: 2, height: 2, format: .rgba8, pixels: Self.solid(Self.red, 2, 2)), durationMs: 100)
        try writer.add(Image(unchecked: 2, height: 2, format: .rgba8, pixels: Self.solid(Self.blue, 2, 2)), durationMs: 100)
        let png = try writer.finish()
        let iccp = Self.offset(of: "iCCP", in: png), acTL = Self.offset(of: "acTL", in: png), idat = Self.offset(of: "IDAT", in: png)
        #expect(iccp > 0 && acTL > 0 && iccp < idat && acTL < idat)
        #expect(try ImageInspection.inspect(png).metadata.icc)
        #expect(try AnimationReader(png).metadata.iccProfile == profile)
    }

    @Test func animationsConvertToAPNG() throws {
        // GIF → APNG → GIF, and a WebP → APNG: frames, durations, loop and pixels kept.
        let gif = try AnimationTests.write(AnimationTests.synthetic(), as: .gif, loop: 4)
        let source = try Self.frames(gif)
        let png = try Converter(options: ConvertOptions(format: .png)).convert(gif)
        #expect(png.format == .png && png.frameCount == 8)
        let back = try Converter(options: ConvertOptions(format: .gif)).convert(png.bytes)
        for bytes in [png.bytes, back.bytes] {
            let reader = try AnimationReader(bytes)
            #expect(reader.frameCount == 8 && reader.loopCount == 4 && reader.durationsMs == source.map(\.durationMs))
            for (k, frame) in try Self.frames(bytes).enumerated() {
                #expect(AnimationTests.firstDifference(frame.image, source[k].image) == nil, "frame \(k)")
            }
        }
        // Resized frame by frame into APNG.
        let small = try Converter(options: ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "12x8!"))).convert(gif)
        #expect(small.width == 12 && small.height == 8 && small.frameCount == 8)
        let out = try Self.frames(small.bytes)
        for k in 0..<8 {
            let expected = source[k].image.resized(width: 12, height: 8, options: ConvertOptions().resampling, kernel: .selected)
            #expect(AnimationTests.firstDifference(out[k].image, expected) == nil, "frame \(k)")
        }
    }

    // MARK: Against Pillow

    /// Writes the frames Darkroom reads from `bytes` into `folder` for scripts/anim-compare.py.
    static func dump(_ bytes: [UInt8], to folder: URL, options: DecodeOptions) throws -> AnimationReader {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let reader = try AnimationReader(bytes, options: options)
        var k = 0
        var durations: [Int] = []
        while let frame = try reader.next() {
            try Data(frame.image.pixels).write(to: folder.appendingPathComponent("\(k).rgba"))
            durations.append(frame.durationMs)
            k += 1
        }
        let meta: [String: Any] = ["width": reader.width, "height": reader.height, "durations": durations, "loop": reader.loopCount]
        try JSONSerialization.data(withJSONObject: meta).write(to: folder.appendingPathComponent("frames.json"))
        return reader
    }

    /// Where Pillow 13 blends differently (each is checked against the specification's result
    /// in ``pillowBlendsOverDifferently()``): its blend_op OVER mixes alpha like a colour
    /// (`αs² + αd(1 − αs)`), and in palette mode copies the frame's pixels. So a partly transparent
    /// frame over an opaque canvas comes out partly transparent in Pillow, opaque in browsers and
    /// Darkroom.
    static let pillowOverDiffers: Set<String> = [
        "blend_op_over_near_transparent.png", "mode_16bit.png", "mode_grayscale_alpha.png", "mode_palette_1bit_alpha.png",
    ]

    /// Files Pillow refuses to read to the end (an APNG error after frame k): Darkroom refuses
    /// them under the default `failOn` and, with `none`, keeps the frames before the error, which
    /// are Pillow's frames. The value is the warning kind (acTL declaring more frames than the
    /// file holds is no truncation: every frame there is whole).
    static let pillowStops: [String: DecodeWarning.Kind] = [
        "chunk_no_fctl.png": .truncated, "chunk_no_fdat.png": .truncated, "chunk_repeat_fctl.png": .truncated,
        "sequence_fdat_fctl.png": .truncated, "sequence_gap.png": .truncated, "sequence_reorder.png": .truncated,
        "sequence_reorder_chunk.png": .truncated, "sequence_repeat.png": .truncated,
        "sequence_repeat_chunk.png": .truncated, "sequence_start.png": .truncated,
        "syntax_num_frames_high.png": .warning,
    ]

    /// Every APNG of the corpus (the APNG test suite's cases in Pillow, Wuffs' skipped default
    /// image) read by ``AnimationReader`` and compared with Pillow's reading, frame by frame:
    /// frame count, durations (Pillow's stored values with the 10 ms rule applied), loop and
    /// every pixel, exactly — except where Pillow blends OVER differently (``pillowOverDiffers``,
    /// where the opaque pixels must still match) or stops at an error (``pillowStops``).
    @Test(.enabled(if: TestSupport.hasCorpus && AnimationTests.hasPillow,
                   "Pillow (~/.cache/darkroom-peers/bin/python) or ../shared/corpus missing: APNG frames not compared with Pillow"))
    func corpusFramesMatchPillow() throws {
        let dir = try TestSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = TestSupport.corpus.appendingPathComponent("conform/png/apng")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".png") }.sorted()
        #expect(names.count == 55)
        var compared = 0
        for name in names {
            let input = folder.appendingPathComponent(name)
            let bytes = [UInt8](try Data(contentsOf: input))
            if name == "syntax_num_frames_zero.png" {
                // acTL with 0 frames and no image data at all: nothing to show (Pillow refuses it too).
                #expect(throws: DarkroomError.self) { try AnimationReader(bytes, options: DecodeOptions(failOn: .none)) }
                continue
            }
            if let kind = Self.pillowStops[name] {
                do {
                    let reader = try AnimationReader(bytes)
                    while try reader.next() != nil {}
                    #expect(kind == .warning && reader.warnings.map(\.kind) == [.warning], "\(name)")
                } catch {
                    guard case let .decoding(.damaged(.png, warning, .truncated)) = error else {
                        Issue.record("\(name): \(error)"); continue
                    }
                    #expect(kind == .truncated && warning.kind == .truncated, "\(name): \(warning)")
                }
            }
            let out = dir.appendingPathComponent(name)
            let reader = try Self.dump(bytes, to: out, options: DecodeOptions(failOn: .none))
            let report = try AnimationTests.pillowCompare(input.path, out.path)
            let frames = try #require(report["frames"] as? [Int])
            let what = "\(name): \(report)"
            if Self.pillowStops[name] != nil {
                // Pillow's frames before its error are Darkroom's (a default image is shown when none is left).
                #expect(frames[1] == max(1, frames[0]), "\(what)")
            } else {
                #expect(frames[0] == frames[1], "\(what)")
                // acTL declaring fewer frames than the file has: Pillow and Darkroom show num_frames of them.
                let expected: [DecodeWarning.Kind] = name == "syntax_num_frames_low.png" ? [.warning] : []
                #expect(reader.warnings.map(\.kind) == expected, "\(name): \(reader.warnings)")
            }
            let diff = try #require(report["max_diff"] as? [Int])
            let psnr = try #require(report["psnr"] as? [Double])
            let mismatched = try #require(report["mismatched"] as? [Int])
            #expect(psnr.allSatisfy { $0 == 99 }, "\(what)")
            if Self.pillowOverDiffers.contains(name) {
                #expect(diff.contains { $0 > 0 }, "\(name) matches Pillow now: take it off pillowOverDiffers")
            } else {
                #expect(diff.allSatisfy { $0 == 0 } && mismatched.allSatisfy { $0 == 0 }, "\(what)")
            }
            if reader.frameCount > 1 || reader.totalDurationMs > 0 {
                // An animation (not a still read as one frame): durations and loop as Pillow's.
                let durations = try #require(report["durations"] as? [[Any]])
                let expected = durations[0].map { ($0 as? Double).map { APNGScan.durationMilliseconds(numerator: Int($0), denominator: 1000) } ?? -1 }
                #expect(reader.durationsMs.prefix(expected.count) == expected[...], "\(what)")
                let loops = try #require(report["loop"] as? [Any])
                #expect(loops[0] as? Int == reader.loopCount, "\(what)")
            }
            if reader.frameCount > 1 {
                // Written back as APNG, read by Pillow: Darkroom's frames, durations and loop exactly.
                var options = ConvertOptions(format: .png)
                options.decode.failOn = .none
                let written = dir.appendingPathComponent("written-" + name)
                try Data(try Converter(options: options).convert(bytes).bytes).write(to: written)
                let back = try AnimationTests.pillowCompare(written.path, out.path)
                let what = "\(name) written as APNG: \(back)"
                #expect((back["frames"] as? [Int]) == [reader.frameCount, reader.frameCount], "\(what)")
                #expect((back["max_diff"] as? [Int])?.allSatisfy { $0 == 0 } == true, "\(what)")
                let durations = try #require(back["durations"] as? [[Any]])
                #expect(durations[0].map { ($0 as? Double).map { Int($0) } ?? -1 } == reader.durationsMs, "\(what)")
                #expect((back["loop"] as? [Any])?.first as? Int == reader.loopCount, "\(what)")
            }
            compared += 1
        }
        #expect(compared == 54)
    }
}
