import Dispatch

// The resize plan and driver. Vertical pass first, then horizontal, a few output rows at a time:
// 8-bit images in groups of 4 rows (vertical two rows per sweep, horizontal four rows per
// coefficient load), 16-bit images row by row. Per worker the only extra memory is that small
// intermediate band and a ring of the source rows the current vertical window needs, each read
// (and premultiplied / converted) exactly once: for the SIMD kernels as byte-interleaved row pairs
// (premultiplied and interleaved in one pass), for the scalar reference as plain rows. The SIMD
// horizontal kernel reads intermediate rows re-laid out as pixel pairs (`pairPixelsU8`); for RGBA
// the vertical kernels store that layout directly. Workers own contiguous bands of output rows, so the output
// does not depend on the thread count.

/// Everything needed to resample one image; built once, shared read-only by the workers.
struct Resampler {
    let srcWidth: Int, srcHeight: Int
    let dstWidth: Int, dstHeight: Int
    let channels: Int
    let premultiplied: Bool
    let kernel: ResampleKernel
    /// `kernel`'s functions, chosen once here (no per-row switch on the CPU level).
    let kernels: KernelFunctions
    /// Source pixels per output pixel across and down; nil: the extents mapped onto each other
    /// (`srcWidth / dstWidth`, `srcHeight / dstHeight`). Set for a JPEG chroma plane whose odd
    /// size covers half a sample more than the picture (``PlanarResize``).
    let scale: (x: Double, y: Double)?
    /// Where resampling stops (``ConvertOptions/deadline``): checked every 16 output rows; a band
    /// past it returns early with its remaining rows unmade (``bandU8(_:source:dst:dstRingRows:dstStride:v:pairs:h:rowsDone:)``
    /// returns false), and the caller throws ``DarkroomError/timeLimit(_:)``. nil: no limit.
    var deadline: Deadline?

    init(srcWidth: Int, srcHeight: Int, dstWidth: Int, dstHeight: Int, format: PixelFormat,
         alpha: AlphaHandling, kernel: ResampleKernel, scale: (x: Double, y: Double)? = nil) {
        self.scale = scale
        self.srcWidth = srcWidth
        self.srcHeight = srcHeight
        self.dstWidth = dstWidth
        self.dstHeight = dstHeight
        channels = format.channels
        premultiplied = format.hasAlpha && alpha == .premultiplied
        self.kernel = kernel
        kernels = KernelFunctions(kernel)
    }

    /// Splits `dstHeight` rows into `threads` contiguous bands and runs `band` on each.
    func forEachBand(threads: Int, _ band: @escaping @Sendable (Range<Int>) -> Void) {
        let t = max(1, min(threads, dstHeight, Limits.maxThreads))
        if t == 1 { band(0..<dstHeight); return }
        let h = dstHeight
        DispatchQueue.concurrentPerform(iterations: t) { i in band((i * h / t)..<((i + 1) * h / t)) }
    }

    // MARK: 8-bit

