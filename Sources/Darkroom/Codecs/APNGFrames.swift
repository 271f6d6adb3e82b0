import CDarkroom

/// An animated PNG's animation chunks (`acTL`, `fcTL`, `fdAT`), found by one walk over the file
/// without decoding a pixel: each frame's rectangle, delay, dispose and blend operations and where
/// its compressed image data lies. libpng 1.6 does not read APNG; ``APNGFrames`` decodes each frame
/// through libpng from a PNG stream made of the frame's own chunks.
///
/// Every length and offset is checked against the file before it is used, and every value read
/// is bounded (PNG's four-byte integers are at most 2^31−1): any input ends the walk.
///
/// What the walk accepts (the APNG specification, as browsers and libpng's APNG patch apply it):
///
/// - The file is an animation only when an `acTL` chunk with 1 to 2^31−1 frames comes before the
///   first `IDAT`; otherwise (no `acTL`, one after `IDAT`, a second `acTL`, `num_frames` 0) it is
///   a still PNG and its `IDAT` image is shown (Pillow and the APNG test suite do the same).
/// - An `IDAT` image without an `fcTL` before it (the *default image*) is not part of the
///   animation and is skipped, as browsers skip it.
/// - Sequence numbers of `fcTL` and `fdAT` start at 0 and go up by one; each frame has image data;
///   a frame's rectangle has a positive size and lies inside the canvas (the frame of the `IDAT`
///   covers it all); `dispose_op` is 0–2 and `blend_op` 0–1; the chunks' CRCs match. The first
///   chunk that breaks a rule ends the animation there: the frames before it are kept and the
///   break is a ``DecodeWarning/Kind/truncated`` warning in ``damage``, which
///   ``DecodeOptions/failOn`` then allows or refuses (as a GIF cut short).
/// - A file that ends before `IEND` keeps the frames followed by another `fcTL`; the frame the
///   file ends in is not counted (its data may go on), and that is a truncation.
/// - `num_frames` smaller than the frames found keeps the first `num_frames` (as Pillow does); a
///   larger one keeps the frames there are. Both are a ``DecodeWarning/Kind/warning``.
struct APNGScan {
    enum Dispose: UInt8 {
        /// The canvas is left as it is.
        case none = 0
        /// The frame's rectangle is cleared to transparent black.
        case background = 1
        /// The frame's rectangle gets back what it held before the frame was drawn.
        case previous = 2
    }

    enum Blend: UInt8 {
        /// The frame's pixels replace the rectangle's, alpha included.
        case source = 0
        /// The frame is composited over the rectangle (straight-alpha OVER).
        case over = 1
    }

    struct Frame {
        /// The frame's rectangle on the canvas, in pixels: inside the canvas, width and height ≥ 1.
        var x: Int, y: Int, width: Int, height: Int
        /// The delay as stored: `delayNumerator / delayDenominator` seconds (a denominator of 0 means 100).
        var delayNumerator: Int, delayDenominator: Int
        var dispose: Dispose
        var blend: Blend
        /// Offsets of the frame's compressed image data in the file: the payloads of its `IDAT`
        /// chunks, or of its `fdAT` chunks after their sequence numbers. Never empty.
        var data: [Range<Int>] = []
        /// The CRC of a chunk of this frame did not match: its data is decoded as it is, and
        /// reading it is a truncated-or-corrupt warning.
        var corrupt: String?

        /// How long the frame is shown, in milliseconds: see ``APNGScan/durationMilliseconds(numerator:denominator:)``.
        var durationMs: Int { APNGScan.durationMilliseconds(numerator: delayNumerator, denominator: delayDenominator) }
    }

    /// The canvas (IHDR) size in pixels.
    let width: Int, height: Int
    /// IHDR's 13 bytes.
    private(set) var ihdr: [UInt8]
    /// Whole chunks (length to CRC) before the image data that every frame's stream carries: the
    /// palette, transparency and colour chunks (`PLTE`, `tRNS`, `gAMA`, `cHRM`, `sRGB`, `iCCP`, `sBIT`).
    private(set) var shared: [Range<Int>] = []
    /// The animation's frames, in order (those the walk accepted).
    private(set) var frames: [Frame] = []
    /// `acTL`'s `num_plays`: total plays, 0 = forever (Darkroom's convention too).
    private(set) var plays = 0
    /// `acTL`'s `num_frames`.
    private(set) var declaredFrames = 0
    /// The `IDAT` image is the first frame (an `fcTL` comes before it). When false, the `IDAT`
    /// image is a default image that the animation does not show.
    private(set) var defaultImageIsFrame = false
    /// What the walk found wrong with the animation, in file order (empty for a valid APNG).
    private(set) var damage: [DecodeWarning] = []

