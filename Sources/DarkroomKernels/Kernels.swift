// Resampling kernels. This one file is compiled three times: as DarkroomKernels (baseline x86-64) and,
// through symlinks, as DarkroomKernelsAVX2 (-target-cpu haswell) and DarkroomKernelsVNNI
// (-target-cpu alderlake: AVX2 + AVX-VNNI, where LLVM fuses `madd` and its accumulating add into
// one `vpdpwssd`). Entry points are
// @inline(never) and take only raw pointers and integers, so AVX2 code never gets inlined into a
// baseline caller and the two modules share no types.
//
// The readable definition of every kernel is its scalar twin in
// Sources/Darkroom/Resample/ScalarKernels.swift; these must produce bit-identical output.
// Traps avoided on purpose (see research/swift-feasibility.md section 2): no `addingProduct`
// (an `fmaf` libcall without FMA), no `clamped`/`rounding:` conversions on SIMD (out-of-line),
// own @inline(__always) widen/narrow helpers instead of stdlib SIMD conversions. Integer maths
// uses wrapping operators; floats use `a + b * c` (never contracted), so both builds agree.

import CDarkroomKernelSupport

// MARK: - helpers

@inline(__always) func load16(_ p: UnsafePointer<UInt8>) -> SIMD16<UInt8> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt8>.self)
}

/// (v >> shift) clamped to 0...255 and narrowed to bytes.
@inline(__always) func shiftClampNarrow(_ v: SIMD16<Int32>, _ shift: SIMD16<Int32>) -> SIMD16<UInt8> {
    let c = v &>> shift
    var r = SIMD16<UInt8>()
    for i in 0..<16 {
        let x = c[i]
        r[i] = UInt8(truncatingIfNeeded: x < 0 ? 0 : (x > 255 ? 255 : x))
    }
    return r
}

/// min(max(v, 0), 65535) per lane (a lane loop: SIMD `replace(with:where:)` is lowered through memory).
@inline(__always) func clamp65535(_ v: SIMD4<Float>) -> SIMD4<Float> {
    var r = SIMD4<Float>()
    for i in 0..<4 {
        let x = v[i] < 0 ? 0 : v[i]  // selects, not Swift.min/max (those keep NaN rules and branch)
        r[i] = x > 65535 ? 65535 : x
    }
    return r
}

// MARK: - 8-bit vertical pass (layout independent: every byte of a row is one sample)

@inline(__always) func widen16(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(truncatingIfNeeded: v[i]) }
    return r
}

/// Pairwise multiply-add of Int16 lanes: lane i = x[2i]·c[2i] + x[2i+1]·c[2i+1]. Written as a
/// full-width product folded by even/odd halves, which LLVM lowers to one `pmaddwd` as long as it
/// cannot see where `x` came from (here: a load of pair-interleaved bytes).
@inline(__always) func madd(_ x: SIMD16<Int16>, _ c: SIMD16<Int16>) -> SIMD8<Int32> {
    var wx = SIMD16<Int32>(), wc = SIMD16<Int32>()
    for i in 0..<16 {
        wx[i] = Int32(truncatingIfNeeded: x[i])
        wc[i] = Int32(truncatingIfNeeded: c[i])
    }
    let p = wx &* wc
    return p.evenHalf &+ p.oddHalf
}

@inline(__always) func loadI16(_ p: UnsafeRawPointer) -> SIMD16<Int16> {
    p.loadUnaligned(as: SIMD16<Int16>.self)
}

/// Rows a and b interleaved byte by byte (a[i] at 2i, b[i] at 2i + 1): the layout the vertical
/// kernel reads. `count` bytes of each row; `dst` gets 2·count bytes.
@inline(never)
public func interleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, count: Int) {
    var x = 0
    let d = UnsafeMutableRawPointer(dst)
    while x + 32 <= count {
        storeInterleaved(UnsafeRawPointer(a + x).loadUnaligned(as: SIMD32<UInt8>.self),
                         UnsafeRawPointer(b + x).loadUnaligned(as: SIMD32<UInt8>.self), d + 2 * x)
        x += 32
    }
    while x < count {
        dst[2 * x] = a[x]
        dst[2 * x + 1] = b[x]
        x += 1
    }
}

/// 4 RGBA pixels (16 bytes) as `pairPixelsU8` lays them out: R0 R1 G0 G1 B0 B1 A0 A1 R2 R3 … as Int16.
@inline(__always) func pairedRGBA(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    widen16(SIMD16<UInt8>(v[0], v[4], v[1], v[5], v[2], v[6], v[3], v[7], v[8], v[12], v[9], v[13], v[10], v[14], v[11], v[15]))
}

/// Stores 16 output columns of the vertical pass at column x: bytes at out + x, or with `paired`
/// (RGBA rows) already rewritten for the horizontal kernel, 32 bytes at out + 2x.
@inline(__always) func storeColumns(_ v: SIMD16<UInt8>, _ out: UnsafeMutablePointer<UInt8>, _ x: Int, _ paired: Bool) {
    if paired {
        UnsafeMutableRawPointer(out).storeBytes(of: pairedRGBA(v), toByteOffset: 2 * x, as: SIMD16<Int16>.self)
    } else {
        UnsafeMutableRawPointer(out).storeBytes(of: v, toByteOffset: x, as: SIMD16<UInt8>.self)
    }
}