    func resizeU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, filter: ResampleFilter, threads: Int) {
        let (v, pairs, h) = tablesU8(filter: filter)
        let srcPtr = SendablePointer(src), dstPtr = SendablePointer(dst)
        let me = self
        let rowBytes = srcWidth * channels
        forEachBand(threads: threads) { rows in
            me.bandU8(rows, source: BufferRows(base: srcPtr.p, rowBytes: rowBytes), dst: dstPtr.p, v: v, pairs: pairs, h: h)
        }
    }

    /// Resizes rows pulled from `source` (a decoder) in one band, in order: no full-size source
    /// buffer exists. SIMD kernels only (they read each source row once, through the pair ring);
    /// the output is bit-identical to ``resizeU8(src:dst:filter:threads:)`` on the same rows.
    /// `dstRingRows` (a multiple of 4; 0 for a whole image): `dst` holds only that many rows, row `y`
    /// at `y % dstRingRows` — for a consumer that takes rows as they are finished (the streamed
    /// JPEG encode), so no full-size output buffer exists either.
    /// `rowsDone(n)` is called as output rows are finished, in order: rows `0..<n` are final (so an
    /// encoder can take them while the rest is made).
    /// Returns false when ``deadline`` stopped it before the last row.
    @discardableResult
    func resizeU8<Source: RowSource>(streaming source: Source, dst: UnsafeMutablePointer<UInt8>, dstRingRows: Int = 0,
                                     filter: ResampleFilter, rowsDone: ((Int) -> Void)? = nil) -> Bool {
        precondition(kernel != .scalar, "streamed resampling needs a SIMD kernel")
        precondition(dstRingRows >= 0 && dstRingRows % 4 == 0, "output rows are made 4 at a time")
        let (v, pairs, h) = tablesU8(filter: filter)
        return bandU8(0..<dstHeight, source: source, dst: dst, dstRingRows: dstRingRows, v: v, pairs: pairs, h: h, rowsDone: rowsDone)
    }

    func tablesU8(filter: ResampleFilter) -> (FixedPointTable, PairTable?, HorizontalU8Plan) {
        let v = FixedPointTable(AxisWeights(filter: filter, inSize: srcHeight, outSize: dstHeight, scale: scale?.y))
        let hTable = FixedPointTable(AxisWeights(filter: filter, inSize: srcWidth, outSize: dstWidth, scale: scale?.x))
        let h = HorizontalU8Plan(table: hTable,
                                 broadcast: kernel == .scalar ? nil : BroadcastTable(hTable, channels: channels))
        return (v, kernel == .scalar ? nil : PairTable(v), h)
    }

    /// Output rows are made 4 at a time: 4 vertical-pass rows into the intermediate, then one
    /// horizontal call that shares each coefficient load across the 4 rows.
    ///
    /// The SIMD kernels read source rows in pairs (2m, 2m+1) interleaved byte by byte (premultiplied
    /// on the way in when asked), kept in a ring while the vertical window needs them; the scalar
    /// reference reads the source (or a ring of premultiplied rows) row by row.
    /// `dstStride`: bytes from one output row to the next (nil: `dstWidth · channels`, packed rows).
    /// Returns false when ``deadline`` stopped the band before its last row.
    @discardableResult
    func bandU8<Source: RowSource>(_ band: Range<Int>, source: Source, dst: UnsafeMutablePointer<UInt8>, dstRingRows: Int = 0,
                                           dstStride: Int? = nil, v: FixedPointTable, pairs: PairTable?, h: HorizontalU8Plan,
                                           rowsDone: ((Int) -> Void)? = nil) -> Bool {
        let rowBytes = srcWidth * channels
        let tmpStride = rowBytes + 64
        let tmp = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * tmpStride)
        tmp.initialize(repeating: 0, count: 4 * tmpStride)
        defer { tmp.deallocate() }
        let dstStride = dstStride ?? dstWidth * channels
        // SIMD kernels: intermediate rows in the horizontal pass's pixel-pair layout (see runRowsU8).
        let expand = kernel != .scalar
        let xStride = 2 * (srcWidth + 16) * (channels == 2 ? 2 : channels == 1 ? 1 : 4) + 128
        let tmpX = UnsafeMutablePointer<UInt8>.allocate(capacity: expand ? 4 * xStride : 1)
        tmpX.initialize(repeating: 0, count: expand ? 4 * xStride : 1)
        defer { tmpX.deallocate() }
        if let pairs {
            // Pair ring: slot m % capacity holds rows 2m, 2m+1 interleaved (+ padding for over-reads);
            // room for the union of two consecutive output rows' windows.
            let capacity = min(2 * pairs.maxPairs + 2, (srcHeight + 1) / 2)
            let ring = SourceRing<UInt8>(capacity: capacity, rowLength: 2 * rowBytes + 128)
            let ptrs = UnsafeMutablePointer<UnsafePointer<UInt8>>.allocate(capacity: capacity)
            let c0 = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
            let c1 = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
            defer { ring.deallocate(); ptrs.deallocate(); c0.deallocate(); c1.deallocate() }
            /// Points ptrs[0..<n] at pairs first ..< first + n, filling ring slots as needed.
            func loadPairs(_ first: Int, _ n: Int) {
                for j in 0..<n {
                    let m = first + j
                    ptrs[j] = ring.row(m) { slot in
                        let r0 = 2 * m, r1 = min(2 * m + 1, srcHeight - 1)  // a missing odd row has weight 0
                        let a = source.row(r0), b = source.row(r1)
                        if premultiplied {
                            kernels.premultiplyInterleaveRowsU8(a: a, b: b, dst: slot, pixels: srcWidth, channels: channels)
                        } else {
                            kernels.interleaveRowsU8(a: a, b: b, dst: slot, count: rowBytes)
                        }
                    }
                }
            }
            // RGBA: the vertical kernels write the horizontal kernel's layout themselves (no pairPixelsU8 pass).
            let paired = channels == 4
            return pairs.coeffs.withUnsafeBufferPointer { coeffs in
                runRowsU8(band, dst: dst, dstStride: dstStride, dstRingRows: dstRingRows, tmp: tmp, tmpStride: tmpStride,
                          tmpX: tmpX, xStride: xStride, verticalWritesPairs: paired, h: h, rowsDone: rowsDone) { y, two, out0, out1 in
                    let f0 = pairs.firstPair[y], n0 = pairs.pairCounts[y]
                    let f1 = two ? pairs.firstPair[y + 1] : f0, n1 = two ? pairs.pairCounts[y + 1] : 0
                    let union = max(f0 + n0, f1 + n1) - f0
                    if two && f1 >= f0 && f1 <= f0 + n0 && f0 + n0 <= f1 + n1 && union <= capacity {
                        // Both rows' weights over the union of their windows (0 outside each window).
                        for j in 0..<union {
                            c0[j] = j < n0 ? coeffs[y * pairs.stride + j] : 0
                            let k = j - (f1 - f0)
                            c1[j] = k >= 0 && k < n1 ? coeffs[(y + 1) * pairs.stride + k] : 0
                        }
                        loadPairs(f0, union)
                        // Source rows that the next two output rows will add to the ring.
                        var prefetch: UnsafeRawPointer? = nil, prefetchBytes = 0
                        if y + 3 < dstHeight, let base = source.prefetchBase {
                            let end = f0 + union
                            let nextEnd = max(pairs.firstPair[y + 2] + pairs.pairCounts[y + 2],
                                              pairs.firstPair[y + 3] + pairs.pairCounts[y + 3])
                            let r0 = 2 * end, r1 = min(srcHeight, 2 * nextEnd)
                            if r1 > r0 { prefetch = UnsafeRawPointer(base + r0 * rowBytes); prefetchBytes = (r1 - r0) * rowBytes }
                        }
                        kernels.verticalPairs2U8(pairs: ptrs, coeffs0: c0, coeffs1: c1, pairCount: union,
                                                bothFrom: f1 - f0, bothTo: n0, shift: pairs.shift, out0: out0, out1: out1, count: rowBytes,
                                                paired: paired, prefetch: prefetch, prefetchBytes: prefetchBytes)
                        return
                    }
                    for (yy, out) in (two ? [(y, out0), (y + 1, out1)] : [(y, out0)]) {
                        loadPairs(pairs.firstPair[yy], pairs.pairCounts[yy])
                        kernels.verticalPairsU8(pairs: ptrs, coeffs: coeffs.baseAddress! + yy * pairs.stride,
                                               pairCount: pairs.pairCounts[yy], shift: pairs.shift, out: out,
                                               count: rowBytes, paired: paired)
                    }
                }
            }
        } else {
            let ring = SourceRing<UInt8>(capacity: premultiplied ? v.maxCount : 0, rowLength: rowBytes)
            let rowPtrs = UnsafeMutablePointer<UnsafePointer<UInt8>>.allocate(capacity: max(1, v.maxCount))
            defer { ring.deallocate(); rowPtrs.deallocate() }
            return v.coeffs.withUnsafeBufferPointer { coeffs in
                runRowsU8(band, dst: dst, dstStride: dstStride, dstRingRows: dstRingRows, tmp: tmp, tmpStride: tmpStride,
                          tmpX: tmpX, xStride: xStride, verticalWritesPairs: false, h: h, rowsDone: rowsDone) { y, two, out0, out1 in
                    for (yy, out) in (two ? [(y, out0), (y + 1, out1)] : [(y, out0)]) {
                        let start = v.starts[yy], n = v.counts[yy]
                        for k in 0..<n {
                            let r = start + k
                            if premultiplied {
                                rowPtrs[k] = ring.row(r) { slot in
                                    ScalarKernels.premultiplyU8(src: source.row(r), dst: slot, pixels: srcWidth,
                                                                channels: channels)
                                }
                            } else {
                                rowPtrs[k] = source.row(r)
                            }
                        }
                        ScalarKernels.verticalU8(rows: rowPtrs, coeffs: coeffs.baseAddress! + yy * v.stride, taps: n,
                                                 shift: v.shift, out: out, count: rowBytes)
                    }
                }
            }
        }
    }

    /// Groups of up to 4 output rows: the vertical pass fills intermediate rows two at a time
    /// (`verticalRows(y, two, out0, out1)`), then one horizontal call makes the output rows. The scalar
    /// reference works on plain rows (`tmp`); the SIMD horizontal kernel reads pixel-pair rows (`tmpX`),
    /// which the vertical kernels write directly when `verticalWritesPairs` (RGBA) and
    /// `pairPixelsU8` makes from `tmp` otherwise. Output row `y` goes to `dst` row `y`, or row
    /// `y % dstRingRows` of a ring (groups of 4 stay contiguous: the band starts on a multiple of 4).
    /// Returns false when ``deadline`` passed before the band's last row (checked every 16 rows).
    private func runRowsU8(_ band: Range<Int>, dst: UnsafeMutablePointer<UInt8>, dstStride: Int, dstRingRows: Int,
                           tmp: UnsafeMutablePointer<UInt8>, tmpStride: Int, tmpX: UnsafeMutablePointer<UInt8>,
                           xStride: Int, verticalWritesPairs: Bool, h: HorizontalU8Plan, rowsDone: ((Int) -> Void)?,
                           verticalRows: (Int, Bool, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Void) -> Bool {
        let scalar = kernel == .scalar
        let (out, outStride) = verticalWritesPairs ? (tmpX, xStride) : (tmp, tmpStride)
        precondition(dstRingRows == 0 || band.lowerBound % 4 == 0, "a ring's groups of 4 rows stay contiguous")
        var y0 = band.lowerBound
        var groups = 0
        while y0 < band.upperBound {
            if let deadline, groups & 3 == 0, deadline.hasPassed { return false }
            groups += 1
            let rows = min(4, band.upperBound - y0)
            var j = 0
            while j < rows {
                verticalRows(y0 + j, j + 1 < rows, out + j * outStride, out + (j + 1) * outStride)
                j += 2
            }
            if !scalar && !verticalWritesPairs {
                for j in 0..<rows {
                    kernels.pairPixelsU8(src: tmp + j * tmpStride, dst: tmpX + j * xStride, pixels: srcWidth, channels: channels)
                }
            }
            kernels.horizontalU8(src: scalar ? tmp : tmpX, srcStride: scalar ? tmpStride : xStride,
                                dst: dst + ringSlot(y0, ringRows: dstRingRows) * dstStride, dstStride: dstStride,
                                rows: rows, dstWidth: dstWidth, channels: channels, plan: h,
                                unpremultiply: premultiplied)
            y0 += rows
            rowsDone?(y0)
        }
        return true
    }

    // MARK: 16-bit

    func resizeU16(src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<UInt16>, filter: ResampleFilter, threads: Int) {
        let v = FloatTable(AxisWeights(filter: filter, inSize: srcHeight, outSize: dstHeight))
        let h = HorizontalF32Plan(FloatTable(AxisWeights(filter: filter, inSize: srcWidth, outSize: dstWidth)))
        let srcPtr = SendablePointer(src), dstPtr = SendablePointer(dst)
        let me = self
        forEachBand(threads: threads) { rows in me.bandU16(rows, src: srcPtr.p, dst: dstPtr.p, v: v, h: h) }
    }

    private func bandU16(_ band: Range<Int>, src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<UInt16>,
                         v: FloatTable, h: HorizontalF32Plan) {
        let rowSamples = srcWidth * channels
        let tmp = UnsafeMutablePointer<Float>.allocate(capacity: rowSamples + 8)
        tmp.initialize(repeating: 0, count: rowSamples + 8)
        defer { tmp.deallocate() }
        let ring = SourceRing<Float>(capacity: v.maxCount, rowLength: rowSamples)
        defer { ring.deallocate() }
        let rowPtrs = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: max(1, v.maxCount))
        defer { rowPtrs.deallocate() }
        v.coeffs.withUnsafeBufferPointer { coeffs in
            for y in band {
                if let deadline, y & 15 == 0, deadline.hasPassed { return }
                let start = v.starts[y], n = v.counts[y]
                for k in 0..<n {
                    let r = start + k
                    rowPtrs[k] = ring.row(r) { out in
                        kernels.loadU16(src: src + r * rowSamples, dst: out, pixels: srcWidth,
                                       channels: channels, premultiply: premultiplied)
                    }
                }
                kernels.verticalF32(rows: rowPtrs, coeffs: coeffs.baseAddress! + y * v.stride, taps: n,
                                   out: tmp, count: rowSamples)
                kernels.horizontalF32(src: tmp, dst: dst + y * dstWidth * channels, dstWidth: dstWidth,
                                     channels: channels, plan: h, unpremultiply: premultiplied)
            }
        }
    }
}