    /// The file shows something other than its `IDAT` image: two or more frames, or one frame
    /// that is not the `IDAT` image. Otherwise it is read as a still PNG (with ``damage`` among
    /// its warnings).
    var animates: Bool { frames.count > 1 || (frames.count == 1 && !defaultImageIsFrame) }

    /// The duration in ms of a delay of `numerator / denominator` seconds: a denominator of 0
    /// means 100 (the APNG specification), rounded to the nearest ms; and a delay of **10 ms or
    /// less (0 included) is shown for 100 ms**, as Firefox (`FrameTimeout::FromRawMilliseconds`,
    /// for every animated format) and WebKit (`ImageSourceCG`) show it — the rule Darkroom applies
    /// to GIF delays too.
    static func durationMilliseconds(numerator: Int, denominator: Int) -> Int {
        let den = denominator == 0 ? 100 : denominator
        let ms = (numerator * 1000 + den / 2) / den   // both ≤ 65535: no overflow
        return ms <= 10 ? 100 : ms
    }

    /// The PNG signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Walks `bytes`; nil when they are no animated PNG (see the rules above): no `acTL` before
    /// the image data, an unusable `acTL`, or no valid IHDR.
    init?(_ b: [UInt8]) {
        let n = b.count
        guard n >= 33, Array(b[0..<8]) == Self.signature, Self.be32(b, 8) == 13, Self.type(b, 8) == "IHDR" else { return nil }
        let w = Self.be32(b, 16), h = Self.be32(b, 20)
        guard (1...0x7FFF_FFFF).contains(w), (1...0x7FFF_FFFF).contains(h) else { return nil }
        width = w
        height = h
        ihdr = Array(b[16..<29])
        var pos = 33
        var hasACTL = false, sawIDAT = false, sawIEND = false, stopped = false
        var expectedSequence = 0
        var current: Frame?
        var currentIsIDAT = false
        var idatFrame = false
        /// The current frame ends: kept when it has data, else the animation ends here.
        func finishCurrent() {
            guard let frame = current else { return }
            current = nil
            if frame.data.isEmpty {
                fail("frame \(frames.count + 1) has no image data (an fcTL with no IDAT or fdAT after it)")
            } else {
                frames.append(frame)
            }
        }
        func fail(_ message: String) {
            damage.append(DecodeWarning(kind: .truncated, message: "APNG: " + message))
            stopped = true
        }
        /// An fcTL's or fdAT's sequence number (its first 4 bytes, at `data`) is the next one:
        /// counted; else the animation ends here.
        func inSequence(_ type: String, at pos: Int, data: Int) -> Bool {
            let sequence = Self.be32(b, data)
            guard sequence == expectedSequence else {
                fail("\(type) chunk at offset \(pos) has sequence number \(sequence), \(expectedSequence) expected")
                return false
            }
            expectedSequence += 1
            return true
        }
        walk: while pos < n && !stopped {
            guard n - pos >= 12 else { fail("the file ends inside the chunk header at offset \(pos)"); break }
            let length = Self.be32(b, pos)
            let type = Self.type(b, pos)
            guard length <= 0x7FFF_FFFF, length <= n - pos - 12 else {
                fail("chunk '\(type)' at offset \(pos) needs \(length) bytes of data; the file has \(n - pos - 12) after its header")
                break
            }
            let data = pos + 8
            defer { pos = data + length + 4 }
            // An fcTL ends the frame before it, whatever the fcTL holds.
            if type == "fcTL" {
                finishCurrent()
                if stopped { break }
            }
            // CRCs: a frame's data chunk with a bad one is decoded as it is (reading the frame says
            // it is corrupt); a bad acTL makes libpng drop it (a still PNG); a bad fcTL ends the animation.
            let frameData = current != nil && ((type == "fdAT" && !currentIsIDAT) || (type == "IDAT" && currentIsIDAT))
            if type == "acTL" || type == "fcTL" || frameData, !Self.crcMatches(b, at: pos, length: length) {
                if frameData {
                    current?.corrupt = "CRC mismatch in chunk '\(type)' at offset \(pos)"
                } else if type == "acTL" && !hasACTL {
                    return nil
                } else {
                    fail("CRC mismatch in chunk '\(type)' at offset \(pos)")
                    break
                }
            }
            switch type {
            case "acTL":
                // After IDAT, a second one, or 0 frames: no animation (the default image is shown).
                guard !sawIDAT, !hasACTL, length >= 8 else { return nil }
                let count = Self.be32(b, data), plays = Self.be32(b, data + 4)
                guard (1...0x7FFF_FFFF).contains(count), plays <= 0x7FFF_FFFF else { return nil }
                hasACTL = true
                declaredFrames = count
                self.plays = plays
            case "fcTL":
                guard length >= 26 else { fail("fcTL chunk at offset \(pos) holds \(length) bytes (26 expected)"); break walk }
                guard inSequence(type, at: pos, data: data) else { break walk }
                let fw = Self.be32(b, data + 4), fh = Self.be32(b, data + 8)
                let fx = Self.be32(b, data + 12), fy = Self.be32(b, data + 16)
                let number = frames.count + 1
                // Each value is at most 2^32 − 1, so the sums cannot overflow an Int.
                guard fw >= 1, fh >= 1, fx + fw <= w, fy + fh <= h else {
                    fail("frame \(number) (\(fw)x\(fh) at \(fx),\(fy)) is not inside the \(w)x\(h) canvas")
                    break walk
                }
                if !sawIDAT && (fx != 0 || fy != 0 || fw != w || fh != h) {
                    fail("frame \(number) is the IDAT image but is \(fw)x\(fh) at \(fx),\(fy), not the whole \(w)x\(h) canvas")
                    break walk
                }
                guard let dispose = Dispose(rawValue: b[data + 24]), let blend = Blend(rawValue: b[data + 25]) else {
                    fail("frame \(number) has dispose_op \(b[data + 24]) and blend_op \(b[data + 25]) (0-2 and 0-1)")
                    break walk
                }
                current = Frame(x: fx, y: fy, width: fw, height: fh, delayNumerator: Self.be16(b, data + 20),
                                delayDenominator: Self.be16(b, data + 22), dispose: dispose, blend: blend)
                currentIsIDAT = !sawIDAT
                if currentIsIDAT { idatFrame = true }
            case "IDAT":
                guard hasACTL else { return nil }   // image data before any acTL: a still PNG
                sawIDAT = true
                // The IDAT frame's data; without an fcTL before it, the default image (skipped).
                if current != nil && currentIsIDAT { current?.data.append(data..<(data + length)) }
            case "fdAT":
                guard sawIDAT else { fail("fdAT chunk at offset \(pos) before the IDAT image"); break walk }
                guard length >= 4 else { fail("fdAT chunk at offset \(pos) holds no sequence number"); break walk }
                guard inSequence(type, at: pos, data: data) else { break walk }
                guard current != nil, !currentIsIDAT else {
                    fail("fdAT chunk at offset \(pos) follows no fcTL")
                    break walk
                }
                if length > 4 { current?.data.append((data + 4)..<(data + length)) }
            case "IEND":
                sawIEND = true
                break walk
            case "PLTE", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT":
                if !sawIDAT { shared.append(pos..<(data + length + 4)) }
            default:
                break
            }
        }
        guard hasACTL else { return nil }
        if sawIEND {
            finishCurrent()
        } else if !stopped {
            // Cut between two chunks: the frame the file ends in may have had more data.
            fail("the file ends after \(n) bytes without IEND, in frame \(frames.count + (current == nil ? 0 : 1))")
        }
        defaultImageIsFrame = idatFrame && !frames.isEmpty
        if frames.count > declaredFrames {
            damage.append(DecodeWarning(kind: .warning, message: "APNG: acTL declares \(declaredFrames) frame\(declaredFrames == 1 ? "" : "s"); the \(frames.count - declaredFrames) after them are ignored"))
            frames.removeLast(frames.count - declaredFrames)
        } else if frames.count < declaredFrames && !stopped {
            damage.append(DecodeWarning(kind: .warning, message: "APNG: acTL declares \(declaredFrames) frames; the file holds \(frames.count)"))
        }
    }

