/// Reduces an RGBA8 image to at most 256 colours for GIF: exact palettes when the image already
/// has few colours, otherwise median cut on a 5-bit-per-channel histogram with optional
/// Floyd–Steinberg dithering. Pixels with alpha < 128 map to one transparent index.
struct PaletteQuantizer {
    struct Result {
        var palette: [(UInt8, UInt8, UInt8)]
        var indices: [UInt8]
        var transparentIndex: Int?
    }

    /// `reserveTransparent`: keep an index for transparency even when no pixel is transparent
    /// (an animation's frames mark unchanged pixels with it). `deadline`: checked every 64 rows
    /// (every 2^18 pixels in the passes over the whole image); past it the quantiser throws
    /// ``DarkroomError/timeLimit(_:)`` (encoding GIF).
    static func quantize(_ image: Image, dither: Bool, reserveTransparent: Bool = false,
                         deadline: Deadline? = nil) throws(DarkroomError) -> Result {
        precondition(image.format == .rgba8)
        let n = image.pixelCount
        let px = image.pixels
        var hasTransparent = reserveTransparent
        for i in 0..<n where px[i * 4 + 3] < 128 { hasTransparent = true; break }
        let maxColours = hasTransparent ? 255 : 256
        if let exact = try exactPalette(px, count: n, limit: maxColours, transparent: hasTransparent, deadline: deadline) {
            return exact
        }

        // Histogram of opaque pixels at 5 bits per channel.
        var histogram = [UInt32](repeating: 0, count: 32768)
        for i in 0..<n where px[i * 4 + 3] >= 128 {
            if i & 0x3FFFF == 0 { try deadline.check(.encoding, .gif) }
            let key = Int(px[i * 4] >> 3) << 10 | Int(px[i * 4 + 1] >> 3) << 5 | Int(px[i * 4 + 2] >> 3)
            histogram[key] += 1
        }
        let palette = medianCut(histogram, colours: maxColours)
        var cache = [Int16](repeating: -1, count: 32768)
        func nearest(_ r: Int, _ g: Int, _ b: Int) -> Int {
            let key = (r >> 3) << 10 | (g >> 3) << 5 | (b >> 3)
            if cache[key] >= 0 { return Int(cache[key]) }
            var best = 0, bestDistance = Int.max
            for (i, c) in palette.enumerated() {
                let dr = r - Int(c.0), dg = g - Int(c.1), db = b - Int(c.2)
                let d = 2 * dr * dr + 4 * dg * dg + 3 * db * db
                if d < bestDistance { bestDistance = d; best = i }
            }
            cache[key] = Int16(best)
            return best
        }
        let transparentIndex = hasTransparent ? palette.count : nil
        var indices = [UInt8](repeating: 0, count: n)
        let w = image.width
        // Error rows for Floyd–Steinberg (current and next), 3 channels, with a 1-pixel margin.
        var errCur = [Int32](repeating: 0, count: (w + 2) * 3)
        var errNext = errCur
        for y in 0..<image.height {
            if y % 64 == 0 { try deadline.check(.encoding, .gif) }
            for x in 0..<w {
                let i = y * w + x
                if px[i * 4 + 3] < 128 { indices[i] = UInt8(transparentIndex!); continue }
                var r = Int(px[i * 4]), g = Int(px[i * 4 + 1]), b = Int(px[i * 4 + 2])
                if dither {
                    let e = (x + 1) * 3
                    r = min(255, max(0, r + Int(errCur[e] >> 4)))
                    g = min(255, max(0, g + Int(errCur[e + 1] >> 4)))
                    b = min(255, max(0, b + Int(errCur[e + 2] >> 4)))
                }
                let k = nearest(r, g, b)
                indices[i] = UInt8(k)
                if dither {
                    let c = palette[k]
                    let e = (x + 1) * 3
                    for (ch, d) in [(0, Int32(r - Int(c.0))), (1, Int32(g - Int(c.1))), (2, Int32(b - Int(c.2)))] {
                        errCur[e + 3 + ch] += d * 7
                        errNext[e - 3 + ch] += d * 3
                        errNext[e + ch] += d * 5
                        errNext[e + 3 + ch] += d
                    }
                }
            }
            if dither {
                swap(&errCur, &errNext)
                for j in errNext.indices { errNext[j] = 0 }
            }
        }
        var outPalette = palette
        if hasTransparent { outPalette.append((0, 0, 0)) }
        return Result(palette: outPalette, indices: indices, transparentIndex: transparentIndex)
    }