/// The last, partial block of a row: `n` < 16 columns (`paired`: the whole block; the rewritten row
/// has room for it and the horizontal pass gives the extra pixels zero weight).
@inline(__always) func storeLastColumns(_ v: SIMD16<UInt8>, _ out: UnsafeMutablePointer<UInt8>, _ x: Int, _ n: Int, _ paired: Bool) {
    if paired {
        storeColumns(v, out, x, true)
    } else {
        for i in 0..<n { out[x + i] = v[i] }
    }
}

/// The 8-bit vertical pass over pair-interleaved rows (see `interleaveRowsU8`):
/// out[x] = clamp((2^(shift-1) + Σ_k lo(coeffs[k])·pairs[k][2x] + hi(coeffs[k])·pairs[k][2x+1]) >> shift, 0, 255)
/// for x in 0..<count, where each Int32 of `coeffs` holds the two rows' Int16 weights (low half: the
/// even row). One zero-extension and one `pmaddwd` per 8 columns and pair. Pair buffers must be
/// readable 64 bytes past 2·count. With `paired` (RGBA rows) the row is stored as `pairPixelsU8`
/// would rewrite it (2·count bytes, rounded up to 16 columns).
@inline(never)
public func verticalPairsU8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs: UnsafePointer<Int32>, pairCount: Int,
                            shift: Int, out: UnsafeMutablePointer<UInt8>, count: Int, paired: Bool) {
    let round = SIMD8<Int32>(repeating: Int32(1) &<< Int32(shift - 1))
    let sh = SIMD16<Int32>(repeating: Int32(shift))
    var x = 0
    while x + 64 <= count {
        var a0 = round, a1 = round, a2 = round, a3 = round, a4 = round, a5 = round, a6 = round, a7 = round
        var k = 0
        while k < pairCount {
            let c = unsafeBitCast(SIMD8<Int32>(repeating: coeffs[k]), to: SIMD16<Int16>.self)
            let p = pairs[k] + 2 * x
            a0 &+= madd(widen16(load16(p)), c)
            a1 &+= madd(widen16(load16(p + 16)), c)
            a2 &+= madd(widen16(load16(p + 32)), c)
            a3 &+= madd(widen16(load16(p + 48)), c)
            a4 &+= madd(widen16(load16(p + 64)), c)
            a5 &+= madd(widen16(load16(p + 80)), c)
            a6 &+= madd(widen16(load16(p + 96)), c)
            a7 &+= madd(widen16(load16(p + 112)), c)
            k += 1
        }
        storeColumns(shiftClampNarrow(SIMD16(lowHalf: a0, highHalf: a1), sh), out, x, paired)
        storeColumns(shiftClampNarrow(SIMD16(lowHalf: a2, highHalf: a3), sh), out, x + 16, paired)
        storeColumns(shiftClampNarrow(SIMD16(lowHalf: a4, highHalf: a5), sh), out, x + 32, paired)
        storeColumns(shiftClampNarrow(SIMD16(lowHalf: a6, highHalf: a7), sh), out, x + 48, paired)
        x += 64
    }
    while x < count {  // 16 columns at a time; the last block may read padding and stores only what is left
        var a0 = round, a1 = round
        var k = 0
        while k < pairCount {
            let c = unsafeBitCast(SIMD8<Int32>(repeating: coeffs[k]), to: SIMD16<Int16>.self)
            let p = pairs[k] + 2 * x
            a0 &+= madd(widen16(load16(p)), c)
            a1 &+= madd(widen16(load16(p + 16)), c)
            k += 1
        }
        let v = shiftClampNarrow(SIMD16(lowHalf: a0, highHalf: a1), sh)
        if x + 16 <= count {
            storeColumns(v, out, x, paired)
        } else {
            storeLastColumns(v, out, x, count - x, paired)
        }
        x += 16
    }
}

/// Stores the 48 columns x ..< x + 48 (three blocks of 16) of one output row, or only those below
/// `count` (see `storeLastColumns`).
@inline(__always) func storeBlock48(_ v0: SIMD16<UInt8>, _ v1: SIMD16<UInt8>, _ v2: SIMD16<UInt8>,
                                    _ out: UnsafeMutablePointer<UInt8>, _ x: Int, _ count: Int, _ paired: Bool) {
    if x + 48 <= count {
        storeColumns(v0, out, x, paired)
        storeColumns(v1, out, x + 16, paired)
        storeColumns(v2, out, x + 32, paired)
        return
    }
    @inline(__always) func store(_ v: SIMD16<UInt8>, _ at: Int) {
        let n = count - at
        if n >= 16 {
            storeColumns(v, out, at, paired)
        } else if n > 0 {
            storeLastColumns(v, out, at, n, paired)
        }
    }
    store(v0, x)
    store(v1, x + 16)
    store(v2, x + 32)
}

/// Prefetch hints for `bytes` bytes from `base`, issued a few cache lines per column block.
struct PrefetchSpread {
    let base: UnsafeRawPointer?
    let lines: Int, perBlock: Int
    var line = 0

    @inline(__always) init(base: UnsafeRawPointer?, bytes: Int, blocks: Int) {
        self.base = base
        lines = bytes / 64
        perBlock = base == nil ? 0 : (lines + blocks - 1) / blocks
    }

