import Foundation
import Testing
@testable import Darkroom

/// The pure-Swift GIF decoder on hand-built files (exact pixels and exact errors), and against the
/// pygif suite's reference frames.
@Suite struct GIFDecoderTests {
    // MARK: Building test files

    /// A GIF LZW encoder for test streams. Its code width follows the decoder's table (one entry
    /// behind the encoder's). With `clearWhenFull: false` it keeps sending 12-bit codes once the
    /// 4096-entry table is full, without a clear code ("deferred clear").
    static func lzw(_ indices: [Int], minCodeSize: Int, clearWhenFull: Bool = true, endOfInformation: Bool = true) -> [UInt8] {
        lzwStream(indices, minCodeSize: minCodeSize, clearWhenFull: clearWhenFull, endOfInformation: endOfInformation).bytes
    }

    /// The stream, and how many codes were sent while the decoder's table was full.
    static func lzwStream(_ indices: [Int], minCodeSize: Int, clearWhenFull: Bool,
                          endOfInformation: Bool = true) -> (bytes: [UInt8], codesWhileFull: Int) {
        let clear = 1 << minCodeSize
        var codesWhileFull = 0
        var out: [UInt8] = []
        var bits = 0, bitCount = 0, width = minCodeSize + 1
        func put(_ code: Int) {
            bits |= code << bitCount
            bitCount += width
            while bitCount >= 8 { out.append(UInt8(bits & 0xFF)); bits >>= 8; bitCount -= 8 }
        }
        var table: [Int: Int] = [:]      // prefix code << 12 | byte → code
        var next = clear + 2, decoderNext = clear + 2, afterClear = true
        func emit(_ code: Int) {
            put(code)
            if afterClear { afterClear = false; return }
            if decoderNext == 4096 { codesWhileFull += 1 }
            if decoderNext < 4096 {
                decoderNext += 1
                if decoderNext >= 1 << width && width < 12 { width += 1 }
            }
        }
        put(clear)
        if var w = indices.first {
            for k in indices.dropFirst() {
                if let code = table[w << 12 | k] { w = code; continue }
                emit(w)
                if next < 4096 {
                    table[w << 12 | k] = next
                    next += 1
                } else if clearWhenFull {
                    put(clear)
                    width = minCodeSize + 1; table = [:]; next = clear + 2; decoderNext = clear + 2; afterClear = true
                }
                w = k
            }
            emit(w)
        }
        if endOfInformation { put(clear + 1) }
        if bitCount > 0 { out.append(UInt8(bits & 0xFF)) }
        return (out, codesWhileFull)
    }

    /// Data split into sub-blocks of at most 255 bytes, with the zero-length terminator.
    static func subBlocks(_ data: [UInt8], terminated: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < data.count {
            let n = min(255, data.count - i)
            out.append(UInt8(n))
            out += data[i..<i + n]
            i += n
        }
        return terminated ? out + [0] : out
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }

    /// A colour table's packed-field size bits and its bytes, padded to a power of two.
    static func table(_ colors: [[UInt8]]) -> (bits: UInt8, bytes: [UInt8]) {
        var bits = 0
        while (2 << bits) < colors.count { bits += 1 }
        let padded = colors + Array(repeating: [0, 0, 0], count: (2 << bits) - colors.count)
        return (UInt8(bits), padded.flatMap { $0 })
    }

    static func file(width: Int, height: Int, palette: [[UInt8]]?, _ blocks: [UInt8], trailer: Bool = true) -> [UInt8] {
        var out = Array("GIF89a".utf8) + le16(width) + le16(height)
        if let palette {
            let t = table(palette)
            out += [0x80 | t.bits, 0, 0] + t.bytes
        } else {
            out += [0, 0, 0]
        }
        return out + blocks + (trailer ? [0x3B] : [])
    }