    /// A PNG stream of one frame, for libpng: the signature, IHDR with the frame's size, the shared
    /// chunks, the frame's data as IDAT chunks (one per chunk of the file) and IEND. Its size is
    /// the frame's compressed data plus the shared chunks and 57 bytes.
    func stream(of frame: Frame, in b: [UInt8]) -> [UInt8] {
        var out = Self.signature
        out.reserveCapacity(frame.data.reduce(0) { $0 + $1.count + 12 } + shared.reduce(0) { $0 + $1.count } + 64)
        var header = ihdr
        header.replaceSubrange(0..<8, with: Self.bytes32(frame.width) + Self.bytes32(frame.height))
        Self.append(chunk: "IHDR", header[...], to: &out)
        for range in shared { out.append(contentsOf: b[range]) }
        for range in frame.data { Self.append(chunk: "IDAT", b[range], to: &out) }
        Self.append(chunk: "IEND", [][...], to: &out)
        return out
    }

    /// Appends one chunk (length, type, data, CRC) to `out`.
    static func append(chunk type: String, _ data: ArraySlice<UInt8>, to out: inout [UInt8]) {
        out.append(contentsOf: bytes32(data.count))
        let start = out.count
        out.append(contentsOf: Array(type.utf8))
        out.append(contentsOf: data)
        let crc = out.withUnsafeBufferPointer { darkroom_crc32($0.baseAddress! + start, $0.count - start) }
        out.append(contentsOf: bytes32(Int(crc)))
    }