    @inline(__always) mutating func next() {
        guard let base else { return }
        var n = perBlock
        while n > 0 && line < lines {
            darkroom_prefetch(base + line &* 64)
            line &+= 1
            n &-= 1
        }
    }
}

/// `verticalPairsU8` for two output rows at once over the same pairs (each pair widened once and
/// multiplied with both rows' weights); pair buffers must be readable 96 bytes past 2·count. Pairs 0..<bothFrom belong to row 0 only, bothFrom..<bothTo to
/// both, bothTo..<pairCount to row 1 only; `coeffs0`/`coeffs1` are indexed by pair (0 outside a window).
/// `prefetch`/`prefetchBytes`: memory to hint into cache meanwhile (no effect on the result);
/// `paired` as in `verticalPairsU8`.
@inline(never)
public func verticalPairs2U8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs0: UnsafePointer<Int32>,
                             coeffs1: UnsafePointer<Int32>, pairCount: Int, bothFrom: Int, bothTo: Int, shift: Int,
                             out0: UnsafeMutablePointer<UInt8>, out1: UnsafeMutablePointer<UInt8>, count: Int,
                             paired: Bool, prefetch: UnsafeRawPointer?, prefetchBytes: Int) {
    let round = SIMD8<Int32>(repeating: Int32(1) &<< Int32(shift - 1))
    let sh = SIMD16<Int32>(repeating: Int32(shift))
    // Prefetch hints for the source rows the next call will need, spread over the column blocks
    // so memory streams in while this sweep computes.
    var hints = PrefetchSpread(base: prefetch, bytes: prefetchBytes, blocks: (count + 47) / 48 + 1)
    var x = 0
    // 48 columns at a time: 12 accumulators keep 12 independent vpdpwssd chains in flight (measured
    // ~14 % faster than 32 with AVX-VNNI; the same with plain AVX2). The last block may read padding
    // and stores only what is left.
    while x < count {
        hints.next()
        var a0 = round, a1 = round, a2 = round, a3 = round, a4 = round, a5 = round
        var b0 = round, b1 = round, b2 = round, b3 = round, b4 = round, b5 = round
        var k = 0
        while k < bothFrom {  // pairs in row 0's window only
            let c = unsafeBitCast(SIMD8<Int32>(repeating: coeffs0[k]), to: SIMD16<Int16>.self)
            let p = pairs[k] + 2 * x
            a0 &+= madd(widen16(load16(p)), c)
            a1 &+= madd(widen16(load16(p + 16)), c)
            a2 &+= madd(widen16(load16(p + 32)), c)
            a3 &+= madd(widen16(load16(p + 48)), c)
            a4 &+= madd(widen16(load16(p + 64)), c)
            a5 &+= madd(widen16(load16(p + 80)), c)
            k += 1
        }
        while k < bothTo {  // pairs in both windows: widened once, used twice
            let c = unsafeBitCast(SIMD8<Int32>(repeating: coeffs0[k]), to: SIMD16<Int16>.self)
            let d = unsafeBitCast(SIMD8<Int32>(repeating: coeffs1[k]), to: SIMD16<Int16>.self)
            let p = pairs[k] + 2 * x
            let v0 = widen16(load16(p)), v1 = widen16(load16(p + 16))
            a0 &+= madd(v0, c); b0 &+= madd(v0, d)
            a1 &+= madd(v1, c); b1 &+= madd(v1, d)
            let v2 = widen16(load16(p + 32)), v3 = widen16(load16(p + 48))
            a2 &+= madd(v2, c); b2 &+= madd(v2, d)
            a3 &+= madd(v3, c); b3 &+= madd(v3, d)
            let v4 = widen16(load16(p + 64)), v5 = widen16(load16(p + 80))
            a4 &+= madd(v4, c); b4 &+= madd(v4, d)
            a5 &+= madd(v5, c); b5 &+= madd(v5, d)
            k += 1
        }
        while k < pairCount {  // pairs in row 1's window only
            let d = unsafeBitCast(SIMD8<Int32>(repeating: coeffs1[k]), to: SIMD16<Int16>.self)
            let p = pairs[k] + 2 * x
            b0 &+= madd(widen16(load16(p)), d)
            b1 &+= madd(widen16(load16(p + 16)), d)
            b2 &+= madd(widen16(load16(p + 32)), d)
            b3 &+= madd(widen16(load16(p + 48)), d)
            b4 &+= madd(widen16(load16(p + 64)), d)
            b5 &+= madd(widen16(load16(p + 80)), d)
            k += 1
        }
        storeBlock48(shiftClampNarrow(SIMD16(lowHalf: a0, highHalf: a1), sh), shiftClampNarrow(SIMD16(lowHalf: a2, highHalf: a3), sh),
                     shiftClampNarrow(SIMD16(lowHalf: a4, highHalf: a5), sh), out0, x, count, paired)
        storeBlock48(shiftClampNarrow(SIMD16(lowHalf: b0, highHalf: b1), sh), shiftClampNarrow(SIMD16(lowHalf: b2, highHalf: b3), sh),
                     shiftClampNarrow(SIMD16(lowHalf: b4, highHalf: b5), sh), out1, x, count, paired)
        x += 48
    }
}

// MARK: - 8-bit premultiply (for the rows the vertical pass reads)

