/// A small pure-Swift GIF reader: the logical screen, the first frame (composited onto a
/// transparent canvas) and a count of the frames that follow.
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
        /// Image blocks in the file (the first one included).
        var frameCount: Int
        /// The first frame's image data ended before its last row (the rest is transparent).
        var truncated: Bool
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
    static func readHeader(_ bytes: [UInt8]) throws(DarkroomError) -> (width: Int, height: Int) {
        HeaderParses.count(.gif)
        var decoder = GIFDecoder(bytes)
        let screen = try decoder.readScreen()
        return (screen.width, screen.height)
    }

    // MARK: Frames

    /// Decodes the first frame and counts the rest, from a file whose header ``readHeader(_:)``
    /// has read (the 13-byte screen descriptor is walked again here, not counted as a parse). The
    /// screen size is checked against `maxPixels` before the canvas is allocated (the decoder's own
    /// bound; ``ImageSource`` checked it at open).
    /// `deadline`: checked after the first row of the first frame and every 64 rows after it (``DarkroomError/timeLimit(_:)``).
    static func decode(_ bytes: [UInt8], maxPixels: Int, deadline: Deadline? = nil) throws(DarkroomError) -> Result {
        var decoder = GIFDecoder(bytes)
        decoder.deadline = deadline
        return try decoder.decodeFile(maxPixels: maxPixels)
    }

    private mutating func decodeFile(maxPixels: Int) throws(DarkroomError) -> Result {
        let screen = try readScreen()
        let width = screen.width, height = screen.height
        try checkPixelLimit(width: width, height: height, limit: maxPixels)

        var canvas: [UInt8]?          // RGBA of the first frame on the logical screen
        var isOpaque = false
        var truncated = false
        var frames = 0
        var transparentIndex = -1     // from the Graphic Control Extension before the next image
        blocks: while true {
            guard let introducer = byte() else {
                if canvas != nil { break blocks }
                throw Self.fail("the data ends before the first image")
            }
            switch introducer {
            case 0x2C: // Image descriptor
                guard let left = uint16(), let top = uint16(), let fw = uint16(), let fh = uint16(),
                      let packed = byte() else {
                    if canvas != nil { break blocks }
                    throw Self.fail("truncated image descriptor")
                }
                var localPalette: ArraySlice<UInt8>?
                if packed & 0x80 != 0 {
                    guard let table = colorTable(packed) else {
                        if canvas != nil { break blocks }
                        throw Self.fail("truncated local colour table")
                    }
                    localPalette = table
                }
                frames += 1
                if canvas == nil {
                    let frame = Frame(left: left, top: top, width: fw, height: fh,
                                      interlaced: packed & 0x40 != 0, transparentIndex: transparentIndex)
                    let decoded = try decodeFrame(frame, palette: localPalette ?? screen.palette,
                                                  canvasWidth: width, canvasHeight: height)
                    canvas = decoded.rgba
                    truncated = !decoded.complete
                    // Rows a truncated frame never reached stay transparent, so it is not opaque.
                    isOpaque = transparentIndex < 0 && left == 0 && top == 0 && fw >= width && fh >= height
                        && decoded.complete
                } else {
                    // Later frames are counted, not decoded: skip the code size and the data.
                    guard byte() != nil, skipSubBlocks() else { break blocks }
                }
                transparentIndex = -1
            case 0x21: // Extension
                guard let label = byte() else {
                    if canvas != nil { break blocks }
                    throw Self.fail("truncated extension")
                }
                let complete: Bool
                if label == 0xF9, let size = byte() {
                    // Graphic Control Extension: packed, delay (2), transparent index, in its first sub-block.
                    let body = take(size)
                    if let body, size >= 4, body[body.startIndex] & 1 != 0 {
                        transparentIndex = Int(body[body.startIndex + 3])
                    }
                    // A zero size was the terminator itself.
                    complete = body != nil && (size == 0 || skipSubBlocks())
                } else {
                    complete = skipSubBlocks()
                }
                guard complete else {
                    if canvas != nil { break blocks }
                    throw Self.fail("truncated extension")
                }
            case 0x3B: // Trailer
                break blocks
            default:
                if canvas != nil { break blocks }   // trailing garbage after a good first frame
                throw Self.fail("unknown block type 0x\(String(introducer, radix: 16)) before the first image")
            }
        }
        guard let rgba = canvas else { throw Self.fail("no image in the file") }
        return Result(width: width, height: height, rgba: rgba, isOpaque: isOpaque, frameCount: max(1, frames),
                      truncated: truncated)
    }

    private struct Frame {
        var left: Int, top: Int, width: Int, height: Int
        var interlaced: Bool
        var transparentIndex: Int
    }

    /// Decodes one frame onto a new transparent canvas, clipping it to the canvas. `complete` is
    /// false when the data ended before every frame row inside the canvas was decoded.
    private mutating func decodeFrame(_ frame: Frame, palette table: ArraySlice<UInt8>?, canvasWidth: Int,
                                      canvasHeight: Int) throws(DarkroomError) -> (rgba: [UInt8], complete: Bool) {
        guard frame.width > 0, frame.height > 0 else { throw Self.fail("frame has a zero side") }
        guard let minCodeSize = byte() else { throw Self.fail("the first frame has no image data") }
        // 2…8 is the standard range. 1 (some encoders) and 9…11 (giflib rejects them; Pillow and
        // browsers do not) decode by the same rules; 12 would leave no room for a table.
        guard (1...11).contains(minCodeSize) else {
            throw Self.fail("invalid LZW minimum code size \(minCodeSize)")
        }

        // RGBA palette for every literal code (up to 2048 with a minimum code size of 11): the colour
        // table with unlisted entries opaque black, or a gray ramp when there is no table.
        var palette = [UInt8](repeating: 0, count: 4096 * 4)
        for i in 0..<4096 { palette[4 * i + 3] = 255 }
        if let table {
            for (i, t) in stride(from: table.startIndex, to: table.endIndex - 2, by: 3).enumerated() {
                palette[4 * i] = table[t]; palette[4 * i + 1] = table[t + 1]; palette[4 * i + 2] = table[t + 2]
            }
        } else {
            for i in 0..<256 { palette[4 * i] = UInt8(i); palette[4 * i + 1] = UInt8(i); palette[4 * i + 2] = UInt8(i) }
        }

        let data = joinSubBlocks()
        var canvas = [UInt8](repeating: 0, count: canvasWidth * canvasHeight * 4)

        // Frame rows arrive in order, or in four interlace passes. Only the columns and rows inside
        // the canvas are written; decoding stops once every visible row is done.
        let visibleColumns = max(0, min(frame.width, canvasWidth - frame.left))
        let visibleRows = max(0, min(frame.height, canvasHeight - frame.top))
        let passes = frame.interlaced ? [(0, 8), (4, 8), (2, 4), (1, 2)] : [(0, 1)]
        var pass = 0, frameRow = 0, rowsDone = 0, visibleDone = 0
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
        if rowsDone == 0 {
            switch outcome {
            case .invalidCode: throw Self.fail("invalid LZW code in the first frame")
            default: throw Self.fail("the first frame's image data ends before its first row")
            }
        }
        return (canvas, visibleDone == visibleRows)
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
