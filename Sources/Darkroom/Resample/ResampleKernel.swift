import CDarkroom
import CDarkroomKernels
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which implementation of the resampling kernels runs. The output is identical for all of them.
///
/// The SIMD kernels are C (Sources/CDarkroomKernels): one source, kernels_body.h, compiled into one
/// object once per CPU level under its own name prefix with `target(...)` attributes, so the
/// package needs no per-target compiler flags. A future NEON level would be one more case here
/// (with an arm64 prefix in CDarkroomKernels); on other CPUs than x86-64 only `scalar` exists today.
enum ResampleKernel: String, CaseIterable, Sendable {
    /// The readable scalar reference (ScalarKernels.swift).
    case scalar
    /// The C SIMD kernels for baseline x86-64 (SSE2): `darkroom_sse2_*`.
    case baseline
    /// The same kernels compiled with target("avx2,fma"): `darkroom_avx2_*`.
    case avx2
    /// The same kernels compiled with target("avx2,fma,avxvnni"), where each multiply-add and its
    /// accumulating add are one `vpdpwssd`: `darkroom_avxvnni_*`.
    case avxvnni

    /// True when this CPU has AVX2 and FMA (checked once).
    static let cpuHasAVX2: Bool = darkroom_cpu_has_avx2_fma() != 0

    /// True when this CPU also has AVX-VNNI (checked once).
    static let cpuHasAVXVNNI: Bool = darkroom_cpu_has_avx_vnni() != 0

    /// True where the C SIMD kernels are compiled (x86-64).
    static let hasSIMDKernels: Bool = {
        #if arch(x86_64)
        true
        #else
        false
        #endif
    }()

    /// The kernel used by `Image.resized`: `DARKROOM_KERNEL=scalar|baseline|avx2|avxvnni` forces one
    /// (one the CPU lacks falls back to baseline, or scalar without SIMD kernels), otherwise the best
    /// available. Cached.
    static let selected: ResampleKernel = {
        let fallback: ResampleKernel = hasSIMDKernels ? .baseline : .scalar
        if let forced = ProcessInfo.processInfo.environment["DARKROOM_KERNEL"].flatMap(ResampleKernel.init(rawValue:)) {
            return forced.isAvailable ? forced : fallback
        }
        return cpuHasAVXVNNI ? .avxvnni : cpuHasAVX2 ? .avx2 : fallback
    }()

    var isAvailable: Bool {
        switch self {
        case .scalar: true
        case .baseline: Self.hasSIMDKernels
        case .avx2: Self.hasSIMDKernels && Self.cpuHasAVX2
        case .avxvnni: Self.hasSIMDKernels && Self.cpuHasAVXVNNI
        }
    }

    // MARK: dispatch (one call per row)