/// (t + (t >> 8)) >> 8 per lane, computed as (t · 257) >> 16 (equal for every t < 2^16, checked
/// exhaustively by the tests): one `pmulhuw` instead of two shifts and an add.
@inline(__always) func divide255Rounded(_ t: SIMD16<UInt16>) -> SIMD16<UInt16> {
    var r = SIMD16<UInt16>()
    for i in 0..<16 { r[i] = UInt16(truncatingIfNeeded: (UInt32(truncatingIfNeeded: t[i]) &* 257) &>> 16) }
    return r
}

/// 8 RGBA pixels premultiplied, c' = (t + (t >> 8)) >> 8 with t = c·a + 128, returned as two vectors
/// of 16-bit lanes: (R, B) and (G, A) per pixel (c·a + 128 < 2^16). Alpha goes through the same
/// formula with factor 255, which returns it unchanged (no blend for LLVM to turn into byte extracts).
@inline(__always) func premultipliedRGBAHalves(_ px: SIMD8<UInt32>) -> (SIMD16<UInt16>, SIMD16<UInt16>) {
    let a32 = px &>> 24
    let a = unsafeBitCast(a32 | (a32 &<< 16), to: SIMD16<UInt16>.self)
    let a255 = unsafeBitCast(a32 | SIMD8<UInt32>(repeating: 255 << 16), to: SIMD16<UInt16>.self)
    let v = unsafeBitCast(px, to: SIMD16<UInt16>.self)
    return (divide255Rounded((v & 0x00FF) &* a &+ 128), divide255Rounded((v &>> 8) &* a255 &+ 128))
}

/// Interleaves the 16-bit lanes of l and h (l0 h0 l1 h1 …) into 64 bytes at `d` (`vpunpcklwd`/`vpunpckhwd`
/// + two `vperm2i128`).
@inline(__always) func storeInterleaved16(_ l: SIMD16<UInt16>, _ h: SIMD16<UInt16>, _ d: UnsafeMutableRawPointer) {
    let lo = SIMD16<UInt16>(l[0], h[0], l[1], h[1], l[2], h[2], l[3], h[3], l[4], h[4], l[5], h[5], l[6], h[6], l[7], h[7])
    let hi = SIMD16<UInt16>(l[8], h[8], l[9], h[9], l[10], h[10], l[11], h[11], l[12], h[12], l[13], h[13], l[14], h[14], l[15], h[15])
    d.storeBytes(of: lo, as: SIMD16<UInt16>.self)
    d.storeBytes(of: hi, toByteOffset: 32, as: SIMD16<UInt16>.self)
}

/// One pixel premultiplied, scalar (row tails).
@inline(__always) func premultiplyPixel(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, _ channels: Int) {
    let a = UInt32(src[channels - 1])
    for c in 0..<(channels - 1) {
        let t = UInt32(src[c]) &* a &+ 128
        dst[c] = UInt8(truncatingIfNeeded: (t &+ (t &>> 8)) &>> 8)
    }
    dst[channels - 1] = UInt8(truncatingIfNeeded: a)
}

/// 32 bytes of row a and of row b interleaved byte by byte into 64 bytes at `d` (written as lane
/// picks, which LLVM lowers to `vpunpcklbw`/`vpunpckhbw` + two `vperm2i128`).
@inline(__always) func storeInterleaved(_ a: SIMD32<UInt8>, _ b: SIMD32<UInt8>, _ d: UnsafeMutableRawPointer) {
    let lo = SIMD32<UInt8>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7],
                           a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
    let hi = SIMD32<UInt8>(a[16], b[16], a[17], b[17], a[18], b[18], a[19], b[19], a[20], b[20], a[21], b[21], a[22], b[22], a[23], b[23],
                           a[24], b[24], a[25], b[25], a[26], b[26], a[27], b[27], a[28], b[28], a[29], b[29], a[30], b[30], a[31], b[31])
    d.storeBytes(of: lo, as: SIMD32<UInt8>.self)
    d.storeBytes(of: hi, toByteOffset: 32, as: SIMD32<UInt8>.self)
}

/// Rows a and b premultiplied (2 or 4 channels; c' = (t + (t >> 8)) >> 8 with t = c·a + 128, as
/// `ScalarKernels.premultiplyU8`) and interleaved as by `interleaveRowsU8`, in one pass:
/// `dst` gets 2 · pixels · channels bytes.
@inline(never)
public func premultiplyInterleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>,
                                        pixels: Int, channels: Int) {
    var i = 0
    let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), d = UnsafeMutableRawPointer(dst)
    if channels == 4 {
        while i + 8 <= pixels {
            // Each row's (R, B) and (G, A) products in 16-bit lanes; rows a and b are joined per lane
            // (RR, BB) and (GG, AA), and the two joined vectors interleaved by 16-bit lane give
            // Ra Rb Ga Gb Ba Bb Aa Ab per pixel.
            let (la, ha) = premultipliedRGBAHalves(ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self))
            let (lb, hb) = premultipliedRGBAHalves(rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self))
            storeInterleaved16(la | (lb &<< 8), ha | (hb &<< 8), d + i * 8)
            i += 8
        }
    } else {
        while i + 16 <= pixels {
            // Gray products of both rows joined per 16-bit lane (GG), alphas likewise (AA), then
            // interleaved by lane: Ga Gb Aa Ab per pixel.
            let va = ra.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<UInt16>.self)
            let vb = rb.loadUnaligned(fromByteOffset: i * 2, as: SIMD16<UInt16>.self)
            let ga = divide255Rounded((va & 0x00FF) &* (va &>> 8) &+ 128)
            let gb = divide255Rounded((vb & 0x00FF) &* (vb &>> 8) &+ 128)
            storeInterleaved16(ga | (gb &<< 8), (va &>> 8) | (vb & 0xFF00), d + i * 4)
            i += 16
        }
    }
    var pa = (UInt32(0), UInt32(0)), pb = (UInt32(0), UInt32(0))  // one premultiplied pixel (up to 4 bytes) each
    while i < pixels {
        withUnsafeMutableBytes(of: &pa) { qa in
            withUnsafeMutableBytes(of: &pb) { qb in
                let ta = qa.baseAddress!.assumingMemoryBound(to: UInt8.self)
                let tb = qb.baseAddress!.assumingMemoryBound(to: UInt8.self)
                premultiplyPixel(a + i * channels, ta, channels)
                premultiplyPixel(b + i * channels, tb, channels)
                for c in 0..<channels {
                    dst[2 * (i * channels + c)] = ta[c]
                    dst[2 * (i * channels + c) + 1] = tb[c]
                }
            }
        }
        i += 1
    }
}