    static func image(left: Int = 0, top: Int = 0, width: Int, height: Int, interlaced: Bool = false,
                      palette: [[UInt8]]? = nil, minCodeSize: Int = 2, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x2C] + le16(left) + le16(top) + le16(width) + le16(height)
        var packed: UInt8 = interlaced ? 0x40 : 0
        var local: [UInt8] = []
        if let palette {
            let t = table(palette)
            packed |= 0x80 | t.bits
            local = t.bytes
        }
        out += [packed] + local + [UInt8(minCodeSize)]
        return out + subBlocks(data)
    }

    static func graphicControl(transparent: Int?) -> [UInt8] {
        [0x21, 0xF9, 4, transparent == nil ? 0 : 1, 0, 0, UInt8(transparent ?? 0), 0]
    }

    static let fourColors: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]

    static func decode(_ bytes: [UInt8], maxPixels: Int = 1 << 24) throws -> RawDecode {
        try GIFCodec.decode(bytes, maxPixels: maxPixels)
    }

    static func failure(_ message: String) -> DarkroomError { .decoding(.codec(.gif, message: message)) }

    // MARK: Pixels

    @Test func twoByTwoWithGlobalPalette() throws {
        let gif = Self.file(width: 2, height: 2, palette: Self.fourColors,
                            Self.image(width: 2, height: 2, data: Self.lzw([0, 1, 2, 3], minCodeSize: 2)))
        let raw = try Self.decode(gif)
        #expect(raw.image.format == .rgb8)
        #expect(raw.image.pixels == [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        #expect(raw.metadata.frameCount == 1)
        let header = try GIFCodec.readHeader(gif)
        #expect(header.width == 2 && header.height == 2)
    }

    @Test func localTableWinsAndGrayRampWithoutAny() throws {
        let local = Self.file(width: 2, height: 1, palette: Self.fourColors,
                              Self.image(width: 2, height: 1, palette: [[1, 2, 3], [4, 5, 6]],
                                         data: Self.lzw([1, 0], minCodeSize: 2)))
        #expect(try Self.decode(local).image.pixels == [4, 5, 6, 1, 2, 3])
        let gray = Self.file(width: 2, height: 1, palette: nil,
                             Self.image(width: 2, height: 1, minCodeSize: 8, data: Self.lzw([0, 200], minCodeSize: 8)))
        #expect(try Self.decode(gray).image.pixels == [0, 0, 0, 200, 200, 200])
    }

    @Test func interlacedRowsLandInPlace() throws {
        // 1x10: stream order is rows 0, 8 | 4 | 2, 6 | 1, 3, 5, 7, 9; each row's index is its number.
        let order = [0, 8, 4, 2, 6, 1, 3, 5, 7, 9]
        let palette = (0..<10).map { [UInt8($0 * 10), 0, 0] }
        let gif = Self.file(width: 1, height: 10, palette: palette,
                            Self.image(width: 1, height: 10, interlaced: true, minCodeSize: 4,
                                       data: Self.lzw(order, minCodeSize: 4)))
        let image = try Self.decode(gif).image
        #expect(image.format == .rgb8)
        let reds: [UInt8] = stride(from: 0, to: 30, by: 3).map { image.pixels[$0] }
        let expected: [UInt8] = (0..<10).map { UInt8($0 * 10) }
        #expect(reds == expected)
    }

    @Test func transparencyIndexGivesRGBA() throws {
        let gif = Self.file(width: 2, height: 2, palette: Self.fourColors,
                            Self.graphicControl(transparent: 1)
                                + Self.image(width: 2, height: 2, data: Self.lzw([0, 1, 2, 1], minCodeSize: 2)))
        let raw = try Self.decode(gif)
        #expect(raw.image.format == .rgba8)
        #expect(raw.image.pixels == [255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0, 0, 0])
    }

    @Test func transparencyAppliesToTheNextImageOnly() throws {
        // A GCE with the flag off leaves the frame opaque; a later frame's GCE does not matter.
        let gif = Self.file(width: 1, height: 1, palette: Self.fourColors,
                            Self.graphicControl(transparent: nil)
                                + Self.image(width: 1, height: 1, data: Self.lzw([1], minCodeSize: 2))
                                + Self.graphicControl(transparent: 1)
                                + Self.image(width: 1, height: 1, data: Self.lzw([1], minCodeSize: 2)))
        let raw = try Self.decode(gif)
        #expect(raw.image.format == .rgb8)
        #expect(raw.image.pixels == [0, 255, 0])
        #expect(raw.metadata.frameCount == 2)
    }

    @Test func firstFrameBeyondTheScreenGrowsTheCanvas() throws {
        // A 3x3 frame at (2, 1) on a 3x3 screen: the canvas grows to 5x4 to show all of it
        // (Wuffs' default, which Chrome uses, and Pillow), and the header says so.
        let gif = Self.file(width: 3, height: 3, palette: Self.fourColors,
                            Self.image(left: 2, top: 1, width: 3, height: 3,
                                       data: Self.lzw([0, 3, 3, 1, 3, 3, 2, 3, 3], minCodeSize: 2)))
        let image = try Self.decode(gif).image
        #expect(image.format == .rgba8 && image.width == 5 && image.height == 4)
        let header = try GIFCodec.readHeader(gif)
        #expect(header.width == 5 && header.height == 4)
        var expected = [UInt8](repeating: 0, count: 5 * 4 * 4)
        let rows: [[[UInt8]]] = [[[255, 0, 0], [255, 255, 255], [255, 255, 255]], [[0, 255, 0], [255, 255, 255], [255, 255, 255]],
                                 [[0, 0, 255], [255, 255, 255], [255, 255, 255]]]
        for (y, row) in rows.enumerated() {
            for (x, c) in row.enumerated() {
                let o = ((1 + y) * 5 + 2 + x) * 4
                expected[o..<o + 4] = ArraySlice(c + [255])
            }
        }
        #expect(image.pixels == expected)
    }

    @Test func laterFrameIsClippedToTheCanvas() throws {
        // A second 3x3 frame at (2, 1) on a 3x3 canvas: only its first column of its first two
        // rows shows (the canvas keeps the first frame's size, as Chrome does).
        let gif = Self.file(width: 3, height: 3, palette: Self.fourColors,
                            Self.graphicControl(transparent: 3)
                                + Self.image(width: 1, height: 1, data: Self.lzw([3], minCodeSize: 2))
                                + Self.image(left: 2, top: 1, width: 3, height: 3,
                                             data: Self.lzw([0, 3, 3, 1, 3, 3, 2, 3, 3], minCodeSize: 2)))
        let reader = try AnimationReader(gif)
        #expect(reader.width == 3 && reader.height == 3 && reader.frameCount == 2)
        _ = try reader.next()
        let image = try #require(try reader.next()).image
        var expected = [UInt8](repeating: 0, count: 36)
        expected[(1 * 3 + 2) * 4..<(1 * 3 + 2) * 4 + 4] = [255, 0, 0, 255]
        expected[(2 * 3 + 2) * 4..<(2 * 3 + 2) * 4 + 4] = [0, 255, 0, 255]
        #expect(image.pixels == expected)
    }

    @Test func hugeFrameExtentsAreNotAllocated() throws {
        // A 60000x60000 first frame on a 2x2 screen makes a 3.6-gigapixel canvas: refused by the
        // pixel limit before anything is allocated.
        let rows = [Int](repeating: 1, count: 60000) + [Int](repeating: 2, count: 60000)
        let gif = Self.file(width: 2, height: 2, palette: Self.fourColors,
                            Self.image(width: 60000, height: 60000, data: Self.lzw(rows, minCodeSize: 2, endOfInformation: false)))
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 60000, height: 60000, limit: 100))) {
            try Self.decode(gif, maxPixels: 100)
        }
        // As a later frame it is clipped: decoding stops once the two visible rows are done.
        let later = Self.file(width: 2, height: 2, palette: Self.fourColors,
                              Self.image(width: 2, height: 2, data: Self.lzw([0, 0, 0, 0], minCodeSize: 2))
                                + Self.image(width: 60000, height: 60000, data: Self.lzw(rows, minCodeSize: 2, endOfInformation: false)))
        let reader = try AnimationReader(later, options: DecodeOptions(maxPixels: 100))
        _ = try reader.next()
        let second = try #require(try reader.next())
        #expect(second.image.pixels == [0, 255, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 255, 255])
    }

    @Test func kwkwkCode() throws {
        // Codes (3 bits): clear 4, literal 1, 6 = the entry being defined ("1 1"), end 5.
        let gif = Self.file(width: 3, height: 1, palette: Self.fourColors,
                            Self.image(width: 3, height: 1, data: [0x8C, 0x0B]))
        #expect(try Self.decode(gif).image.pixels == [0, 255, 0, 0, 255, 0, 0, 255, 0])
    }

    /// 64x80 indices with some repetition, so the table fills and its entries are used.
    static let busyIndices: [Int] = {
        var state: UInt32 = 12345
        return (0..<64 * 80).map { i in
            state = state &* 1_103_515_245 &+ 12345
            return i % 7 == 0 ? Int(state >> 16) & 0xFF : (i / 3) & 0x0F
        }
    }()

    @Test(arguments: [true, false])
    func fullTableWithAndWithoutClear(clearWhenFull: Bool) throws {
        let palette = (0..<256).map { [UInt8($0), UInt8(255 - $0), 7] }
        let data = Self.lzw(Self.busyIndices, minCodeSize: 8, clearWhenFull: clearWhenFull)
        let gif = Self.file(width: 64, height: 80, palette: palette,
                            Self.image(width: 64, height: 80, minCodeSize: 8, data: data))
        let image = try Self.decode(gif).image
        #expect(image.pixels == Self.busyIndices.flatMap { palette[$0] })
    }

    @Test func deferredClearKeepsTheFullTable() throws {
        // Noisy 8-bit indices fill the table; then 12-bit codes go on with no clear code, and
        // entries defined before the table filled keep their meaning.
        var state: UInt32 = 99
        let pixels = (0..<100 * 80).map { _ in
            state = state &* 1_103_515_245 &+ 12345
            return Int(state >> 16) & 0xFF
        }
        let stream = Self.lzwStream(pixels, minCodeSize: 8, clearWhenFull: false)
        #expect(stream.codesWhileFull > 1000)
        let palette = (0..<256).map { [UInt8($0), 0, UInt8(255 - $0)] }
        let gif = Self.file(width: 100, height: 80, palette: palette,
                            Self.image(width: 100, height: 80, minCodeSize: 8, data: stream.bytes))
        let image = try Self.decode(gif).image
        #expect(image.pixels == pixels.flatMap { palette[$0] })
    }

    @Test func minimumCodeSizesOneAndEleven() throws {
        let one = Self.file(width: 4, height: 1, palette: [[0, 0, 0], [255, 255, 255]],
                            Self.image(width: 4, height: 1, minCodeSize: 1, data: Self.lzw([1, 0, 1, 1], minCodeSize: 1)))
        #expect(try Self.decode(one).image.pixels == [255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 255])
        let eleven = Self.file(width: 4, height: 1, palette: Self.fourColors,
                               Self.image(width: 4, height: 1, minCodeSize: 11, data: Self.lzw([3, 2, 1, 0], minCodeSize: 11)))
        #expect(try Self.decode(eleven).image.pixels == [255, 255, 255, 0, 0, 255, 0, 255, 0, 255, 0, 0])
    }

    @Test func extraDataAndTrailingGarbageAreIgnored() throws {
        // Five pixels for a 2x2 frame, no trailer, then garbage.
        let gif = Self.file(width: 2, height: 2, palette: Self.fourColors,
                            Self.image(width: 2, height: 2, data: Self.lzw([0, 1, 2, 3, 3], minCodeSize: 2))
                                + [0x99, 0x01, 0x02], trailer: false)
        #expect(try Self.decode(gif).image.pixels == [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
    }

    // MARK: Truncation and errors

    @Test func truncatedAfterTheFirstRowKeepsIt() throws {
        // 2x2; the data ends (no end code, no terminator, no trailer) after row 0 and one pixel of row 1.
        // Minimum code size 3: four 4-bit codes (clear, 0, 1, 2) fill exactly two bytes.
        let data = Self.lzw([0, 1, 2], minCodeSize: 3, endOfInformation: false)
        let bytes = Self.file(width: 2, height: 2, palette: Self.fourColors, [], trailer: false)
            + [0x2C] + Self.le16(0) + Self.le16(0) + Self.le16(2) + Self.le16(2) + [0, 3]
            + Self.subBlocks(data, terminated: false)
        let raw = try Self.decode(bytes)
        #expect(raw.image.format == .rgba8)   // the last pixel was never reached: transparent
        #expect(raw.image.pixels == [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 0, 0, 0, 0])
    }

    @Test func truncatedFirstRowIsAnError() throws {
        // Minimum code size 3: four 4-bit codes (clear, 0, 1, 2) fill exactly two bytes.
        let data = Self.lzw([0, 1, 2], minCodeSize: 3, endOfInformation: false)
        let bytes = Self.file(width: 4, height: 2, palette: Self.fourColors, [], trailer: false)
            + [0x2C] + Self.le16(0) + Self.le16(0) + Self.le16(4) + Self.le16(2) + [0, 3]
            + Self.subBlocks(data, terminated: false)
        #expect(throws: Self.failure("the first frame's image data ends before its first row")) { try Self.decode(bytes) }
        #expect(data.count == 2)
        let cut = Array(bytes.prefix(bytes.count - data.count - 3))   // inside the image descriptor
        #expect(throws: Self.failure("truncated image descriptor")) { try Self.decode(cut) }
        let noData = Self.file(width: 4, height: 2, palette: Self.fourColors, [], trailer: false)
            + [0x2C] + Self.le16(0) + Self.le16(0) + Self.le16(4) + Self.le16(2) + [0]
        #expect(throws: Self.failure("the first frame has no image data")) { try Self.decode(noData) }
    }

    @Test func invalidStreamsGiveTypedErrors() throws {
        let tiny = Self.lzw([0], minCodeSize: 2)
        #expect(throws: Self.failure("invalid LZW minimum code size 12")) {
            try Self.decode(Self.file(width: 1, height: 1, palette: Self.fourColors,
                                      Self.image(width: 1, height: 1, minCodeSize: 12, data: tiny)))
        }
        #expect(throws: Self.failure("invalid LZW minimum code size 0")) {
            try Self.decode(Self.file(width: 1, height: 1, palette: Self.fourColors,
                                      Self.image(width: 1, height: 1, minCodeSize: 0, data: tiny)))
        }
        // Codes (3 bits): clear 4, then 7, which is not defined yet.
        #expect(throws: Self.failure("invalid LZW code in the first frame")) {
            try Self.decode(Self.file(width: 1, height: 1, palette: Self.fourColors,
                                      Self.image(width: 1, height: 1, data: [0x3C])))
        }
        #expect(throws: Self.failure("frame has a zero side")) {
            try Self.decode(Self.file(width: 1, height: 1, palette: Self.fourColors,
                                      Self.image(width: 0, height: 1, data: tiny)))
        }
        #expect(throws: Self.failure("no image in the file")) {
            try Self.decode(Self.file(width: 1, height: 1, palette: Self.fourColors, []))
        }
        #expect(throws: Self.failure("unknown block type 0x0 before the first image")) {
            try Self.decode(Self.file(width: 1, height: 1, palette: Self.fourColors, [0, 0, 0, 0]))
        }
        #expect(throws: Self.failure("truncated global colour table")) {
            try Self.decode(Array(Self.file(width: 1, height: 1, palette: Self.fourColors, []).prefix(20)))
        }
        #expect(throws: Self.failure("truncated logical screen descriptor")) { try GIFCodec.readHeader(Array("GIF89a\u{1}".utf8)) }
        #expect(throws: DarkroomError.decoding(.invalidDimensions(width: 0, height: 1))) {
            try Self.decode(Self.file(width: 0, height: 1, palette: nil, Self.image(width: 1, height: 1, data: tiny)))
        }
    }

    @Test func pixelLimitIsCheckedFirst() {
        // 65535x65535 with no image data at all: the limit answers before anything else is read.
        let gif = Self.file(width: 65535, height: 65535, palette: nil, [], trailer: false)
        #expect(throws: DarkroomError.decoding(.tooManyPixels(width: 65535, height: 65535, limit: 1_000_000))) {
            try Self.decode(gif, maxPixels: 1_000_000)
        }
    }

    @Test func endlessEmptyBlocksTerminate() throws {
        // Extensions made only of empty blocks, then the data simply ends: an error, not a hang.
        let run = [UInt8](repeating: 0, count: 100_000)
        let gif = Self.file(width: 1, height: 1, palette: nil, [0x21, 0xFE] + run, trailer: false)
        #expect(throws: Self.failure("unknown block type 0x0 before the first image")) { try Self.decode(gif) }
        let onlyExtensions = Self.file(width: 1, height: 1, palette: nil,
                                       Array([[UInt8]](repeating: [0x21, 0xFE, 0], count: 20_000).joined()), trailer: false)
        #expect(throws: Self.failure("the data ends before the first image")) { try Self.decode(onlyExtensions) }
    }

    // MARK: Corpus references

    /// GIFs with a PNG of their first frame, and an interlaced file against its non-interlaced twin.
    /// (bricks-gray.png carries gAMA 1.0, which the PNG decoder applies; the hippopotamus "masked"
    /// PNG is a different picture, not that GIF's decode.)
    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"),
          arguments: [
              ("conform/gif/wuffs/bricks-dither.gif", "conform/gif/wuffs/bricks-dither.png"),
              ("conform/gif/wuffs/bricks-nodither.gif", "conform/gif/wuffs/bricks-nodither.png"),
              ("crossformat/wuffs/hippopotamus.interlaced.gif", "crossformat/wuffs/hippopotamus.regular.gif"),
          ])
    func matchesCorpusReference(gif: String, reference: String) throws {
        // The references' stored values, without gAMA/ICC conversion.
        let options = DecodeOptions(maxPixels: Corpus.maxPixels, applyOrientation: false, convertToSRGB: false)
        let decoded = try ImageDecoder.decode(try #require(Corpus.read(gif)), options: options).image
        let expected = try ImageDecoder.decode(try #require(Corpus.read(reference)), options: options).image
        let got = decoded.converted(to: .rgba8).pixels, want = expected.converted(to: .rgba8).pixels
        // Compare counts, not the arrays: a failing #expect would print every byte.
        let differing = zip(got, want).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        let same = differing.isEmpty
        #expect(got.count == want.count)
        #expect(same, "\(differing.count) bytes differ, first at \(differing.prefix(8)): \(differing.prefix(8).map { (got[$0], want[$0]) })")
    }

    // MARK: pygif suite references

    /// Files whose `.conf` lists exactly one frame drawn from a single image block: the decoded
    /// RGBA must equal the reference `.rgba` (raw RGBA of the logical screen).
    @Test(.enabled(if: TestSupport.hasCorpus, "../shared/corpus is absent"))
    func matchesPygifReferences() throws {
        let folder = "conform/gif/pygif-suite"
        let names = try FileManager.default.contentsOfDirectory(atPath: TestSupport.corpus.appendingPathComponent(folder).path)
        var compared = 0
        var failures: [String] = []
        for conf in names.sorted() where conf.hasSuffix(".conf") {
            guard let text = Corpus.read("\(folder)/\(conf)").map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            var values: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2 { values[parts[0]] = parts[1] }
            }
            guard values["frames"] == "frame0", let input = values["input"], let pixels = values["pixels"],
                  let gif = Corpus.read("\(folder)/\(input)"), let reference = Corpus.read("\(folder)/\(pixels)") else { continue }
            let expected = Corpus.rows.first { $0.path == "\(folder)/\(input)" }?.expected
            let raw: RawDecode
            do {
                raw = try GIFCodec.decode(gif, maxPixels: Corpus.maxPixels)
            } catch {
                if expected == "decode-ok" { failures.append("\(input): \(error)") }
                continue
            }
            guard raw.metadata.frameCount == 1 else { continue }   // several image blocks make that frame
            var rgba = raw.image.converted(to: .rgba8)
            // A first frame beyond the logical screen grows the canvas right and down (Wuffs'
            // default, Chrome, Pillow); pygif clips it: compare the screen's part.
            let screen = (width: Int(gif[6]) | Int(gif[7]) << 8, height: Int(gif[8]) | Int(gif[9]) << 8)
            if rgba.width > screen.width || rgba.height > screen.height {
                let rows = (0..<screen.height).flatMap { y in rgba.pixels[(y * rgba.width * 4)..<(y * rgba.width + screen.width) * 4] }
                rgba = Image(unchecked: screen.width, height: screen.height, format: .rgba8, pixels: Array(rows))
            }
            compared += 1
            if rgba.pixels != reference {
                let differing = zip(rgba.pixels, reference).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                failures.append("\(input): differs from \(pixels) (sizes \(rgba.pixels.count)/\(reference.count), first byte \(differing ?? -1))")
            }
        }
        print("pygif references: \(compared) compared, \(failures.count) failed")
        #expect(compared >= 40)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
