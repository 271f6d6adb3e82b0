import CDarkroom
import DarkroomKernels
import DarkroomKernelsAVX2
import DarkroomKernelsVNNI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which implementation of the resampling kernels runs. The output is identical for all of them.
enum ResampleKernel: String, CaseIterable, Sendable {
    /// The readable scalar reference (ScalarKernels.swift).
    case scalar
    /// Swift SIMD kernels built for baseline x86-64 (SSE2): module DarkroomKernels.
    case baseline
    /// The same kernels built with -target-cpu haswell: module DarkroomKernelsAVX2.
    case avx2
    /// The same kernels built with -target-cpu alderlake (AVX2 + AVX-VNNI, so each `pmaddwd` and
    /// its accumulating add become one `vpdpwssd`): module DarkroomKernelsVNNI.
    case avxvnni

    /// True when this CPU has AVX2 and FMA (checked once).
    static let cpuHasAVX2: Bool = darkroom_cpu_has_avx2_fma() != 0

    /// True when this CPU also has AVX-VNNI (checked once).
    static let cpuHasAVXVNNI: Bool = darkroom_cpu_has_avx_vnni() != 0

    /// The kernel used by `Image.resized`: `DARKROOM_KERNEL=scalar|baseline|avx2|avxvnni` forces one
    /// (one the CPU lacks falls back to baseline), otherwise the best available. Cached.
    static let selected: ResampleKernel = {
        if let forced = ProcessInfo.processInfo.environment["DARKROOM_KERNEL"].flatMap(ResampleKernel.init(rawValue:)) {
            return forced.isAvailable ? forced : .baseline
        }
        return cpuHasAVXVNNI ? .avxvnni : cpuHasAVX2 ? .avx2 : .baseline
    }()

    var isAvailable: Bool {
        switch self {
        case .scalar, .baseline: true
        case .avx2: Self.cpuHasAVX2
        case .avxvnni: Self.cpuHasAVXVNNI
        }
    }

    // MARK: dispatch (one call per row)