// MARK: - 8-bit horizontal pass

/// Rewrites one intermediate row for the horizontal kernel: pixels in pairs (2q, 2q+1) with each
/// channel's two samples adjacent, RGB padded to 4 lanes: RGBA/RGB → R0 R1 G0 G1 B0 B1 A0 A1 (X = 0),
/// gray+alpha → G0 G1 A0 A1, gray unchanged; samples widened to Int16 so the horizontal kernel can
/// multiply straight from memory. `dst` gets `2 · lanes · pixels` bytes (lanes = 4, 4, 2, 1), rounded
/// up to whole pairs (a missing last pixel reads as the padding after `src`).
/// `src` must be readable 16 bytes past its end.
@inline(never)
public func pairPixelsU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
    let d = UnsafeMutableRawPointer(dst)
    var i = 0
    switch channels {
    case 4:  // (the vertical pass writes RGBA rows in this layout itself; kept for completeness and tests)
        while i < pixels {  // 4 pixels per step; the last step may run into the padding
            d.storeBytes(of: pairedRGBA(load16(src + i * 4)), toByteOffset: i * 8, as: SIMD16<Int16>.self)
            i += 4
        }
    case 3:
        while i < pixels {
            let v = load16(src + i * 3)
            d.storeBytes(of: widen16(SIMD16<UInt8>(v[0], v[3], v[1], v[4], v[2], v[5], 0, 0, v[6], v[9], v[7], v[10], v[8], v[11], 0, 0)), toByteOffset: i * 8, as: SIMD16<Int16>.self)
            i += 4
        }
    case 2:
        while i < pixels {
            let v = load16(src + i * 2)
            d.storeBytes(of: widen16(SIMD16<UInt8>(v[0], v[2], v[1], v[3], v[4], v[6], v[5], v[7], v[8], v[10], v[9], v[11], v[12], v[14], v[13], v[15])), toByteOffset: i * 4, as: SIMD16<Int16>.self)
            i += 8
        }
    default:  // plain copy (a memcpy call would leave the kernel)
        while i < pixels {
            d.storeBytes(of: widen16(load16(src + i)), toByteOffset: 2 * i, as: SIMD16<Int16>.self)
            i += 16
        }
    }
}

/// Horizontal pass over up to 4 rows at once (`rows` 1...4; row j at `src + j * srcStride`, output at
/// `dst + j * dstStride`) of rows prepared by `pairPixelsU8` (`lanes` bytes per pixel: 4 for RGB and
/// RGBA, 2 for gray+alpha, 1 for gray; Int16 samples). Per output pixel i, `groups[i]` SIMD16<Int16> coefficient
/// vectors at `coeffs + i * coeffStride` cover 16 / lanes taps each, from the pair-aligned source
/// pixel `starts[i]` (even); each is one `pmaddwd` per row. One coefficient load serves all rows.
/// Source rows must be readable 64 bytes past their end (zero weights cover the overrun).
/// Premultiplied output is unpremultiplied afterwards by `unpremultiplyU8`.
@inline(never)
public func horizontalU8(src: UnsafePointer<UInt8>, srcStride: Int, dst: UnsafeMutablePointer<UInt8>, dstStride: Int,
                         rows: Int, dstWidth: Int, channels: Int,
                         starts: UnsafePointer<Int32>, groups: UnsafePointer<Int32>,
                         coeffs: UnsafePointer<Int16>, coeffStride: Int, shift: Int) {
    // Missing rows (rows < 4) re-read row 0 and are not stored.
    let s1 = rows > 1 ? srcStride : 0, s2 = rows > 2 ? 2 * srcStride : 0, s3 = rows > 3 ? 3 * srcStride : 0
    switch channels {
    case 3, 4:
        horizontalU8Rows(src, s1, s2, s3, dst, dstStride, rows, dstWidth, channels, 4, starts, groups, coeffs,
                         coeffStride, shift)
    case 2:
        horizontalU8Rows(src, s1, s2, s3, dst, dstStride, rows, dstWidth, 2, 2, starts, groups, coeffs, coeffStride,
                         shift)
    default:
        horizontalU8Rows(src, s1, s2, s3, dst, dstStride, rows, dstWidth, 1, 1, starts, groups, coeffs, coeffStride,
                         shift)
    }
}