/// Converted source rows kept for as long as the moving vertical window needs them: row r lives in
/// slot r % capacity, and a window never spans more than `capacity` rows, so each source row is
/// converted once per band.
final class SourceRing<T> {
    let capacity: Int
    let rowLength: Int
    private let storage: UnsafeMutablePointer<T>
    private var held: [Int]

    init(capacity: Int, rowLength: Int) {
        self.capacity = capacity
        self.rowLength = rowLength
        storage = .allocate(capacity: max(1, capacity * rowLength))
        held = [Int](repeating: -1, count: capacity)
    }

    func deallocate() { storage.deallocate() }

    /// The converted row `r`, filling its slot with `fill` when it holds another row.
    @inline(__always)
    func row(_ r: Int, fill: (UnsafeMutablePointer<T>) -> Void) -> UnsafePointer<T> {
        let slot = r % capacity
        let p = storage + slot * rowLength
        if held[slot] != r {
            fill(p)
            held[slot] = r
        }
        return UnsafePointer(p)
    }
}

/// Where the 8-bit resampler reads source rows: a whole image in memory (``BufferRows``), or a
/// decoder handing out rows as it decodes them (the pipeline's streamed path). The SIMD path asks
/// for rows in increasing order, two at a time (`2m`, `2m + 1`), each pair once.
protocol RowSource {
    /// Source row `r` (`srcWidth · channels` bytes), valid until a row of a later pair is asked for.
    func row(_ r: Int) -> UnsafePointer<UInt8>
    /// The whole image's first row, when it is in memory (for prefetching rows ahead); nil when streamed.
    var prefetchBase: UnsafePointer<UInt8>? { get }
}