    /// Interleaves two rows byte by byte (SIMD kernels only; the scalar reference reads rows directly).
    func interleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, count: Int) {
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline: DarkroomKernels.interleaveRowsU8(a: a, b: b, dst: dst, count: count)
        case .avx2: DarkroomKernelsAVX2.interleaveRowsU8(a: a, b: b, dst: dst, count: count)
        case .avxvnni: DarkroomKernelsVNNI.interleaveRowsU8(a: a, b: b, dst: dst, count: count)
        }
    }

    /// Rows a and b premultiplied (as `ScalarKernels.premultiplyU8`) and interleaved as by
    /// `interleaveRowsU8`, in one pass (SIMD kernels only).
    func premultiplyInterleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>,
                                     pixels: Int, channels: Int) {
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline: DarkroomKernels.premultiplyInterleaveRowsU8(a: a, b: b, dst: dst, pixels: pixels, channels: channels)
        case .avx2: DarkroomKernelsAVX2.premultiplyInterleaveRowsU8(a: a, b: b, dst: dst, pixels: pixels, channels: channels)
        case .avxvnni: DarkroomKernelsVNNI.premultiplyInterleaveRowsU8(a: a, b: b, dst: dst, pixels: pixels, channels: channels)
        }
    }

    func unpremultiplyU8(row: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        unpremultiplyReciprocals.withUnsafeBufferPointer { recip in
            switch self {
            case .scalar: preconditionFailure("the scalar reference unpremultiplies in its horizontal pass")
            case .baseline:
                DarkroomKernels.unpremultiplyU8(row: row, pixels: pixels, channels: channels, recip: recip.baseAddress!)
            case .avx2:
                DarkroomKernelsAVX2.unpremultiplyU8(row: row, pixels: pixels, channels: channels, recip: recip.baseAddress!)
            case .avxvnni:
                DarkroomKernelsVNNI.unpremultiplyU8(row: row, pixels: pixels, channels: channels, recip: recip.baseAddress!)
            }
        }
    }

    func verticalPairs2U8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs0: UnsafePointer<Int32>,
                          coeffs1: UnsafePointer<Int32>, pairCount: Int, bothFrom: Int, bothTo: Int, shift: Int,
                          out0: UnsafeMutablePointer<UInt8>, out1: UnsafeMutablePointer<UInt8>, count: Int,
                          paired: Bool, prefetch: UnsafeRawPointer? = nil, prefetchBytes: Int = 0) {
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline:
            DarkroomKernels.verticalPairs2U8(pairs: pairs, coeffs0: coeffs0, coeffs1: coeffs1, pairCount: pairCount,
                                             bothFrom: bothFrom, bothTo: bothTo,
                                             shift: shift, out0: out0, out1: out1, count: count, paired: paired,
                                             prefetch: prefetch, prefetchBytes: prefetchBytes)
        case .avx2:
            DarkroomKernelsAVX2.verticalPairs2U8(pairs: pairs, coeffs0: coeffs0, coeffs1: coeffs1, pairCount: pairCount,
                                                 bothFrom: bothFrom, bothTo: bothTo,
                                                 shift: shift, out0: out0, out1: out1, count: count, paired: paired,
                                             prefetch: prefetch, prefetchBytes: prefetchBytes)
        case .avxvnni:
            DarkroomKernelsVNNI.verticalPairs2U8(pairs: pairs, coeffs0: coeffs0, coeffs1: coeffs1, pairCount: pairCount,
                                                 bothFrom: bothFrom, bothTo: bothTo,
                                                 shift: shift, out0: out0, out1: out1, count: count, paired: paired,
                                             prefetch: prefetch, prefetchBytes: prefetchBytes)
        }
    }

    func verticalPairsU8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs: UnsafePointer<Int32>, pairCount: Int,
                         shift: Int, out: UnsafeMutablePointer<UInt8>, count: Int, paired: Bool) {
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline:
            DarkroomKernels.verticalPairsU8(pairs: pairs, coeffs: coeffs, pairCount: pairCount, shift: shift, out: out, count: count, paired: paired)
        case .avx2:
            DarkroomKernelsAVX2.verticalPairsU8(pairs: pairs, coeffs: coeffs, pairCount: pairCount, shift: shift, out: out, count: count, paired: paired)
        case .avxvnni:
            DarkroomKernelsVNNI.verticalPairsU8(pairs: pairs, coeffs: coeffs, pairCount: pairCount, shift: shift, out: out, count: count, paired: paired)
        }
    }

    /// Prepares an intermediate row for the SIMD horizontal kernel (see `pairPixelsU8`).
    func pairPixelsU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        switch self {
        case .scalar: preconditionFailure("the scalar reference reads intermediate rows as they are")
        case .baseline: DarkroomKernels.pairPixelsU8(src: src, dst: dst, pixels: pixels, channels: channels)
        case .avx2: DarkroomKernelsAVX2.pairPixelsU8(src: src, dst: dst, pixels: pixels, channels: channels)
        case .avxvnni: DarkroomKernelsVNNI.pairPixelsU8(src: src, dst: dst, pixels: pixels, channels: channels)
        }
    }

    /// Horizontal pass over `rows` (1...4) consecutive intermediate rows `srcStride` bytes apart
    /// (the SIMD kernels read rows prepared by `pairPixelsU8`, the scalar one plain rows).
    func horizontalU8(src: UnsafePointer<UInt8>, srcStride: Int, dst: UnsafeMutablePointer<UInt8>, dstStride: Int,
                      rows: Int, dstWidth: Int, channels: Int, plan: HorizontalU8Plan, unpremultiply: Bool) {
        if self == .scalar {
            for j in 0..<rows {
                ScalarKernels.horizontalU8(src: src + j * srcStride, dst: dst + j * dstStride, dstWidth: dstWidth,
                                           channels: channels, table: plan.table, unpremultiply: unpremultiply)
            }
            return
        }
        let b = plan.broadcast!
        defer {
            if unpremultiply {
                for j in 0..<rows { unpremultiplyU8(row: dst + j * dstStride, pixels: dstWidth, channels: channels) }
            }
        }
        b.starts.withUnsafeBufferPointer { starts in
            b.groups.withUnsafeBufferPointer { groups in
                b.coeffs.withUnsafeBufferPointer { coeffs in
                    if self == .avxvnni {
                        DarkroomKernelsVNNI.horizontalU8(
                            src: src, srcStride: srcStride, dst: dst, dstStride: dstStride, rows: rows,
                            dstWidth: dstWidth, channels: channels, starts: starts.baseAddress!,
                            groups: groups.baseAddress!, coeffs: coeffs.baseAddress!, coeffStride: b.stride,
                            shift: plan.table.shift)
                    } else if self == .avx2 {
                        DarkroomKernelsAVX2.horizontalU8(
                            src: src, srcStride: srcStride, dst: dst, dstStride: dstStride, rows: rows,
                            dstWidth: dstWidth, channels: channels, starts: starts.baseAddress!,
                            groups: groups.baseAddress!, coeffs: coeffs.baseAddress!, coeffStride: b.stride,
                            shift: plan.table.shift)
                    } else {
                        DarkroomKernels.horizontalU8(
                            src: src, srcStride: srcStride, dst: dst, dstStride: dstStride, rows: rows,
                            dstWidth: dstWidth, channels: channels, starts: starts.baseAddress!,
                            groups: groups.baseAddress!, coeffs: coeffs.baseAddress!, coeffStride: b.stride,
                            shift: plan.table.shift)
                    }
                }
            }
        }
    }

    func loadU16(src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<Float>, pixels: Int, channels: Int,
                 premultiply: Bool) {
        switch self {
        case .scalar:
            ScalarKernels.loadU16(src: src, dst: dst, pixels: pixels, channels: channels, premultiply: premultiply)
        case .baseline:
            DarkroomKernels.loadU16(src: src, dst: dst, pixels: pixels, channels: channels, premultiply: premultiply)
        case .avx2:
            DarkroomKernelsAVX2.loadU16(src: src, dst: dst, pixels: pixels, channels: channels, premultiply: premultiply)
        case .avxvnni:
            DarkroomKernelsVNNI.loadU16(src: src, dst: dst, pixels: pixels, channels: channels, premultiply: premultiply)
        }
    }

    func verticalF32(rows: UnsafePointer<UnsafePointer<Float>>, coeffs: UnsafePointer<Float>, taps: Int,
                     out: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .scalar: ScalarKernels.verticalF32(rows: rows, coeffs: coeffs, taps: taps, out: out, count: count)
        case .baseline: DarkroomKernels.verticalF32(rows: rows, coeffs: coeffs, taps: taps, out: out, count: count)
        case .avx2: DarkroomKernelsAVX2.verticalF32(rows: rows, coeffs: coeffs, taps: taps, out: out, count: count)
        case .avxvnni: DarkroomKernelsVNNI.verticalF32(rows: rows, coeffs: coeffs, taps: taps, out: out, count: count)
        }
    }

    func horizontalF32(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt16>, dstWidth: Int, channels: Int,
                       plan: HorizontalF32Plan, unpremultiply: Bool) {
        if self == .scalar {
            ScalarKernels.horizontalF32(src: src, dst: dst, dstWidth: dstWidth, channels: channels,
                                        table: plan.table, unpremultiply: unpremultiply)
            return
        }
        plan.starts.withUnsafeBufferPointer { starts in
            plan.counts.withUnsafeBufferPointer { counts in
                plan.table.coeffs.withUnsafeBufferPointer { coeffs in
                    if self == .avxvnni {
                        DarkroomKernelsVNNI.horizontalF32(
                            src: src, dst: dst, dstWidth: dstWidth, channels: channels, starts: starts.baseAddress!,
                            counts: counts.baseAddress!, coeffs: coeffs.baseAddress!, coeffStride: plan.table.stride,
                            unpremultiply: unpremultiply)
                    } else if self == .avx2 {
                        DarkroomKernelsAVX2.horizontalF32(
                            src: src, dst: dst, dstWidth: dstWidth, channels: channels, starts: starts.baseAddress!,
                            counts: counts.baseAddress!, coeffs: coeffs.baseAddress!, coeffStride: plan.table.stride,
                            unpremultiply: unpremultiply)
                    } else {
                        DarkroomKernels.horizontalF32(
                            src: src, dst: dst, dstWidth: dstWidth, channels: channels, starts: starts.baseAddress!,
                            counts: counts.baseAddress!, coeffs: coeffs.baseAddress!, coeffStride: plan.table.stride,
                            unpremultiply: unpremultiply)
                    }
                }
            }
        }
    }
}

/// recip[a] = ceil(255 · 2^16 / a), recip[0] = 2^16: (c · recip[a]) >> 16 == 255·c / a for c, a in 0...255
/// (checked exhaustively by the tests), so the SIMD kernels unpremultiply without dividing.
let unpremultiplyReciprocals: [UInt32] = (0..<256).map { (a: Int) -> UInt32 in
    if a == 0 { return 65536 }
    let numerator: Int = 255 * 65536 + a - 1
    return UInt32(numerator / a)
}

struct HorizontalU8Plan {
    let table: FixedPointTable
    let broadcast: BroadcastTable?
}

struct HorizontalF32Plan {
    let table: FloatTable
    let starts: [Int32]
    let counts: [Int32]
    init(_ table: FloatTable) {
        self.table = table
        starts = table.starts.map { Int32($0) }
        counts = table.counts.map { Int32($0) }
    }
}