/// The 8 pair sums folded to one pixel by halving: lane c is the channel-c total for `lanes`
/// 4, 2, 1; lanes >= `lanes` are 0.
@inline(__always) func fold(_ v: SIMD8<Int32>, _ lanes: Int) -> SIMD4<Int32> {
    let q = v.lowHalf &+ v.highHalf
    switch lanes {
    case 4:
        return q
    case 2:
        let d = q.lowHalf &+ q.highHalf
        return SIMD4<Int32>(d[0], d[1], 0, 0)
    default:
        let d = q.lowHalf &+ q.highHalf
        return SIMD4<Int32>(d[0] &+ d[1], 0, 0, 0)
    }
}

@inline(__always)
func horizontalU8Rows(_ src: UnsafePointer<UInt8>, _ s1: Int, _ s2: Int, _ s3: Int,
                      _ dst: UnsafeMutablePointer<UInt8>, _ dstStride: Int, _ rows: Int, _ dstWidth: Int,
                      _ channels: Int, _ lanes: Int,
                      _ starts: UnsafePointer<Int32>, _ groups: UnsafePointer<Int32>,
                      _ coeffs: UnsafePointer<Int16>, _ coeffStride: Int, _ shift: Int) {
    let round = SIMD16<Int32>(repeating: Int32(1) &<< Int32(shift - 1))
    let sh = SIMD16<Int32>(repeating: Int32(shift))
    let rawCoeffs = UnsafeRawPointer(coeffs)
    for i in 0..<dstWidth {
        var p = UnsafeRawPointer(src + Int(starts[i]) * lanes * 2)
        var c = rawCoeffs + i * coeffStride * 2
        var a0 = SIMD8<Int32>(), a1 = a0, a2 = a0, a3 = a0
        var g = Int(groups[i])
        if g == 4 {  // the common case (e.g. Lanczos3 at 2-2.5x): no loop, a tree of adds per row
            let w0 = c.loadUnaligned(as: SIMD16<Int16>.self), w1 = c.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self)
            let w2 = c.loadUnaligned(fromByteOffset: 64, as: SIMD16<Int16>.self)
            let w3 = c.loadUnaligned(fromByteOffset: 96, as: SIMD16<Int16>.self)
            @inline(__always) func row(_ q: UnsafeRawPointer) -> SIMD8<Int32> {
                (madd(loadI16(q), w0) &+ madd(loadI16(q + 32), w1)) &+ (madd(loadI16(q + 64), w2) &+ madd(loadI16(q + 96), w3))
            }
            a0 = row(p)
            a1 = row(p + s1)
            a2 = row(p + s2)
            a3 = row(p + s3)
            g = 0
        }
        while g > 0 {
            let w = c.loadUnaligned(as: SIMD16<Int16>.self)
            a0 &+= madd(loadI16(p), w)
            a1 &+= madd(loadI16(p + s1), w)
            a2 &+= madd(loadI16(p + s2), w)
            a3 &+= madd(loadI16(p + s3), w)
            p += 32
            c += 32
            g -= 1
        }
        // Row j's pixel in lanes 4j ..< 4j + channels.
        let block = SIMD16<Int32>(lowHalf: SIMD8<Int32>(lowHalf: fold(a0, lanes), highHalf: fold(a1, lanes)),
                                  highHalf: SIMD8<Int32>(lowHalf: fold(a2, lanes), highHalf: fold(a3, lanes)))
        let out = shiftClampNarrow(block &+ round, sh)
        let px = unsafeBitCast(out, to: SIMD4<UInt32>.self)
        let o = UnsafeMutableRawPointer(dst + i * channels)
        switch channels {
        case 4:
            for j in 0..<rows { o.storeBytes(of: px[j], toByteOffset: j * dstStride, as: UInt32.self) }
        case 3:
            if i + 1 < dstWidth {  // 4-byte store; the spare byte is overwritten by pixel i + 1
                for j in 0..<rows { o.storeBytes(of: px[j], toByteOffset: j * dstStride, as: UInt32.self) }
            } else {
                for j in 0..<rows {
                    o.storeBytes(of: UInt16(truncatingIfNeeded: px[j]), toByteOffset: j * dstStride, as: UInt16.self)
                    o.storeBytes(of: UInt8(truncatingIfNeeded: px[j] >> 16), toByteOffset: j * dstStride + 2, as: UInt8.self)
                }
            }
        case 2:
            for j in 0..<rows { o.storeBytes(of: UInt16(truncatingIfNeeded: px[j]), toByteOffset: j * dstStride, as: UInt16.self) }
        default:
            for j in 0..<rows { o.storeBytes(of: UInt8(truncatingIfNeeded: px[j]), toByteOffset: j * dstStride, as: UInt8.self) }
        }
    }
}

/// min(v, 255) per lane for v < 2^31, with whole-vector operations only (lane loops with `min`
/// can end up scalarised): the sign of 255 - v selects 255.
@inline(__always) func min255(_ v: SIMD8<UInt32>) -> SIMD8<UInt32> {
    let over = SIMD8<UInt32>(repeating: 0) &- ((SIMD8<UInt32>(repeating: 255) &- v) &>> 31)  // all ones where v > 255
    return (v & ~over) | (over & 255)
}

