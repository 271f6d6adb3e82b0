// Resampling kernels. This one file is compiled twice: as DarkroomKernels (baseline x86-64) and,
// through a symlink, as DarkroomKernelsAVX2 (-target-cpu haswell). Entry points are
// @inline(never) and take only raw pointers and integers, so AVX2 code never gets inlined into a
// baseline caller and the two modules share no types.
//
// The readable definition of every kernel is its scalar twin in
// Sources/Darkroom/Resample/ScalarKernels.swift; these must produce bit-identical output.
// Traps avoided on purpose (see research/swift-feasibility.md section 2): no `addingProduct`
// (an `fmaf` libcall without FMA), no `clamped`/`rounding:` conversions on SIMD (out-of-line),
// own @inline(__always) widen/narrow helpers instead of stdlib SIMD conversions. Integer maths
// uses wrapping operators; floats use `a + b * c` (never contracted), so both builds agree.

// MARK: - helpers

@inline(__always) func load16(_ p: UnsafePointer<UInt8>) -> SIMD16<UInt8> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<UInt8>.self)
}

@inline(__always) func widen(_ v: SIMD16<UInt8>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(truncatingIfNeeded: v[i]) }
    return r
}

@inline(__always) func widen(_ v: SIMD16<Int16>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(truncatingIfNeeded: v[i]) }
    return r
}

/// (v >> shift) clamped to 0...255 and narrowed to bytes.
@inline(__always) func shiftClampNarrow(_ v: SIMD16<Int32>, _ shift: SIMD16<Int32>) -> SIMD16<UInt8> {
    var c = v &>> shift
    c.replace(with: 0, where: c .< 0)
    c.replace(with: 255, where: c .> 255)
    var r = SIMD16<UInt8>()
    for i in 0..<16 { r[i] = UInt8(truncatingIfNeeded: c[i]) }
    return r
}

// MARK: - 8-bit vertical pass (layout independent: every byte of a row is one sample)

/// out[x] = clamp((2^(shift-1) + Σ_k coeffs[k] * rows[k][x]) >> shift, 0, 255) for x in 0..<count.
@inline(never)
public func verticalU8(rows: UnsafePointer<UnsafePointer<UInt8>>, coeffs: UnsafePointer<Int16>, taps: Int,
                       shift: Int, out: UnsafeMutablePointer<UInt8>, count: Int) {
    let round = Int32(1) &<< Int32(shift - 1)
    let sh = SIMD16<Int32>(repeating: Int32(shift))
    var x = 0
    while x + 64 <= count {
        var a0 = SIMD16<Int32>(repeating: round), a1 = a0, a2 = a0, a3 = a0
        var k = 0
        while k < taps {
            let c = SIMD16<Int32>(repeating: Int32(coeffs[k]))
            let p = rows[k] + x
            a0 &+= widen(load16(p)) &* c
            a1 &+= widen(load16(p + 16)) &* c
            a2 &+= widen(load16(p + 32)) &* c
            a3 &+= widen(load16(p + 48)) &* c
            k += 1
        }
        let o = UnsafeMutableRawPointer(out + x)
        o.storeBytes(of: shiftClampNarrow(a0, sh), as: SIMD16<UInt8>.self)
        o.storeBytes(of: shiftClampNarrow(a1, sh), toByteOffset: 16, as: SIMD16<UInt8>.self)
        o.storeBytes(of: shiftClampNarrow(a2, sh), toByteOffset: 32, as: SIMD16<UInt8>.self)
        o.storeBytes(of: shiftClampNarrow(a3, sh), toByteOffset: 48, as: SIMD16<UInt8>.self)
        x += 64
    }
    while x + 16 <= count {
        var a0 = SIMD16<Int32>(repeating: round)
        var k = 0
        while k < taps {
            a0 &+= widen(load16(rows[k] + x)) &* SIMD16<Int32>(repeating: Int32(coeffs[k]))
            k += 1
        }
        UnsafeMutableRawPointer(out + x).storeBytes(of: shiftClampNarrow(a0, sh), as: SIMD16<UInt8>.self)
        x += 16
    }
    while x < count {
        var acc = round
        var k = 0
        while k < taps {
            acc &+= Int32(truncatingIfNeeded: rows[k][x]) &* Int32(truncatingIfNeeded: coeffs[k])
            k += 1
        }
        acc = acc &>> Int32(shift)
        out[x] = UInt8(truncatingIfNeeded: acc < 0 ? 0 : (acc > 255 ? 255 : acc))
        x += 1
    }
}

// MARK: - 8-bit premultiply (for the rows the vertical pass reads)