    static func bytes32(_ v: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }

    /// The big-endian 32-bit value at `o` (the caller checked `o + 4 <= b.count`).
    static func be32(_ b: [UInt8], _ o: Int) -> Int {
        Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
    }

    static func be16(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) << 8 | Int(b[o + 1]) }

    /// The chunk type at `pos` (4 bytes after the length), printable characters only.
    static func type(_ b: [UInt8], _ pos: Int) -> String {
        String(b[(pos + 4)..<(pos + 8)].map { (0x20...0x7E).contains($0) ? Character(UnicodeScalar($0)) : "?" })
    }

    /// The stored CRC of the chunk at `pos` matches its type and data (the caller checked the
    /// chunk lies inside `b`).
    static func crcMatches(_ b: [UInt8], at pos: Int, length: Int) -> Bool {
        UInt32(be32(b, pos + 8 + length)) == crc(b, pos + 4, length + 4)
    }

    /// The PNG CRC of the `count` bytes of `b` from `start` (the caller checked they lie inside).
    static func crc(_ b: [UInt8], _ start: Int, _ count: Int) -> UInt32 {
        b.withUnsafeBufferPointer { darkroom_crc32($0.baseAddress! + start, count) }
    }
}

/// An APNG's frames composited in order onto one full RGBA canvas, as the APNG specification
/// and browsers show them:
///
/// - the canvas starts transparent black;
/// - each frame is decoded by libpng from its own PNG stream (``APNGScan/stream(of:in:)``: its
///   palette, transparency and colour chunks are the file's), expanded to 8-bit RGBA (a file
///   gamma without `sRGB`/`iCCP` made sRGB, as for a still PNG);
/// - `blend_op` SOURCE replaces the frame's rectangle, alpha included; OVER composites it with
///   the straight-alpha OVER of the specification (`αo = αs + αd(1 − αs)`, colours weighted by
///   `αs` and `αd(1 − αs)`), rounded to the nearest value;
/// - after a frame is shown, its `dispose_op` runs: NONE keeps it, BACKGROUND clears the
///   rectangle to transparent black, PREVIOUS restores what the rectangle held before the frame
///   was drawn (a PREVIOUS on the first frame acts as BACKGROUND, as the specification says).
///
/// Memory: the canvas, the rectangle saved for a PREVIOUS frame, and one frame's decoded pixels
/// and compressed stream, whatever the frame count.
struct APNGFrames {
    private let bytes: [UInt8]
    let scan: APNGScan
    private var canvas: [UInt8]
    /// The rectangle of the shown frame as it was before the frame was drawn (dispose PREVIOUS).
    private var saved: [UInt8]?
    private var pending: APNGScan.Frame?
    private var index = 0

    init(_ bytes: [UInt8], scan: APNGScan) {
        self.bytes = bytes
        self.scan = scan
        canvas = [UInt8](repeating: 0, count: scan.width * scan.height * 4)
    }

    /// The frames the animation shows.
    var count: Int { scan.frames.count }