    /// Interleaves two rows byte by byte (SIMD kernels only; the scalar reference reads rows directly).
    func interleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, count: Int) {
        #if arch(x86_64)
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline: darkroom_sse2_interleaveRowsU8(a, b, dst, count)
        case .avx2: darkroom_avx2_interleaveRowsU8(a, b, dst, count)
        case .avxvnni: darkroom_avxvnni_interleaveRowsU8(a, b, dst, count)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    /// Rows a and b premultiplied (as `ScalarKernels.premultiplyU8`) and interleaved as by
    /// `interleaveRowsU8`, in one pass (SIMD kernels only).
    func premultiplyInterleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>,
                                     pixels: Int, channels: Int) {
        #if arch(x86_64)
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline: darkroom_sse2_premultiplyInterleaveRowsU8(a, b, dst, pixels, channels)
        case .avx2: darkroom_avx2_premultiplyInterleaveRowsU8(a, b, dst, pixels, channels)
        case .avxvnni: darkroom_avxvnni_premultiplyInterleaveRowsU8(a, b, dst, pixels, channels)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    func unpremultiplyU8(row: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        unpremultiplyReciprocals.withUnsafeBufferPointer { recip in
            #if arch(x86_64)
            switch self {
            case .scalar: preconditionFailure("the scalar reference unpremultiplies in its horizontal pass")
            case .baseline: darkroom_sse2_unpremultiplyU8(row, pixels, channels, recip.baseAddress!)
            case .avx2: darkroom_avx2_unpremultiplyU8(row, pixels, channels, recip.baseAddress!)
            case .avxvnni: darkroom_avxvnni_unpremultiplyU8(row, pixels, channels, recip.baseAddress!)
            }
            #else
            preconditionFailure("no SIMD kernels on this CPU")
            #endif
        }
    }

    func verticalPairs2U8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs0: UnsafePointer<Int32>,
                          coeffs1: UnsafePointer<Int32>, pairCount: Int, bothFrom: Int, bothTo: Int, shift: Int,
                          out0: UnsafeMutablePointer<UInt8>, out1: UnsafeMutablePointer<UInt8>, count: Int,
                          paired: Bool, prefetch: UnsafeRawPointer? = nil, prefetchBytes: Int = 0) {
        #if arch(x86_64)
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline:
            darkroom_sse2_verticalPairs2U8(pairs, coeffs0, coeffs1, pairCount, bothFrom, bothTo, shift, out0, out1,
                                           count, paired, prefetch, prefetchBytes)
        case .avx2:
            darkroom_avx2_verticalPairs2U8(pairs, coeffs0, coeffs1, pairCount, bothFrom, bothTo, shift, out0, out1,
                                           count, paired, prefetch, prefetchBytes)
        case .avxvnni:
            darkroom_avxvnni_verticalPairs2U8(pairs, coeffs0, coeffs1, pairCount, bothFrom, bothTo, shift, out0, out1,
                                              count, paired, prefetch, prefetchBytes)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    func verticalPairsU8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs: UnsafePointer<Int32>, pairCount: Int,
                         shift: Int, out: UnsafeMutablePointer<UInt8>, count: Int, paired: Bool) {
        #if arch(x86_64)
        switch self {
        case .scalar: preconditionFailure("the scalar reference does not use pair-interleaved rows")
        case .baseline: darkroom_sse2_verticalPairsU8(pairs, coeffs, pairCount, shift, out, count, paired)
        case .avx2: darkroom_avx2_verticalPairsU8(pairs, coeffs, pairCount, shift, out, count, paired)
        case .avxvnni: darkroom_avxvnni_verticalPairsU8(pairs, coeffs, pairCount, shift, out, count, paired)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    /// Prepares an intermediate row for the SIMD horizontal kernel (see `pairPixelsU8`).
    func pairPixelsU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        #if arch(x86_64)
        switch self {
        case .scalar: preconditionFailure("the scalar reference reads intermediate rows as they are")
        case .baseline: darkroom_sse2_pairPixelsU8(src, dst, pixels, channels)
        case .avx2: darkroom_avx2_pairPixelsU8(src, dst, pixels, channels)
        case .avxvnni: darkroom_avxvnni_pairPixelsU8(src, dst, pixels, channels)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
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
                    #if arch(x86_64)
                    let s = starts.baseAddress!, g = groups.baseAddress!, c = coeffs.baseAddress!
                    switch self {
                    case .scalar: break
                    case .baseline:
                        darkroom_sse2_horizontalU8(src, srcStride, dst, dstStride, rows, dstWidth, channels, s, g, c,
                                                   b.stride, plan.table.shift)
                    case .avx2:
                        darkroom_avx2_horizontalU8(src, srcStride, dst, dstStride, rows, dstWidth, channels, s, g, c,
                                                   b.stride, plan.table.shift)
                    case .avxvnni:
                        darkroom_avxvnni_horizontalU8(src, srcStride, dst, dstStride, rows, dstWidth, channels, s, g, c,
                                                      b.stride, plan.table.shift)
                    }
                    #else
                    preconditionFailure("no SIMD kernels on this CPU")
                    #endif
                }
            }
        }
    }

    func loadU16(src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<Float>, pixels: Int, channels: Int,
                 premultiply: Bool) {
        if self == .scalar {
            ScalarKernels.loadU16(src: src, dst: dst, pixels: pixels, channels: channels, premultiply: premultiply)
            return
        }
        #if arch(x86_64)
        switch self {
        case .scalar: break
        case .baseline: darkroom_sse2_loadU16(src, dst, pixels, channels, premultiply)
        case .avx2: darkroom_avx2_loadU16(src, dst, pixels, channels, premultiply)
        case .avxvnni: darkroom_avxvnni_loadU16(src, dst, pixels, channels, premultiply)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    func verticalF32(rows: UnsafePointer<UnsafePointer<Float>>, coeffs: UnsafePointer<Float>, taps: Int,
                     out: UnsafeMutablePointer<Float>, count: Int) {
        if self == .scalar {
            ScalarKernels.verticalF32(rows: rows, coeffs: coeffs, taps: taps, out: out, count: count)
            return
        }
        #if arch(x86_64)
        switch self {
        case .scalar: break
        case .baseline: darkroom_sse2_verticalF32(rows, coeffs, taps, out, count)
        case .avx2: darkroom_avx2_verticalF32(rows, coeffs, taps, out, count)
        case .avxvnni: darkroom_avxvnni_verticalF32(rows, coeffs, taps, out, count)
        }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
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
                    #if arch(x86_64)
                    let s = starts.baseAddress!, n = counts.baseAddress!, c = coeffs.baseAddress!
                    switch self {
                    case .scalar: break
                    case .baseline:
                        darkroom_sse2_horizontalF32(src, dst, dstWidth, channels, s, n, c, plan.table.stride, unpremultiply)
                    case .avx2:
                        darkroom_avx2_horizontalF32(src, dst, dstWidth, channels, s, n, c, plan.table.stride, unpremultiply)
                    case .avxvnni:
                        darkroom_avxvnni_horizontalF32(src, dst, dstWidth, channels, s, n, c, plan.table.stride,
                                                       unpremultiply)
                    }
                    #else
                    preconditionFailure("no SIMD kernels on this CPU")
                    #endif
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