/// Rows of an image held whole in memory.
struct BufferRows: RowSource {
    let base: UnsafePointer<UInt8>
    let rowBytes: Int
    @inline(__always) func row(_ r: Int) -> UnsafePointer<UInt8> { base + r * rowBytes }
    var prefetchBase: UnsafePointer<UInt8>? { base }
}

/// A pointer handed to worker threads; each worker writes only its own rows.
struct SendablePointer<T>: @unchecked Sendable {
    let p: T
    init(_ p: T) { self.p = p }
}

// MARK: - nearest neighbour (a pixel pick, not a convolution; identical for every kernel)

func resizeNearest(src: UnsafePointer<UInt8>, srcWidth: Int, srcHeight: Int, dst: UnsafeMutablePointer<UInt8>,
                   dstWidth: Int, dstHeight: Int, bytesPerPixel bpp: Int) {
    // Pillow's rule: source index floor((i + 0.5) · in / out). Both sides are at least 1 and within
    // the pixel limit, so each value lies in [0, in] and the conversion to Int cannot trap.
    let xs = (0..<dstWidth).map { min(srcWidth - 1, Int((Double($0) + 0.5) * Double(srcWidth) / Double(dstWidth))) }
    for y in 0..<dstHeight {
        let sy = min(srcHeight - 1, Int((Double(y) + 0.5) * Double(srcHeight) / Double(dstHeight)))
        let srow = src + sy * srcWidth * bpp
        let drow = dst + y * dstWidth * bpp
        for x in 0..<dstWidth {
            (drow + x * bpp).update(from: srow + xs[x] * bpp, count: bpp)
        }
    }
}