/// Unpremultiplies a row of 8-bit RGBA or gray+alpha pixels in place:
/// colour = min(255, (c · recip[a]) >> 16), recip[a] = ceil(255·2^16/a), recip[0] = 2^16 (identity),
/// which equals Pillow's a == 0 ? c : min(255, 255·c / a) exactly. Blocks of 8 pixels whose
/// alphas are all 0 or 255 are left as they are.
@inline(never)
public func unpremultiplyU8(row: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int, recip: UnsafePointer<UInt32>) {
    var i = 0
    let raw = UnsafeMutableRawPointer(row)
    if channels == 4 {
        let byte = SIMD8<UInt32>(repeating: 0xFF)
        while i + 8 <= pixels {
            let px = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<UInt32>.self)
            let a = px &>> 24
            // a + 1 is 1 or 256 exactly when a is 0 or 255: nothing to do.
            // (SIMD mask comparisons are lowered lane by lane through memory; OR-reduce instead.)
            let t = (a &+ 1) & 0xFE
            let t4 = t.lowHalf | t.highHalf, t2 = t4.lowHalf | t4.highHalf
            if t2[0] | t2[1] != 0 {
                var r = SIMD8<UInt32>()
                for l in 0..<8 { r[l] = recip[Int(a[l])] }
                let c0 = min255(((px & byte) &* r) &>> 16)
                let c1 = min255((((px &>> 8) & byte) &* r) &>> 16)
                let c2 = min255((((px &>> 16) & byte) &* r) &>> 16)
                let out = c0 | (c1 &<< 8) | (c2 &<< 16) | (px & 0xFF00_0000)
                raw.storeBytes(of: out, toByteOffset: i * 4, as: SIMD8<UInt32>.self)
            }
            i += 8
        }
    } else if channels == 2 {
        let byte = SIMD8<UInt32>(repeating: 0xFF)
        while i + 8 <= pixels {
            let v = raw.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
            var px = SIMD8<UInt32>()
            for l in 0..<8 { px[l] = UInt32(truncatingIfNeeded: v[l]) }
            let a = px &>> 8
            let t = (a &+ 1) & 0xFE  // as above: skip blocks whose alphas are all 0 or 255
            let t4 = t.lowHalf | t.highHalf, t2 = t4.lowHalf | t4.highHalf
            if t2[0] | t2[1] != 0 {
                var r = SIMD8<UInt32>()
                for l in 0..<8 { r[l] = recip[Int(a[l])] }
                let out = min255(((px & byte) &* r) &>> 16) | (a &<< 8)
                var o = SIMD8<UInt16>()
                for l in 0..<8 { o[l] = UInt16(truncatingIfNeeded: out[l]) }
                raw.storeBytes(of: o, toByteOffset: i * 2, as: SIMD8<UInt16>.self)
            }
            i += 8
        }
    }
    while i < pixels {
        let base = i * channels
        let r = recip[Int(row[base + channels - 1])]
        for c in 0..<(channels - 1) { row[base + c] = UInt8(truncatingIfNeeded: min((UInt32(row[base + c]) &* r) &>> 16, 255)) }
        i += 1
    }
}

// MARK: - 16-bit path (Float32 coefficients, Float intermediate)

