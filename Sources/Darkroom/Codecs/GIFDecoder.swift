/// A small pure-Swift GIF reader: the logical screen, a scan of every block (frames, graphic
/// control, loop count, where the file is cut) and each frame drawn onto a canvas
/// (``GIFFrames`` composites them in order).
///
/// It replaces giflib's decoder (giflib still encodes), which rejects files that Pillow and
/// browsers decode: giflib 5.2.1 refuses an LZW minimum code size above 8 with a bogus "Failed to
/// read from given file". The LZW decoder here also keeps going with 12-bit codes once the
/// 4096-entry table is full and no clear code comes ("deferred clear").
///
/// Every read is bounds-checked against the byte array and always moves forward, so hostile input
/// ends in a `DarkroomError`, never a trap or a hang. Nothing larger than the canvas (checked
/// against the pixel limit first), the joined LZW data of one frame, one frame row and the
/// 4096-entry table is allocated; a frame's declared extents are clipped to the canvas.
struct GIFDecoder {
    /// The first frame on the logical screen, as straight RGBA.
    struct Result {
        var width: Int
        var height: Int
        var rgba: [UInt8]
        /// No transparency index on the first frame, which covers the whole canvas and was decoded
        /// to the end (a truncated frame leaves transparent rows).
        var isOpaque: Bool
        /// Frames whose image data is all in the file (the first one counts even when cut).
        var frameCount: Int
        /// The first frame's image data ended before its last row (the rest is transparent).
        var truncated: Bool
        /// Total plays (``Scan/loopCount``) and one play's duration in ms.
        var loopCount: Int
        var durationMs: Int
        /// The file ends inside a block (``Scan/cut``), and whether that was the first frame's data.
        var cut: DecodeWarning?
        var firstFrameCut: Bool
    }

    private let bytes: [UInt8]
    private var position = 0
    /// Where decoding stops (``decode(_:maxPixels:deadline:)``).
    private var deadline: Deadline?

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private static func fail(_ message: String) -> DarkroomError { .decoding(.codec(.gif, message: message)) }

    // MARK: Byte reading (every read checks the bounds and advances)