/// Premultiplies `pixels` pixels of 2 or 4 channels: c' = (t + (t >> 8)) >> 8 with t = c·a + 128.
@inline(never)
public func premultiplyU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
    var i = 0
    if channels == 4 {
        let lowMask = SIMD8<UInt32>(repeating: 0x00FF_00FF)
        let half = SIMD8<UInt32>(repeating: 0x0080_0080)
        let alphaMask = SIMD8<UInt32>(repeating: 0xFF00_0000)
        while i + 8 <= pixels {
            let px = UnsafeRawPointer(src + i * 4).loadUnaligned(as: SIMD8<UInt32>.self)
            let a = px &>> 24
            var rb = (px & lowMask) &* a &+ half
            rb = ((rb &+ ((rb &>> 8) & lowMask)) &>> 8) & lowMask
            var ga = ((px &>> 8) & lowMask) &* a &+ half
            ga = (ga &+ ((ga &>> 8) & lowMask)) & ~lowMask
            let out = rb | (ga & 0x0000_FF00) | (px & alphaMask)
            UnsafeMutableRawPointer(dst + i * 4).storeBytes(of: out, as: SIMD8<UInt32>.self)
            i += 8
        }
    } else if channels == 2 {
        let lowMask = SIMD16<UInt16>(repeating: 0x00FF)
        while i + 16 <= pixels {
            let px = UnsafeRawPointer(src + i * 2).loadUnaligned(as: SIMD16<UInt16>.self)
            let a = px &>> 8
            var t = (px & lowMask) &* a &+ 128
            t = (t &+ (t &>> 8)) &>> 8
            UnsafeMutableRawPointer(dst + i * 2).storeBytes(of: t | (a &<< 8), as: SIMD16<UInt16>.self)
            i += 16
        }
    }
    while i < pixels {
        let base = i * channels
        let a = UInt32(src[base + channels - 1])
        for c in 0..<(channels - 1) {
            let t = UInt32(src[base + c]) &* a &+ 128
            dst[base + c] = UInt8(truncatingIfNeeded: (t &+ (t &>> 8)) &>> 8)
        }
        dst[base + channels - 1] = UInt8(truncatingIfNeeded: a)
        i += 1
    }
}

// MARK: - 8-bit horizontal pass

/// Horizontal pass for `channels` 1...4 with pre-broadcast coefficients: per output pixel i,
/// `groups[i]` SIMD16<Int16> vectors at `coeffs + i * coeffStride`, each covering
/// `16 / channels` taps (4 for RGBA, 5 for RGB: 15 lanes) starting at source pixel `starts[i]`.
/// `src` must be readable well past its last pixel (zero coefficients cover the overrun).
/// With `unpremultiply`, colour = min(255, (c · recip[a]) >> 16) where recip[a] = ceil(255·2^16/a)
/// (recip[0] = 2^16), which equals Pillow's a == 0 ? c : min(255, 255·c / a) exactly.
@inline(never)
public func horizontalU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, dstWidth: Int, channels: Int,
                         starts: UnsafePointer<Int32>, groups: UnsafePointer<Int32>,
                         coeffs: UnsafePointer<Int16>, coeffStride: Int, shift: Int,
                         unpremultiply: Bool, recip: UnsafePointer<UInt32>) {
    switch channels {
    case 4:
        horizontalU8Pixels(src, dst, dstWidth, 4, 4, 4, starts, groups, coeffs, coeffStride, shift, unpremultiply, recip)
    case 3:
        horizontalU8Pixels(src, dst, dstWidth, 3, 5, 5, starts, groups, coeffs, coeffStride, shift, false, recip)
    case 2:
        horizontalU8Pixels(src, dst, dstWidth, 2, 8, 8, starts, groups, coeffs, coeffStride, shift, unpremultiply, recip)
    default:
        horizontalU8Pixels(src, dst, dstWidth, 1, 16, 16, starts, groups, coeffs, coeffStride, shift, false, recip)
    }
}

/// Sum of the 16 lanes folded to `channels` lanes per tap position: lane c of the result is
/// Σ_j v[j * channels + c] (for channels 4, 2, 1 by halving; for 3, five triples).
@inline(__always) func fold(_ v: SIMD16<Int32>, _ channels: Int) -> SIMD4<Int32> {
    switch channels {
    case 4:
        let h = v.lowHalf &+ v.highHalf
        return h.lowHalf &+ h.highHalf
    case 3:
        var r = SIMD4<Int32>()
        r[0] = v[0] &+ v[3] &+ v[6] &+ v[9] &+ v[12]
        r[1] = v[1] &+ v[4] &+ v[7] &+ v[10] &+ v[13]
        r[2] = v[2] &+ v[5] &+ v[8] &+ v[11] &+ v[14]
        return r
    case 2:
        let h = v.lowHalf &+ v.highHalf
        let q = h.lowHalf &+ h.highHalf
        let d = q.lowHalf &+ q.highHalf
        return SIMD4<Int32>(d[0], d[1], 0, 0)
    default:
        let h = v.lowHalf &+ v.highHalf
        let q = h.lowHalf &+ h.highHalf
        let d = q.lowHalf &+ q.highHalf
        return SIMD4<Int32>(d[0] &+ d[1], 0, 0, 0)
    }
}

