/// Reduces an RGBA8 image to at most 256 colours for GIF: the image's own colours when it has
/// few enough, otherwise a palette built in two steps — variance-minimising box splits over a
/// 5-bit-per-channel histogram (Wu's greedy criterion: split the box with the largest squared
/// error where the two halves' error is smallest), then k-means refinement of those entries
/// (Lloyd iterations over the histogram's cell means, as Pillow's `kmeans` option and
/// libimagequant's voronoi passes do) — and pixels mapped to their nearest entry by plain RGB
/// distance, optionally with Floyd–Steinberg dithering. Pixels with alpha < 128 map to one
/// transparent index.
struct PaletteQuantizer {
    /// The error a palette is built to (mean squared error per channel, levels²): 4, about 42 dB
    /// PSNR. A palette stops growing once it is reached, so an image that needs few colours for
    /// it gets fewer (shorter LZW codes, longer runs); photos reach 255 colours first. Measured
    /// against Pillow on WebP → GIF (docs/performance.md, "GIF against Pillow").
    static let targetError = 4.0

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
        // The image's own colours when there are few enough of them (no loss; every pixel finds
        // its colour in `exact`, so nothing is dithered), else an adaptive palette.
        let palette: [(UInt8, UInt8, UInt8)], exact: ColourSet?
        if let own = try newColours(image, known: ColourSet(capacity: 0), limit: maxColours, deadline: deadline) {
            palette = own
            exact = ColourSet(own)
        } else {
            palette = try adaptivePalette(image, colours: maxColours, targetError: targetError, deadline: deadline)
            exact = nil
        }
        let transparentIndex = hasTransparent ? palette.count : nil
        let mapped = try map(image, palette: palette, exact: exact, transparentIndex: transparentIndex ?? 0,
                             dither: dither, deadline: deadline)
        var outPalette = palette
        if hasTransparent { outPalette.append((0, 0, 0)) }
        return Result(palette: outPalette, indices: mapped.indices, transparentIndex: transparentIndex)
    }

    /// A palette of at most `colours` entries for the opaque pixels (alpha ≥ 128) of `image`
    /// (at least one entry); fewer when `targetError` (mean squared error per channel, levels²)
    /// is reached with fewer.
    static func adaptivePalette(_ image: Image, colours: Int, targetError: Double = 0,
                                deadline: Deadline? = nil) throws(DarkroomError) -> [(UInt8, UInt8, UInt8)] {
        var histogram = Histogram()
        let px = image.pixels
        for i in 0..<image.pixelCount where px[i * 4 + 3] >= 128 {
            if i & 0x3FFFF == 0 { try deadline.check(.encoding, .gif) }
            histogram.add(px[i * 4], px[i * 4 + 1], px[i * 4 + 2])
        }
        let cells = histogram.cells()
        if cells.isEmpty { return [(0, 0, 0)] }
        var centres = splitBoxes(cells, colours: colours, targetError: targetError)
        try deadline.check(.encoding, .gif)
        refine(&centres, cells: cells)
        return centres.map { c in (UInt8(min(255, max(0, c.r.rounded()))), UInt8(min(255, max(0, c.g.rounded()))),
                                   UInt8(min(255, max(0, c.b.rounded())))) }
    }

    // MARK: - Palette construction

    /// Opaque colours counted in 32 × 32 × 32 cells, with each cell's channel sums (its mean is
    /// exact, not the cell's centre).
    struct Histogram {
        private var counts = [UInt32](repeating: 0, count: 32768)
        private var sums = [UInt64](repeating: 0, count: 32768 * 3)
        private var squares = [UInt64](repeating: 0, count: 32768)

        mutating func add(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
            let key = Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)
            counts[key] &+= 1
            sums[key * 3] &+= UInt64(r); sums[key * 3 + 1] &+= UInt64(g); sums[key * 3 + 2] &+= UInt64(b)
            squares[key] &+= UInt64(Int(r) * Int(r) + Int(g) * Int(g) + Int(b) * Int(b))
        }

        /// The occupied cells: mean colour and pixel count.
        func cells() -> [Cell] {
            var out: [Cell] = []
            for key in 0..<32768 where counts[key] > 0 {
                let c = Double(counts[key])
                out.append(Cell(r: Double(sums[key * 3]) / c, g: Double(sums[key * 3 + 1]) / c,
                                b: Double(sums[key * 3 + 2]) / c, pixels: c, squares: Double(squares[key])))
            }
            return out
        }
    }

    /// A histogram cell: its pixels' mean colour, their count, and the sum of their r² + g² + b²
    /// (so a group of cells knows its exact squared error).
    struct Cell { var r: Double; var g: Double; var b: Double; var pixels: Double; var squares: Double }
    struct Centre { var r: Double; var g: Double; var b: Double }

    /// Greedy variance-minimising splits: the box with the largest squared error is split along
    /// its widest-variance channel where the two halves' summed squared error is smallest, until
    /// there are `colours` boxes, no box can be split, or the mean squared error per channel is
    /// at most `targetError`. Returns the boxes' weighted means.
    private static func splitBoxes(_ input: [Cell], colours: Int, targetError: Double) -> [Centre] {
        var cells = input
        struct Box { var lo: Int; var hi: Int; var error: Double }
        struct Moments {
            var w = 0.0, r = 0.0, g = 0.0, b = 0.0, rr = 0.0, gg = 0.0, bb = 0.0, squares = 0.0
            mutating func add(_ c: Cell) {
                w += c.pixels; r += c.r * c.pixels; g += c.g * c.pixels; b += c.b * c.pixels
                rr += c.r * c.r * c.pixels; gg += c.g * c.g * c.pixels; bb += c.b * c.b * c.pixels
                squares += c.squares
            }
            /// Σ |pixel − mean|² over the pixels.
            var error: Double { w > 0 ? max(0, squares - (r * r + g * g + b * b) / w) : 0 }
        }
        func moments(_ lo: Int, _ hi: Int) -> Moments {
            var m = Moments()
            for i in lo..<hi { m.add(cells[i]) }
            return m
        }
        let all = moments(0, cells.count)
        let budget = targetError * 3 * all.w
        var total = all.error
        var boxes = [Box(lo: 0, hi: cells.count, error: all.error)]
        while boxes.count < colours && total > budget {
            var best = -1
            for (i, b) in boxes.enumerated() where b.hi - b.lo > 1 && b.error > 0 {
                if best < 0 || b.error > boxes[best].error { best = i }
            }
            if best < 0 { break }
            let box = boxes[best]
            // The channel of largest variance (of the cells' means).
            let m = moments(box.lo, box.hi)
            let variances = [m.rr - m.r * m.r / m.w, m.gg - m.g * m.g / m.w, m.bb - m.b * m.b / m.w]
            let axis = variances[0] >= variances[1] && variances[0] >= variances[2] ? 0 : (variances[1] >= variances[2] ? 1 : 2)
            cells[box.lo..<box.hi].sort { a, b in
                switch axis {
                case 0: return a.r < b.r || (a.r == b.r && (a.g, a.b) < (b.g, b.b))
                case 1: return a.g < b.g || (a.g == b.g && (a.r, a.b) < (b.r, b.b))
                default: return a.b < b.b || (a.b == b.b && (a.r, a.g) < (b.r, b.g))
                }
            }
            // Prefix moments: the split minimising left error + right error.
            var left = Moments()
            var split = box.lo + 1, bestError = Double.infinity, bestLeft = 0.0, bestRight = 0.0
            for i in box.lo..<(box.hi - 1) {
                left.add(cells[i])
                var right = m
                right.w -= left.w; right.r -= left.r; right.g -= left.g; right.b -= left.b; right.squares -= left.squares
                let l = left.error, r = right.error
                if l + r < bestError { bestError = l + r; split = i + 1; bestLeft = l; bestRight = r }
            }
            total += bestLeft + bestRight - box.error
            boxes[best] = Box(lo: box.lo, hi: split, error: bestLeft)
            boxes.append(Box(lo: split, hi: box.hi, error: bestRight))
        }
        return boxes.map { b in
            let m = moments(b.lo, b.hi)
            return Centre(r: m.r / m.w, g: m.g / m.w, b: m.b / m.w)
        }
    }

    /// Lloyd iterations over the cells: each cell goes to its nearest centre, each centre moves to
    /// its cells' weighted mean; at most 5 rounds, fewer once the error improves by < 0.5 %.
    private static func refine(_ centres: inout [Centre], cells: [Cell]) {
        guard centres.count > 1 else { return }
        var assignment = [Int](repeating: 0, count: cells.count)
        var previousError = Double.infinity
        for _ in 0..<5 {
            var sums = [Centre](repeating: Centre(r: 0, g: 0, b: 0), count: centres.count)
            var weights = [Double](repeating: 0, count: centres.count)
            var total = 0.0
            for (i, c) in cells.enumerated() {
                var best = assignment[i]
                var d = centres[best]
                var bestDistance = (c.r - d.r) * (c.r - d.r) + (c.g - d.g) * (c.g - d.g) + (c.b - d.b) * (c.b - d.b)
                for k in centres.indices {
                    d = centres[k]
                    let dr = c.r - d.r
                    var dist = dr * dr
                    if dist >= bestDistance { continue }
                    let dg = c.g - d.g
                    dist += dg * dg
                    if dist >= bestDistance { continue }
                    let db = c.b - d.b
                    dist += db * db
                    if dist < bestDistance { bestDistance = dist; best = k }
                }
                assignment[i] = best
                total += bestDistance * c.pixels
                sums[best].r += c.r * c.pixels; sums[best].g += c.g * c.pixels; sums[best].b += c.b * c.pixels
                weights[best] += c.pixels
            }
            for k in centres.indices where weights[k] > 0 {
                centres[k] = Centre(r: sums[k].r / weights[k], g: sums[k].g / weights[k], b: sums[k].b / weights[k])
            }
            if total >= previousError * 0.995 { break }
            previousError = total
        }
    }

    // MARK: - Mapping

    /// The nearest palette entry to an exact colour by squared RGB distance (the first of equals).
    /// The entries are searched outward from the query's green in green order, stopping once the
    /// green difference alone is no better; answers are kept in a direct-mapped cache of 2^16
    /// colours (a colour seen again costs one lookup).
    struct Nearest {
        let palette: [(UInt8, UInt8, UInt8)]
        /// Palette positions sorted by green, then by position.
        private let order: [Int]
        private let greens: [Int]
        private var keys = [UInt32](repeating: UInt32.max, count: 65_536)
        private var values = [Int16](repeating: 0, count: 65_536)

        init(_ palette: [(UInt8, UInt8, UInt8)]) {
            self.palette = palette
            order = palette.indices.sorted { (palette[$0].1, $0) < (palette[$1].1, $1) }
            greens = order.map { Int(palette[$0].1) }
        }

        mutating func index(_ r: Int, _ g: Int, _ b: Int) -> Int {
            let key = UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b)
            let slot = Int((key &* 2_654_435_761) >> 16)
            if keys[slot] == key { return Int(values[slot]) }
            // The first position whose green is ≥ g.
            var lo = 0, hi = greens.count
            while lo < hi { let mid = (lo + hi) / 2; if greens[mid] < g { lo = mid + 1 } else { hi = mid } }
            var best = 0, bestDistance = Int.max
            func consider(_ k: Int) {
                let i = order[k], c = palette[i]
                let dr = r - Int(c.0), dg = g - Int(c.1), db = b - Int(c.2)
                let d = dr * dr + dg * dg + db * db
                if d < bestDistance || (d == bestDistance && i < best) { bestDistance = d; best = i }
            }
            var up = lo, down = lo - 1
            while up < greens.count || down >= 0 {
                if up < greens.count {
                    let dg = greens[up] - g
                    if dg * dg > bestDistance { up = greens.count } else { consider(up); up += 1 }
                }
                if down >= 0 {
                    let dg = g - greens[down]
                    if dg * dg > bestDistance { down = -1 } else { consider(down); down -= 1 }
                }
            }
            keys[slot] = key
            values[slot] = Int16(best)
            return best
        }
    }

    /// The distinct opaque colours of `image` (alpha ≥ 128) that are not in `known`, in order of
    /// appearance, up to `limit` of them; nil when there are more. An open-addressing table of
    /// packed RGB keeps this a few ns per pixel. `deadline`: checked every 2^18 pixels.
    static func newColours(_ image: Image, known: ColourSet, limit: Int,
                           deadline: Deadline? = nil) throws(DarkroomError) -> [(UInt8, UInt8, UInt8)]? {
        var found = ColourSet(capacity: limit)
        var colours: [(UInt8, UInt8, UInt8)] = []
        let px = image.pixels
        for i in 0..<image.pixelCount where px[i * 4 + 3] >= 128 {
            if i & 0x3FFFF == 0 { try deadline.check(.encoding, .gif) }
            let key = UInt32(px[i * 4]) << 16 | UInt32(px[i * 4 + 1]) << 8 | UInt32(px[i * 4 + 2])
            if known.index(of: key) != nil || found.index(of: key) != nil { continue }
            if colours.count == limit { return nil }
            found.insert(key, index: colours.count)
            colours.append((px[i * 4], px[i * 4 + 1], px[i * 4 + 2]))
        }
        return colours
    }

    /// Maps `image` onto `palette` (opaque colours; `transparentIndex` for alpha < 128): colours
    /// in `exact` to their own entry, others to the nearest entry (optionally Floyd–Steinberg
    /// dithered, serpentine). `meanSquaredError`: the mean over opaque pixels of the squared
    /// distance per channel of the entry each maps to without dithering (0 when every colour is
    /// in the palette).
    static func map(_ image: Image, palette: [(UInt8, UInt8, UInt8)], exact: ColourSet?, transparentIndex: Int,
                    dither: Bool, deadline: Deadline? = nil) throws(DarkroomError) -> (indices: [UInt8], meanSquaredError: Double) {
        precondition(image.format == .rgba8)
        let n = image.pixelCount, px = image.pixels, w = image.width
        var nearest = Nearest(palette)
        var indices = [UInt8](repeating: UInt8(transparentIndex), count: n)
        var squared = 0, opaque = 0
        // Error rows for Floyd–Steinberg (current and next), 3 channels, with a 1-pixel margin, in 1/16.
        var errCur = [Int32](repeating: 0, count: dither ? (w + 2) * 3 : 0)
        var errNext = errCur
        for y in 0..<image.height {
            if y % 64 == 0 { try deadline.check(.encoding, .gif) }
            let leftToRight = y % 2 == 0
            for step in 0..<w {
                let x = leftToRight ? step : w - 1 - step
                let i = y * w + x
                guard px[i * 4 + 3] >= 128 else { continue }
                opaque += 1
                let r0 = Int(px[i * 4]), g0 = Int(px[i * 4 + 1]), b0 = Int(px[i * 4 + 2])
                if let exact, let k = exact.index(of: UInt32(r0) << 16 | UInt32(g0) << 8 | UInt32(b0)) {
                    indices[i] = UInt8(k)
                    continue
                }
                let plainIndex = nearest.index(r0, g0, b0)
                let plain = palette[plainIndex]
                let dr = r0 - Int(plain.0), dg = g0 - Int(plain.1), db = b0 - Int(plain.2)
                squared += dr * dr + dg * dg + db * db
                guard dither else { indices[i] = UInt8(plainIndex); continue }
                let e = (x + 1) * 3
                let r = min(255, max(0, r0 + Int(errCur[e] >> 4)))
                let g = min(255, max(0, g0 + Int(errCur[e + 1] >> 4)))
                let b = min(255, max(0, b0 + Int(errCur[e + 2] >> 4)))
                let k = nearest.index(r, g, b)
                indices[i] = UInt8(k)
                let c = palette[k]
                let er = Int32(r - Int(c.0)), eg = Int32(g - Int(c.1)), eb = Int32(b - Int(c.2))
                let ahead = leftToRight ? e + 3 : e - 3, behind = leftToRight ? e - 3 : e + 3
                errCur[ahead] += er * 7; errCur[ahead + 1] += eg * 7; errCur[ahead + 2] += eb * 7
                errNext[behind] += er * 3; errNext[behind + 1] += eg * 3; errNext[behind + 2] += eb * 3
                errNext[e] += er * 5; errNext[e + 1] += eg * 5; errNext[e + 2] += eb * 5
                errNext[ahead] += er; errNext[ahead + 1] += eg; errNext[ahead + 2] += eb
            }
            if dither {
                swap(&errCur, &errNext)
                for j in errNext.indices { errNext[j] = 0 }
            }
        }
        return (indices, opaque == 0 ? 0 : Double(squared) / Double(opaque * 3))
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