    private mutating func byte() -> Int? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return Int(bytes[position])
    }

    private mutating func uint16() -> Int? {
        guard position + 2 <= bytes.count else { position = bytes.count; return nil }
        defer { position += 2 }
        return Int(bytes[position]) | Int(bytes[position + 1]) << 8
    }

    /// Reads `count` bytes, or nil (at the end of the data) when fewer remain.
    private mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count <= bytes.count - position else { position = bytes.count; return nil }
        defer { position += count }
        return bytes[position..<position + count]
    }

    /// Skips a run of data sub-blocks up to and including the zero-length terminator.
    /// Returns false when the data ends first.
    private mutating func skipSubBlocks() -> Bool {
        while let size = byte() {
            if size == 0 { return true }
            guard take(size) != nil else { return false }
        }
        return false
    }

    /// Joins a run of data sub-blocks (the frame's LZW data). It never holds more than the file.
    private mutating func joinSubBlocks() -> [UInt8] {
        var data: [UInt8] = []
        while let size = byte(), size > 0 {
            let end = min(position + size, bytes.count)   // a cut-off last block still counts
            data.append(contentsOf: bytes[position..<end])
            position = end
        }
        return data
    }

    /// A colour table of `2 << (packed & 7)` entries, as RGB triplets.
    private mutating func colorTable(_ packed: Int) -> ArraySlice<UInt8>? {
        take(3 * (2 << (packed & 7)))
    }

    // MARK: Header

    /// Reads the header and logical screen descriptor; returns the screen size and global table.
    private mutating func readScreen() throws(DarkroomError) -> (width: Int, height: Int, palette: ArraySlice<UInt8>?) {
        guard bytes.count >= 6, bytes[0] == 0x47, bytes[1] == 0x49, bytes[2] == 0x46 else {
            throw Self.fail("not a GIF file")
        }
        position = 6
        guard let width = uint16(), let height = uint16(), let packed = byte(), byte() != nil, byte() != nil else {
            throw Self.fail("truncated logical screen descriptor")
        }
        var palette: ArraySlice<UInt8>?
        if packed & 0x80 != 0 {
            guard let table = colorTable(packed) else { throw Self.fail("truncated global colour table") }
            palette = table
        }
        return (width, height, palette)
    }

    /// The logical screen size, without decoding pixels.
    ///
    /// The canvas is the logical screen grown to cover the first frame when that frame reaches
    /// past it (Wuffs' default, which Chrome uses, and Pillow: both show the whole first frame;
    /// later frames are clipped to this canvas). A screen with a zero side stays as it is (an
    /// error at the pixel-limit check, as Pillow refuses it too).
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int) {
        HeaderParses.count(.gif)
        var decoder = GIFDecoder(bytes)
        let screen = try decoder.readScreen()
        // Extensions up to the first image descriptor, then its rectangle.
        while let introducer = decoder.byte() {
            if introducer == 0x21 {
                guard decoder.byte() != nil, decoder.skipSubBlocks() else { break }
                continue
            }
            guard introducer == 0x2C, let left = decoder.uint16(), let top = decoder.uint16(),
                  let w = decoder.uint16(), let h = decoder.uint16() else { break }
            return canvasSize(screen: (screen.width, screen.height), firstFrame: (left, top, w, h))
        }
        return (screen.width, screen.height)
    }

    /// The logical screen, grown to cover the first frame's rectangle (``readHeader(_:)``).
    static func canvasSize(screen: (width: Int, height: Int),
                           firstFrame f: (left: Int, top: Int, width: Int, height: Int)) -> (width: Int, height: Int) {
        guard screen.width > 0, screen.height > 0, f.width > 0, f.height > 0 else { return screen }
        return (max(screen.width, f.left + f.width), max(screen.height, f.top + f.height))
    }

    // MARK: Frames

    /// One image block, as the scan found it: where its data starts and how it is drawn.
    struct FrameDescriptor {
        var left: Int, top: Int, width: Int, height: Int
        var interlaced: Bool
        /// The Graphic Control Extension's transparent index, or -1.
        var transparentIndex: Int
        /// The Graphic Control Extension's disposal method: 0 unspecified, 1 keep, 2 clear the
        /// frame's rectangle to transparent, 3 restore what was under it (4–7 are treated as 0).
        var disposal: Int
        /// The Graphic Control Extension's delay, in 1/100 s (0 without one).
        var delayCentiseconds: Int
        /// Byte range of the colour table the frame uses (its own or the global one), nil for none.
        var palette: Range<Int>?
        /// Offset of the LZW minimum code size byte.
        var dataStart: Int
    }

    /// What a walk over the blocks found, without decoding pixels (``scan(_:)``).
    struct Scan {
        var width: Int
        var height: Int
        /// The canvas: the logical screen grown to cover the first frame (``readHeader(_:)``).
        /// Frames whose image data is all in the file (their sub-blocks end with the terminator);
        /// when the first frame itself is cut, that partial frame alone.
        var frames: [FrameDescriptor]
        /// Total plays, 0 = forever: NETSCAPE2.0 loop count n > 0 gives n + 1 plays, 0 gives 0
        /// (forever), no extension gives 1 (once) — browsers' and gif2webp's reading.
        var loopCount: Int
        /// The raw NETSCAPE2.0 value (nil when the file has no loop extension).
        var netscapeLoops: Int?
        /// Set when the file ends inside a block (a frame's descriptor, colour table or image
        /// data, or an extension): frames after ``frames`` were lost.
        var cut: DecodeWarning?
        /// The first frame's sub-blocks were cut (``frames`` then holds only that frame).
        var firstFrameCut: Bool
    }

    /// Walks every block of `bytes` (whose header ``readHeader(_:)`` can read): frames, their
    /// graphic control, the loop extension and where the file was cut. Throws when there is no
    /// frame at all (or the header is damaged), as the first-frame decode did.
    static func scan(_ bytes: [UInt8]) throws(DarkroomError) -> Scan {
        var decoder = GIFDecoder(bytes)
        return try decoder.scanBlocks()
    }

    private mutating func scanBlocks() throws(DarkroomError) -> Scan {
        let screen = try readScreen()
        var frames: [FrameDescriptor] = []
        var partialFirst: FrameDescriptor?
        var cut: DecodeWarning?
        var netscape: Int?
        var transparentIndex = -1, disposal = 0, delay = 0
        func cutWarning(_ what: String) -> DecodeWarning {
            DecodeWarning(kind: .truncated, message: "the file ends inside \(what) (after \(frames.count) complete frame\(frames.count == 1 ? "" : "s"))")
        }
        blocks: while true {
            guard let introducer = byte() else {
                if frames.isEmpty { throw Self.fail("the data ends before the first image") }
                break blocks
            }
            switch introducer {
            case 0x2C: // Image descriptor
                let frameNumber = frames.count + 1
                guard let left = uint16(), let top = uint16(), let fw = uint16(), let fh = uint16(),
                      let packed = byte() else {
                    if frames.isEmpty { throw Self.fail("truncated image descriptor") }
                    cut = cutWarning("the descriptor of frame \(frameNumber)")
                    break blocks
                }
                var palette: Range<Int>? = screen.palette.map { $0.startIndex..<$0.endIndex }
                if packed & 0x80 != 0 {
                    guard let table = colorTable(packed) else {
                        if frames.isEmpty { throw Self.fail("truncated local colour table") }
                        cut = cutWarning("the colour table of frame \(frameNumber)")
                        break blocks
                    }
                    palette = table.startIndex..<table.endIndex
                }
                let frame = FrameDescriptor(left: left, top: top, width: fw, height: fh, interlaced: packed & 0x40 != 0,
                                            transparentIndex: transparentIndex, disposal: disposal <= 3 ? disposal : 0,
                                            delayCentiseconds: delay, palette: palette, dataStart: position)
                transparentIndex = -1; disposal = 0; delay = 0
                guard byte() != nil, skipSubBlocks() else {
                    if frames.isEmpty { partialFirst = frame }
                    cut = cutWarning("the image data of frame \(frameNumber)")
                    break blocks
                }
                frames.append(frame)
            case 0x21: // Extension
                guard let label = byte() else {
                    if frames.isEmpty { throw Self.fail("truncated extension") }
                    cut = cutWarning("an extension")
                    break blocks
                }
                let complete: Bool
                if label == 0xF9, let size = byte() {
                    // Graphic Control Extension: packed, delay (2), transparent index, in its first sub-block.
                    let body = take(size)
                    if let body, size >= 4 {
                        let packed = Int(body[body.startIndex])
                        transparentIndex = packed & 1 != 0 ? Int(body[body.startIndex + 3]) : -1
                        disposal = (packed >> 2) & 7
                        delay = Int(body[body.startIndex + 1]) | Int(body[body.startIndex + 2]) << 8
                    }
                    // A zero size was the terminator itself.
                    complete = body != nil && (size == 0 || skipSubBlocks())
                } else if label == 0xFF, let size = byte() {
                    // Application extension: NETSCAPE2.0 (or ANIMEXTS1.0) with sub-block {1, lo, hi}.
                    let name = take(size)
                    let isLoop = name.map { size == 11 && (Array($0) == Array("NETSCAPE2.0".utf8) || Array($0) == Array("ANIMEXTS1.0".utf8)) } ?? false
                    // A zero size was the terminator itself.
                    var terminated = size == 0
                    if name != nil && !terminated {
                        while let sub = byte() {
                            if sub == 0 { terminated = true; break }
                            guard let data = take(sub) else { break }
                            if isLoop, netscape == nil, sub >= 3, data[data.startIndex] == 1 {
                                netscape = Int(data[data.startIndex + 1]) | Int(data[data.startIndex + 2]) << 8
                            }
                        }
                    }
                    complete = name != nil && terminated
                } else {
                    complete = skipSubBlocks()
                }
                guard complete else {
                    if frames.isEmpty { throw Self.fail("truncated extension") }
                    cut = cutWarning("an extension")
                    break blocks
                }
            case 0x3B: // Trailer
                break blocks
            default:
                if !frames.isEmpty { break blocks }   // trailing garbage after a good frame
                throw Self.fail("unknown block type 0x\(String(introducer, radix: 16)) before the first image")
            }
        }
        if frames.isEmpty {
            guard let partialFirst else { throw Self.fail("no image in the file") }
            frames = [partialFirst]
        }
        let plays: Int
        switch netscape {
        case nil: plays = 1
        case 0: plays = 0
        case let n?: plays = n + 1
        }
        let first = frames[0]
        let canvas = Self.canvasSize(screen: (screen.width, screen.height),
                                     firstFrame: (first.left, first.top, first.width, first.height))
        return Scan(width: canvas.width, height: canvas.height, frames: frames, loopCount: plays, netscapeLoops: netscape,
                    cut: cut, firstFrameCut: partialFirst != nil)
    }

    /// Decodes the first frame and counts the rest, from a file whose header ``readHeader(_:)``
    /// has read (the 13-byte screen descriptor is walked again here, not counted as a parse). The
    /// screen size is checked against `maxPixels` before the canvas is allocated (the decoder's own
    /// bound; ``ImageSource`` checked it at open).
    /// `deadline`: checked after the first row of each frame and every 64 rows after it (``DarkroomError/timeLimit(_:)``).
    static func decode(_ bytes: [UInt8], maxPixels: Int, deadline: Deadline? = nil) throws(DarkroomError) -> Result {
        var header = GIFDecoder(bytes)
        let screen = try header.readScreen()
        try checkPixelLimit(width: screen.width, height: screen.height, limit: maxPixels)
        let scan = try scan(bytes)
        try checkPixelLimit(width: scan.width, height: scan.height, limit: maxPixels)
        var frames = GIFFrames(bytes, scan: scan, deadline: deadline)
        guard let first = try frames.next() else { throw fail("no image in the file") }
        let f = scan.frames[0]
        let isOpaque = f.transparentIndex < 0 && f.left == 0 && f.top == 0 && f.width >= scan.width
            && f.height >= scan.height && first.complete
        return Result(width: scan.width, height: scan.height, rgba: first.rgba, isOpaque: isOpaque,
                      frameCount: scan.frames.count, truncated: !first.complete, loopCount: scan.loopCount,
                      durationMs: scan.frames.map(GIFFrames.durationMilliseconds).reduce(0, +), cut: scan.cut,
                      firstFrameCut: scan.firstFrameCut)
    }

    /// Draws `frame` onto `canvas` (straight RGBA, `canvasWidth` × `canvasHeight`), clipping it
    /// to the canvas; transparent-index pixels leave the canvas as it is. `complete` is false
    /// when the data ended (or went bad) before every frame row inside the canvas was decoded.
    /// The first frame (`isFirst`) throws when not even one row decodes; a later one leaves the
    /// canvas as it was and reports itself incomplete. `deadline`: checked every 64 rows.
    static func draw(_ frame: FrameDescriptor, from bytes: [UInt8], onto canvas: inout [UInt8], canvasWidth: Int,
                     canvasHeight: Int, isFirst: Bool, deadline: Deadline? = nil) throws(DarkroomError) -> Bool {
        var decoder = GIFDecoder(bytes)
        decoder.deadline = deadline
        decoder.position = frame.dataStart
        return try decoder.drawFrame(frame, canvas: &canvas, canvasWidth: canvasWidth, canvasHeight: canvasHeight,
                                     isFirst: isFirst)
    }

    private mutating func drawFrame(_ frame: FrameDescriptor, canvas: inout [UInt8], canvasWidth: Int,
                                    canvasHeight: Int, isFirst: Bool) throws(DarkroomError) -> Bool {
        let which = isFirst ? "the first frame" : "a frame"
        guard frame.width > 0, frame.height > 0 else {
            if isFirst { throw Self.fail("frame has a zero side") }
            return true   // draws nothing (browsers skip it too)
        }
        guard let minCodeSize = byte() else {
            if isFirst { throw Self.fail("the first frame has no image data") }
            return false
        }
        // 2…8 is the standard range. 1 (some encoders) and 9…11 (giflib rejects them; Pillow and
        // browsers do not) decode by the same rules; 12 would leave no room for a table.
        guard (1...11).contains(minCodeSize) else {
            if isFirst { throw Self.fail("invalid LZW minimum code size \(minCodeSize)") }
            return false
        }

        // RGBA palette for every literal code (up to 2048 with a minimum code size of 11): the colour
        // table with unlisted entries opaque black, or a gray ramp when there is no table.
        var palette = [UInt8](repeating: 0, count: 4096 * 4)
        for i in 0..<4096 { palette[4 * i + 3] = 255 }
        if let range = frame.palette {
            let table = bytes[range]
            for (i, t) in stride(from: table.startIndex, to: table.endIndex - 2, by: 3).enumerated() {
                palette[4 * i] = table[t]; palette[4 * i + 1] = table[t + 1]; palette[4 * i + 2] = table[t + 2]
            }
        } else {
            for i in 0..<256 { palette[4 * i] = UInt8(i); palette[4 * i + 1] = UInt8(i); palette[4 * i + 2] = UInt8(i) }
        }

        let data = joinSubBlocks()

        // Frame rows arrive in order, or in four interlace passes. Only the columns and rows inside
        // the canvas are written; decoding stops once every visible row is done.
        let visibleColumns = max(0, min(frame.width, canvasWidth - frame.left))
        let visibleRows = max(0, min(frame.height, canvasHeight - frame.top))
        let passes = frame.interlaced ? [(0, 8), (4, 8), (2, 4), (1, 2)] : [(0, 1)]
        var pass = 0, frameRow = 0, rowsDone = 0, visibleDone = 0
        if visibleRows == 0 || visibleColumns == 0 { return true }   // wholly outside the canvas
        var stopped = false
        let deadline = self.deadline

        let transparent = frame.transparentIndex
        let outcome = data.withUnsafeBufferPointer { input in
            canvas.withUnsafeMutableBufferPointer { out in
                palette.withUnsafeBufferPointer { pal in
                    Self.decompress(input, minCodeSize: minCodeSize, rowWidth: frame.width) { row, count in
                        // `row` holds the first `count` palette indices of the current frame row.
                        let y = frame.top + frameRow
                        if y < canvasHeight {
                            var o = (y * canvasWidth + frame.left) * 4
                            for x in 0..<min(count, visibleColumns) {
                                let index = Int(row[x])
                                if index != transparent {
                                    let p = index * 4
                                    out[o] = pal[p]; out[o + 1] = pal[p + 1]; out[o + 2] = pal[p + 2]; out[o + 3] = 255
                                }
                                o += 4
                            }
                        }
                        guard count == frame.width else { return false }   // a partial last row
                        rowsDone += 1
                        if rowsDone & 63 == 1 && deadline.hasPassed {
                            stopped = true
                            return false
                        }
                        if y < canvasHeight { visibleDone += 1 }
                        if rowsDone == frame.height || visibleDone == visibleRows { return false }
                        frameRow += passes[pass].1
                        while frameRow >= frame.height && pass + 1 < passes.count {
                            pass += 1
                            frameRow = passes[pass].0
                        }
                        return frameRow < frame.height
                    }
                }
            }
        }
        if stopped { throw .timeLimit(TimeLimitError(stage: .decoding, format: .gif)) }
        if rowsDone == 0 && isFirst {
            switch outcome {
            case .invalidCode: throw Self.fail("invalid LZW code in \(which)")
            default: throw Self.fail("\(which)'s image data ends before its first row")
            }
        }
        return visibleDone == visibleRows
    }

    // MARK: LZW

    enum LZWOutcome { case done, endOfInformation, endOfData, invalidCode }

    /// Decodes GIF LZW `input` (sub-blocks already joined) row by row: `emit(row, count)` receives
    /// each full row of `rowWidth` indices, and a final partial one if the data ends mid-row; it
    /// returns false to stop. Codes start at `minCodeSize + 1` bits and grow to 12; once the
    /// 4096-entry table is full, 12-bit codes continue without new entries until a clear code.
    static func decompress(_ input: UnsafeBufferPointer<UInt8>, minCodeSize: Int, rowWidth: Int,
                           emit: (UnsafeMutablePointer<UInt16>, Int) -> Bool) -> LZWOutcome {
        let clear = 1 << minCodeSize, endOfInformation = clear + 1
        // prefix[c]: the code of the string minus its last byte; suffix[c]: its last byte;
        // first[c]: its first byte; length[c]: its length.
        let prefix = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 4096)
        let suffix = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 4096)
        let first = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 4096)
        let length = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: 4096)
        let row = UnsafeMutablePointer<UInt16>.allocate(capacity: max(1, rowWidth))
        // A string is written back to front here, then copied into rows.
        let string = UnsafeMutablePointer<UInt16>.allocate(capacity: 4096)
        defer {
            prefix.deallocate(); suffix.deallocate(); first.deallocate(); length.deallocate()
            row.deallocate(); string.deallocate()
        }
        prefix.initialize(repeating: 0); suffix.initialize(repeating: 0)
        first.initialize(repeating: 0); length.initialize(repeating: 1)
        row.initialize(repeating: 0, count: max(1, rowWidth))
        string.initialize(repeating: 0, count: 4096)
        for c in 0..<clear { suffix[c] = UInt16(c); first[c] = UInt16(c) }

        var codeSize = minCodeSize + 1
        var nextCode = clear + 2
        var previous = -1                    // no previous code right after a clear
        var bits: UInt32 = 0, bitCount = 0, inputIndex = 0
        var x = 0                            // fill of the current row
        while true {
            while bitCount < codeSize {
                guard inputIndex < input.count else {
                    if x > 0 { _ = emit(row, x) }
                    return .endOfData
                }
                bits |= UInt32(input[inputIndex]) << UInt32(bitCount)
                inputIndex += 1
                bitCount += 8
            }
            let code = Int(bits & ((1 << UInt32(codeSize)) - 1))
            bits >>= UInt32(codeSize)
            bitCount -= codeSize

            if code == clear {
                codeSize = minCodeSize + 1
                nextCode = clear + 2
                previous = -1
                continue
            }
            if code == endOfInformation {
                if x > 0 { _ = emit(row, x) }
                return .endOfInformation
            }

            // The string for `code`: a known entry, or (KwKwK) the previous string plus its own first byte.
            var n: Int
            if previous < 0 {
                guard code < clear else { if x > 0 { _ = emit(row, x) }; return .invalidCode }
                string[0] = UInt16(code)
                n = 1
            } else if code < nextCode {
                n = Int(length[code])
                var c = code
                for i in stride(from: n - 1, through: 0, by: -1) {
                    string[i] = suffix[c]
                    c = Int(prefix[c])
                }
            } else if code == nextCode && nextCode < 4096 {
                n = Int(length[previous]) + 1
                string[n - 1] = first[previous]
                var c = previous
                for i in stride(from: n - 2, through: 0, by: -1) {
                    string[i] = suffix[c]
                    c = Int(prefix[c])
                }
            } else {
                if x > 0 { _ = emit(row, x) }
                return .invalidCode
            }

            // New entry: previous string + first byte of this one. When the table is full,
            // keep reading 12-bit codes without adding entries (deferred clear).
            if previous >= 0 && nextCode < 4096 {
                prefix[nextCode] = UInt16(previous)
                suffix[nextCode] = string[0]
                first[nextCode] = first[previous]
                length[nextCode] = length[previous] + 1
                nextCode += 1
                if nextCode >= 1 << codeSize && codeSize < 12 { codeSize += 1 }
            }
            previous = code

            // Copy the string into rows.
            var i = 0
            while i < n {
                let count = min(n - i, rowWidth - x)
                (row + x).update(from: string + i, count: count)
                x += count
                i += count
                if x == rowWidth {
                    x = 0
                    guard emit(row, rowWidth) else { return .done }
                }
            }
        }
    }
}