/// Computes `perBlock` output pixels per iteration (perBlock * channels <= 16 lanes), then one
/// vectorised epilogue (round, shift, clamp, unpremultiply, narrow) for the whole block.
@inline(__always)
func horizontalU8Pixels(_ src: UnsafePointer<UInt8>, _ dst: UnsafeMutablePointer<UInt8>, _ dstWidth: Int,
                        _ channels: Int, _ tapsPerGroup: Int, _ perBlock: Int,
                        _ starts: UnsafePointer<Int32>, _ groups: UnsafePointer<Int32>,
                        _ coeffs: UnsafePointer<Int16>, _ coeffStride: Int, _ shift: Int,
                        _ unpremultiply: Bool, _ recip: UnsafePointer<UInt32>) {
    let round = SIMD16<Int32>(repeating: Int32(1) &<< Int32(shift - 1))
    let sh = SIMD16<Int32>(repeating: Int32(shift))
    let groupBytes = tapsPerGroup * channels
    let rawCoeffs = UnsafeRawPointer(coeffs)
    var i = 0
    while i < dstWidth {
        let n = min(perBlock, dstWidth - i)
        var block = SIMD16<Int32>()
        for j in 0..<n {
            let px = i + j
            var p = src + Int(starts[px]) * channels
            var c = rawCoeffs + px * coeffStride * 2
            var acc0 = SIMD16<Int32>(), acc1 = SIMD16<Int32>()
            var g = Int(groups[px])
            while g >= 2 {
                acc0 &+= widen(load16(p)) &* widen(c.loadUnaligned(as: SIMD16<Int16>.self))
                acc1 &+= widen(load16(p + groupBytes)) &* widen(c.loadUnaligned(fromByteOffset: 32, as: SIMD16<Int16>.self))
                p += 2 * groupBytes
                c += 64
                g -= 2
            }
            if g > 0 {
                acc0 &+= widen(load16(p)) &* widen(c.loadUnaligned(as: SIMD16<Int16>.self))
            }
            let s = fold(acc0 &+ acc1, channels)
            for ch in 0..<channels { block[j * channels + ch] = s[ch] }
        }
        let v = shiftClampNarrow(block &+ round, sh)
        var out = v
        if unpremultiply {
            // colour lanes: min(255, (c * recip[a]) >> 16); alpha lanes multiply by 2^16 (identity).
            var r = SIMD16<UInt32>(repeating: 65536)
            for j in 0..<n {
                let a = Int(v[j * channels + channels - 1])
                let ra = recip[a]
                for ch in 0..<(channels - 1) { r[j * channels + ch] = ra }
            }
            var w = SIMD16<UInt32>()
            for l in 0..<16 { w[l] = UInt32(truncatingIfNeeded: v[l]) }
            w = (w &* r) &>> 16
            w.replace(with: 255, where: w .> 255)
            for l in 0..<16 { out[l] = UInt8(truncatingIfNeeded: w[l]) }
        }
        let bytes = n * channels
        let o = dst + i * channels
        if n == perBlock && (dstWidth - i) * channels >= 16 {
            UnsafeMutableRawPointer(o).storeBytes(of: out, as: SIMD16<UInt8>.self)
        } else {
            for l in 0..<bytes { o[l] = out[l] }
        }
        i += n
    }
}

// MARK: - 16-bit path (Float32 coefficients, Float intermediate)

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
/// `src` must be readable 4 floats past its last sample.
@inline(never)
public func horizontalF32(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt16>, dstWidth: Int, channels: Int,
                          starts: UnsafePointer<Int32>, counts: UnsafePointer<Int32>,
                          coeffs: UnsafePointer<Float>, coeffStride: Int, unpremultiply: Bool) {
    let raw = UnsafeRawPointer(src)
    let alphaLane = channels - 1
    for i in 0..<dstWidth {
        var acc = SIMD4<Float>()
        let c = coeffs + i * coeffStride
        var off = Int(starts[i]) * channels * 4
        let n = Int(counts[i])
        var k = 0
        while k < n {
            acc = acc + SIMD4<Float>(repeating: c[k]) * raw.loadUnaligned(fromByteOffset: off, as: SIMD4<Float>.self)
            off += channels * 4
            k += 1
        }
        acc.replace(with: 0, where: acc .< 0)
        acc.replace(with: 65535, where: acc .> 65535)
        if unpremultiply {
            let a = acc[alphaLane]
            if a >= 0.5 {
                var f = SIMD4<Float>(repeating: 65535 / a)
                f[alphaLane] = 1
                acc = acc * f
                acc.replace(with: 65535, where: acc .> 65535)
            }
        }
        let bits = unsafeBitCast(acc + SIMD4<Float>(repeating: 12_582_912), to: SIMD4<UInt32>.self)
        let o = dst + i * channels
        for ch in 0..<channels { o[ch] = UInt16(truncatingIfNeeded: bits[ch]) }
    }
}