    /// The image's own colours when there are few enough of them (no loss, no dithering).
    private static func exactPalette(_ px: [UInt8], count n: Int, limit: Int, transparent: Bool,
                                     deadline: Deadline?) throws(DarkroomError) -> Result? {
        var lookup: [UInt32: UInt8] = [:]
        var palette: [(UInt8, UInt8, UInt8)] = []
        var indices = [UInt8](repeating: 0, count: n)
        var transparentPixels: [Int] = []
        for i in 0..<n {
            if i & 0x3FFFF == 0 { try deadline.check(.encoding, .gif) }
            if px[i * 4 + 3] < 128 { transparentPixels.append(i); continue }
            let key = UInt32(px[i * 4]) << 16 | UInt32(px[i * 4 + 1]) << 8 | UInt32(px[i * 4 + 2])
            if let k = lookup[key] { indices[i] = k; continue }
            if palette.count == limit { return nil }
            lookup[key] = UInt8(palette.count)
            indices[i] = UInt8(palette.count)
            palette.append((px[i * 4], px[i * 4 + 1], px[i * 4 + 2]))
        }
        var transparentIndex: Int?
        if transparent {
            transparentIndex = palette.count
            palette.append((0, 0, 0))
            for i in transparentPixels { indices[i] = UInt8(transparentIndex!) }
        }
        if palette.isEmpty { palette.append((0, 0, 0)) }
        return Result(palette: palette, indices: indices, transparentIndex: transparentIndex)
    }

    /// Median cut over histogram cells: split the box with the most pixels × widest range.
    private static func medianCut(_ histogram: [UInt32], colours: Int) -> [(UInt8, UInt8, UInt8)] {
        var cells: [(key: Int, count: UInt32)] = []
        for (k, c) in histogram.enumerated() where c > 0 { cells.append((k, c)) }
        if cells.isEmpty { return [(0, 0, 0)] }
        func channel(_ key: Int, _ ch: Int) -> Int { (key >> (10 - 5 * ch)) & 31 }
        struct Box { var lo: Int; var hi: Int }  // range in `cells`
        var boxes = [Box(lo: 0, hi: cells.count)]
        func stats(_ b: Box) -> (axis: Int, range: Int, pixels: UInt64) {
            var minC = [31, 31, 31], maxC = [0, 0, 0]
            var pixels: UInt64 = 0
            for i in b.lo..<b.hi {
                for ch in 0..<3 { let v = channel(cells[i].key, ch); minC[ch] = min(minC[ch], v); maxC[ch] = max(maxC[ch], v) }
                pixels += UInt64(cells[i].count)
            }
            let ranges = (0..<3).map { maxC[$0] - minC[$0] }
            let axis = ranges.firstIndex(of: ranges.max()!)!
            return (axis, ranges[axis], pixels)
        }
        while boxes.count < colours {
            var bestIndex = -1, bestScore: Double = 0
            for (i, b) in boxes.enumerated() where b.hi - b.lo > 1 {
                let s = stats(b)
                let score = Double(s.pixels).squareRoot() * Double(s.range + 1)
                if s.range > 0 && score > bestScore { bestScore = score; bestIndex = i }
            }
            if bestIndex < 0 { break }
            let b = boxes[bestIndex]
            let axis = stats(b).axis
            cells[b.lo..<b.hi].sort { channel($0.key, axis) < channel($1.key, axis) }
            let total = cells[b.lo..<b.hi].reduce(UInt64(0)) { $0 + UInt64($1.count) }
            var acc: UInt64 = 0, split = b.lo + 1
            for i in b.lo..<b.hi {
                acc += UInt64(cells[i].count)
                if acc * 2 >= total { split = min(max(i + 1, b.lo + 1), b.hi - 1); break }
            }
            boxes[bestIndex] = Box(lo: b.lo, hi: split)
            boxes.append(Box(lo: split, hi: b.hi))
        }
        return boxes.map { b in
            var sum = [UInt64](repeating: 0, count: 3), total: UInt64 = 0
            for i in b.lo..<b.hi {
                let c = UInt64(cells[i].count)
                for ch in 0..<3 { sum[ch] += UInt64(channel(cells[i].key, ch) * 8 + 4) * c }
                total += c
            }
            return (UInt8(sum[0] / total), UInt8(sum[1] / total), UInt8(sum[2] / total))
        }
    }

    /// The distinct opaque colours of `image` (alpha ≥ 128) that are not in `known`, up to
    /// `limit` of them; nil when there are more. An open-addressing table of packed RGB keeps
    /// this a few ns per pixel.
    static func newColours(_ image: Image, known: ColourSet, limit: Int) -> [(UInt8, UInt8, UInt8)]? {
        var found = ColourSet(capacity: limit)
        var colours: [(UInt8, UInt8, UInt8)] = []
        let px = image.pixels
        for i in 0..<image.pixelCount where px[i * 4 + 3] >= 128 {
            let key = UInt32(px[i * 4]) << 16 | UInt32(px[i * 4 + 1]) << 8 | UInt32(px[i * 4 + 2])
            if known.index(of: key) != nil || found.index(of: key) != nil { continue }
            if colours.count == limit { return nil }
            found.insert(key, index: colours.count)
            colours.append((px[i * 4], px[i * 4 + 1], px[i * 4 + 2]))
        }
        return colours
    }