    /// The next composited frame: the canvas (straight RGBA, ``APNGScan/width`` × ``APNGScan/height``),
    /// its duration in ms, and what was wrong with its data (its CRC, or libpng's error: the rows
    /// not decoded are transparent black) or nil; nil after the last frame.
    mutating func next() -> (rgba: [UInt8], durationMs: Int, damage: DecodeWarning?)? {
        guard index < scan.frames.count else { return nil }
        let frame = scan.frames[index]
        let w = scan.width
        if let previous = pending {
            switch previous.dispose {
            case .none: break
            case .background: clear(previous)
            case .previous: if let saved { restore(previous, from: saved) } else { clear(previous) }
            }
        }
        saved = frame.dispose == .previous && index > 0 ? copy(frame) : nil
        var (rgba, problem) = decode(frame)
        if let corrupt = frame.corrupt { problem = problem.map { corrupt + "; " + $0 } ?? corrupt }
        let fw = frame.width
        canvas.withUnsafeMutableBufferPointer { dst in
            rgba.withUnsafeBufferPointer { src in
                for row in 0..<frame.height {
                    var d = ((frame.y + row) * w + frame.x) * 4
                    var s = row * fw * 4
                    if frame.blend == .source || index == 0 {
                        // The first frame is drawn on transparent black: OVER and SOURCE agree.
                        dst.baseAddress!.advanced(by: d).update(from: src.baseAddress!.advanced(by: s), count: fw * 4)
                        continue
                    }
                    for _ in 0..<fw {
                        Self.over(src, s, dst, d)
                        d += 4
                        s += 4
                    }
                }
            }
        }
        pending = frame
        index += 1
        let damage = problem.map { DecodeWarning(kind: .truncated, message: "APNG frame \(index): \($0)") }
        return (canvas, frame.durationMs, damage)
    }

    /// Straight-alpha OVER of the source pixel at `s` onto the canvas pixel at `d` (the APNG
    /// specification's formula, rounded): a transparent source leaves the canvas, an opaque one
    /// or one over a transparent canvas replaces it.
    @inline(__always)
    static func over(_ src: UnsafeBufferPointer<UInt8>, _ s: Int, _ dst: UnsafeMutableBufferPointer<UInt8>, _ d: Int) {
        let sa = Int(src[s + 3])
        if sa == 0 { return }
        let da = Int(dst[d + 3])
        if sa == 255 || da == 0 {
            dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]; dst[d + 3] = src[s + 3]
            return
        }
        // u + v = 255 · αo (in 0…255²): the weights of the source and the canvas colours.
        let u = sa * 255, v = (255 - sa) * da, total = u + v
        for c in 0..<3 {
            dst[d + c] = UInt8((Int(src[s + c]) * u + Int(dst[d + c]) * v + total / 2) / total)
        }
        dst[d + 3] = UInt8((total + 127) / 255)
    }

    /// The frame's pixels as straight RGBA8 (`width × height × 4` bytes) and libpng's complaint,
    /// if any: rows it could not decode are transparent black.
    private func decode(_ frame: APNGScan.Frame) -> ([UInt8], String?) {
        let stream = scan.stream(of: frame, in: bytes)
        let count = frame.width * frame.height * 4
        do {
            let raw = try PNGCodec.decode(stream, maxPixels: frame.width * frame.height, failOn: .none)
            let rgba = raw.image.converted(to: .rgba8).pixels
            let truncated = raw.metadata.warnings.first { $0.kind == .truncated }
            guard rgba.count == count else { return ([UInt8](repeating: 0, count: count), "decoded size mismatch") }
            return (rgba, truncated?.message)
        } catch {
            let message: String
            if case let .decoding(.codec(_, text)) = error { message = text } else { message = error.message(for: .swift) }
            return ([UInt8](repeating: 0, count: count), message)
        }
    }

    private func copy(_ frame: APNGScan.Frame) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(frame.width * frame.height * 4)
        for row in 0..<frame.height {
            let a = ((frame.y + row) * scan.width + frame.x) * 4
            out.append(contentsOf: canvas[a..<(a + frame.width * 4)])
        }
        return out
    }

    private mutating func clear(_ frame: APNGScan.Frame) {
        for row in 0..<frame.height {
            let a = ((frame.y + row) * scan.width + frame.x) * 4
            for i in a..<(a + frame.width * 4) { canvas[i] = 0 }
        }
    }

    private mutating func restore(_ frame: APNGScan.Frame, from saved: [UInt8]) {
        for row in 0..<frame.height {
            let a = ((frame.y + row) * scan.width + frame.x) * 4
            let s = row * frame.width * 4
            canvas.replaceSubrange(a..<(a + frame.width * 4), with: saved[s..<(s + frame.width * 4)])
        }
    }
}