/// 16-bit samples to Float; with `premultiply` (2 or 4 channels) colour becomes
/// Float(c) · (Float(a) · (1/65535)) and alpha stays Float(a).
@inline(never)
public func loadU16(src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<Float>, pixels: Int, channels: Int,
                   premultiply: Bool) {
    let n = pixels * channels
    let inv: Float = 1 / 65535
    var i = 0
    let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
    @inline(__always) func convert(_ at: Int) -> SIMD8<Float> {
        let v = s.loadUnaligned(fromByteOffset: at * 2, as: SIMD8<UInt16>.self)
        var f = SIMD8<Float>()
        for l in 0..<8 { f[l] = Float(v[l]) }
        return f
    }
    @inline(__always) func premultiplied(_ f: SIMD8<Float>, _ c: Int) -> SIMD8<Float> {
        var m = SIMD8<Float>()
        for l in 0..<8 { m[l] = l % c == c - 1 ? 1 : f[(l / c) * c + c - 1] * inv }
        return f * m
    }
    if premultiply && channels == 4 {
        while i + 8 <= n { d.storeBytes(of: premultiplied(convert(i), 4), toByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    } else if premultiply && channels == 2 {
        while i + 8 <= n { d.storeBytes(of: premultiplied(convert(i), 2), toByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    } else if !premultiply {
        while i + 8 <= n { d.storeBytes(of: convert(i), toByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
    }
    while i < n {  // whole pixels remain (8 is a multiple of 2 and 4)
        let c = i % channels
        let v = Float(src[i])
        if premultiply && c < channels - 1 {
            dst[i] = v * (Float(src[i - c + channels - 1]) * inv)
        } else {
            dst[i] = v
        }
        i += 1
    }
}

/// out[x] = Σ_k coeffs[k] * rows[k][x], accumulated from 0 in tap order (acc = acc + c * v).
@inline(never)
public func verticalF32(rows: UnsafePointer<UnsafePointer<Float>>, coeffs: UnsafePointer<Float>, taps: Int,
                        out: UnsafeMutablePointer<Float>, count: Int) {
    var x = 0
    while x + 32 <= count {
        var a0 = SIMD8<Float>(), a1 = a0, a2 = a0, a3 = a0
        var k = 0
        while k < taps {
            let c = SIMD8<Float>(repeating: coeffs[k])
            let p = UnsafeRawPointer(rows[k] + x)
            a0 = a0 + c * p.loadUnaligned(as: SIMD8<Float>.self)
            a1 = a1 + c * p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            a2 = a2 + c * p.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
            a3 = a3 + c * p.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
            k += 1
        }
        let o = UnsafeMutableRawPointer(out + x)
        o.storeBytes(of: a0, as: SIMD8<Float>.self)
        o.storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self)
        o.storeBytes(of: a2, toByteOffset: 64, as: SIMD8<Float>.self)
        o.storeBytes(of: a3, toByteOffset: 96, as: SIMD8<Float>.self)
        x += 32
    }
    while x + 8 <= count {
        var a0 = SIMD8<Float>()
        var k = 0
        while k < taps {
            a0 = a0 + SIMD8<Float>(repeating: coeffs[k]) * UnsafeRawPointer(rows[k] + x).loadUnaligned(as: SIMD8<Float>.self)
            k += 1
        }
        UnsafeMutableRawPointer(out + x).storeBytes(of: a0, as: SIMD8<Float>.self)
        x += 8
    }
    while x < count {
        var acc: Float = 0
        var k = 0
        while k < taps {
            acc = acc + coeffs[k] * rows[k][x]
            k += 1
        }
        out[x] = acc
        x += 1
    }
}

/// Horizontal Float pass storing UInt16: per pixel and channel acc = Σ_k c_k · src[(start+k)·C + ch]
/// in tap order; with `unpremultiply` colour *= 65535 / A when the clamped alpha A >= 0.5;
/// then clamp to 0...65535 and round half to even (x + 1.5·2^23, low mantissa bits).
/// `src` must be readable 4 floats past its last sample. Four pixels with equal tap counts run
/// their (unchanged) accumulation chains side by side.
@inline(never)
public func horizontalF32(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt16>, dstWidth: Int, channels: Int,
                          starts: UnsafePointer<Int32>, counts: UnsafePointer<Int32>,
                          coeffs: UnsafePointer<Float>, coeffStride: Int, unpremultiply: Bool) {
    let raw = UnsafeRawPointer(src)
    let step = channels * 4
    var i = 0
    while i < dstWidth {
        let n = Int(counts[i])
        if i + 3 < dstWidth && Int(counts[i + 1]) == n && Int(counts[i + 2]) == n && Int(counts[i + 3]) == n {
            var a0 = SIMD4<Float>(), a1 = a0, a2 = a0, a3 = a0
            let c0 = coeffs + i * coeffStride, c1 = c0 + coeffStride, c2 = c1 + coeffStride, c3 = c2 + coeffStride
            var o0 = Int(starts[i]) * step, o1 = Int(starts[i + 1]) * step
            var o2 = Int(starts[i + 2]) * step, o3 = Int(starts[i + 3]) * step
            var k = 0
            while k < n {
                a0 = a0 + SIMD4<Float>(repeating: c0[k]) * raw.loadUnaligned(fromByteOffset: o0, as: SIMD4<Float>.self)
                a1 = a1 + SIMD4<Float>(repeating: c1[k]) * raw.loadUnaligned(fromByteOffset: o1, as: SIMD4<Float>.self)
                a2 = a2 + SIMD4<Float>(repeating: c2[k]) * raw.loadUnaligned(fromByteOffset: o2, as: SIMD4<Float>.self)
                a3 = a3 + SIMD4<Float>(repeating: c3[k]) * raw.loadUnaligned(fromByteOffset: o3, as: SIMD4<Float>.self)
                o0 &+= step; o1 &+= step; o2 &+= step; o3 &+= step
                k += 1
            }
            storeU16(a0, dst + i * channels, channels, unpremultiply)
            storeU16(a1, dst + (i + 1) * channels, channels, unpremultiply)
            storeU16(a2, dst + (i + 2) * channels, channels, unpremultiply)
            storeU16(a3, dst + (i + 3) * channels, channels, unpremultiply)
            i += 4
        } else {
            var acc = SIMD4<Float>()
            let c = coeffs + i * coeffStride
            var off = Int(starts[i]) * step
            var k = 0
            while k < n {
                acc = acc + SIMD4<Float>(repeating: c[k]) * raw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
                off &+= step
                k += 1
            }
            storeU16(acc, dst + i * channels, channels, unpremultiply)
            i += 1
        }
    }
}

/// Clamp, unpremultiply, clamp, round one pixel (see `horizontalF32`).
@inline(__always) func storeU16(_ sum: SIMD4<Float>, _ o: UnsafeMutablePointer<UInt16>, _ channels: Int, _ unpremultiply: Bool) {
    var acc = clamp65535(sum)
    if unpremultiply {
        let alphaLane = channels - 1
        let a = acc[alphaLane]
        if a >= 0.5 {
            var f = SIMD4<Float>(repeating: 65535 / a)
            f[alphaLane] = 1
            acc = clamp65535(acc * f)
        }
    }
    let bits = unsafeBitCast(acc + SIMD4<Float>(repeating: 12_582_912), to: SIMD4<UInt32>.self)
    for ch in 0..<channels { o[ch] = UInt16(truncatingIfNeeded: bits[ch]) }
}