    /// Maps `image` onto `palette` (opaque colours; `transparentIndex` for alpha < 128): exact
    /// colours through `exact`, others to the nearest entry (optionally Floyd–Steinberg
    /// dithered). `meanSquaredError`: the mean over opaque pixels of the squared distance per
    /// channel of the nearest entry, without dithering (0 when every colour is in the palette).
    static func map(_ image: Image, palette: [(UInt8, UInt8, UInt8)], exact: ColourSet, transparentIndex: Int,
                    dither: Bool) -> (indices: [UInt8], meanSquaredError: Double) {
        precondition(image.format == .rgba8)
        let n = image.pixelCount, px = image.pixels, w = image.width
        var cache = [Int16](repeating: -1, count: 32768)
        func nearest(_ r: Int, _ g: Int, _ b: Int) -> Int {
            let key = (r >> 3) << 10 | (g >> 3) << 5 | (b >> 3)
            if cache[key] >= 0 { return Int(cache[key]) }
            var best = 0, bestDistance = Int.max
            for (i, c) in palette.enumerated() {
                let dr = r - Int(c.0), dg = g - Int(c.1), db = b - Int(c.2)
                let d = 2 * dr * dr + 4 * dg * dg + 3 * db * db
                if d < bestDistance { bestDistance = d; best = i }
            }
            cache[key] = Int16(best)
            return best
        }
        var indices = [UInt8](repeating: UInt8(transparentIndex), count: n)
        var squared = 0.0, opaque = 0
        var errCur = [Int32](repeating: 0, count: (w + 2) * 3)
        var errNext = errCur
        for y in 0..<image.height {
            for x in 0..<w {
                let i = y * w + x
                guard px[i * 4 + 3] >= 128 else { continue }
                opaque += 1
                let r0 = Int(px[i * 4]), g0 = Int(px[i * 4 + 1]), b0 = Int(px[i * 4 + 2])
                if let k = exact.index(of: UInt32(r0) << 16 | UInt32(g0) << 8 | UInt32(b0)) {
                    indices[i] = UInt8(k)
                    continue
                }
                let plain = palette[nearest(r0, g0, b0)]
                let dr = r0 - Int(plain.0), dg = g0 - Int(plain.1), db = b0 - Int(plain.2)
                squared += Double(dr * dr + dg * dg + db * db) / 3
                var r = r0, g = g0, b = b0
                let e = (x + 1) * 3
                if dither {
                    r = min(255, max(0, r + Int(errCur[e] >> 4)))
                    g = min(255, max(0, g + Int(errCur[e + 1] >> 4)))
                    b = min(255, max(0, b + Int(errCur[e + 2] >> 4)))
                }
                let k = nearest(r, g, b)
                indices[i] = UInt8(k)
                if dither {
                    let c = palette[k]
                    for (ch, d) in [(0, Int32(r - Int(c.0))), (1, Int32(g - Int(c.1))), (2, Int32(b - Int(c.2)))] {
                        errCur[e + 3 + ch] += d * 7
                        errNext[e - 3 + ch] += d * 3
                        errNext[e + ch] += d * 5
                        errNext[e + 3 + ch] += d
                    }
                }
            }
            if dither {
                swap(&errCur, &errNext)
                for j in errNext.indices { errNext[j] = 0 }
            }
        }
        return (indices, opaque == 0 ? 0 : squared / Double(opaque))
    }
}

/// A set of packed RGB colours (`r << 16 | g << 8 | b`) with an index each: open addressing with
/// linear probing in a power-of-two table at most half full.
struct ColourSet {
    private var keys: [UInt32]
    private var values: [Int16]
    private var mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 + 2 { size <<= 1 }
        keys = [UInt32](repeating: UInt32.max, count: size)
        values = [Int16](repeating: -1, count: size)
        mask = size - 1
    }

    /// A set of `palette`'s colours, each with its position.
    init(_ palette: [(UInt8, UInt8, UInt8)]) {
        self.init(capacity: palette.count)
        for (i, c) in palette.enumerated() { insert(UInt32(c.0) << 16 | UInt32(c.1) << 8 | UInt32(c.2), index: i) }
    }

    private func slot(_ key: UInt32) -> Int { Int((key &* 2_654_435_761) >> 7) & mask }

    func index(of key: UInt32) -> Int? {
        var s = slot(key)
        while true {
            let k = keys[s]
            if k == key { return Int(values[s]) }
            if k == UInt32.max { return nil }
            s = (s + 1) & mask
        }
    }

    /// Adds `key` with `index` unless it is there (the first index is kept).
    mutating func insert(_ key: UInt32, index: Int) {
        if count * 2 + 2 > keys.count { grow() }
        var s = slot(key)
        while keys[s] != UInt32.max {
            if keys[s] == key { return }
            s = (s + 1) & mask
        }
        keys[s] = key
        values[s] = Int16(index)
        count += 1
    }

    private mutating func grow() {
        let old = zip(keys, values).filter { $0.0 != UInt32.max }
        keys = [UInt32](repeating: UInt32.max, count: keys.count * 2)
        values = [Int16](repeating: -1, count: keys.count)
        mask = keys.count - 1
        count = 0
        for (k, v) in old { insert(k, index: Int(v)) }
    }
}
