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
}

#if arch(x86_64)
/// One SIMD level's kernel functions (C function pointers, `darkroom_kernel_table`).
typealias SIMDKernelTable = darkroom_kernel_table
#else
/// No SIMD kernels off x86-64: only the scalar reference runs.
struct SIMDKernelTable {}
#endif

/// The kernel functions of one resize, chosen once when the resampler is made (simdjson's
/// implementation object, Pillow's `ResampleHorizontal = ...`), so no row call switches on the
/// CPU level: a SIMD level is a table of C function pointers, the scalar reference is
/// ScalarKernels.swift.
struct KernelFunctions {
    let kernel: ResampleKernel
    /// The level's table; nil for the scalar reference.
    private let simd: SIMDKernelTable?

    init(_ kernel: ResampleKernel) {
        self.kernel = kernel
        #if arch(x86_64)
        let level: Int32? = switch kernel {
        case .scalar: nil
        case .baseline: 0
        case .avx2: 1
        case .avxvnni: 2
        }
        simd = level.flatMap { darkroom_kernels($0)?.pointee }
        #else
        simd = nil
        #endif
    }

    /// True for the scalar reference (no pair-interleaved rows).
    var isScalar: Bool { simd == nil }

    /// The SIMD table (a precondition: the pair-interleaved paths run only with SIMD kernels).
    private var table: SIMDKernelTable {
        guard let simd else { preconditionFailure("the scalar reference does not use pair-interleaved rows") }
        return simd
    }

    /// Interleaves two rows byte by byte (SIMD kernels only; the scalar reference reads rows directly).
    func interleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, count: Int) {
        #if arch(x86_64)
        table.interleaveRowsU8(a, b, dst, count)
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    /// Rows a and b premultiplied (as `ScalarKernels.premultiplyU8`) and interleaved as by
    /// `interleaveRowsU8`, in one pass (SIMD kernels only).
    func premultiplyInterleaveRowsU8(a: UnsafePointer<UInt8>, b: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>,
                                     pixels: Int, channels: Int) {
        #if arch(x86_64)
        table.premultiplyInterleaveRowsU8(a, b, dst, pixels, channels)
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    func unpremultiplyU8(row: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        #if arch(x86_64)
        let unpremultiply = table.unpremultiplyU8
        unpremultiplyReciprocals.withUnsafeBufferPointer { recip in unpremultiply(row, pixels, channels, recip.baseAddress!) }
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    func verticalPairs2U8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs0: UnsafePointer<Int32>,
                          coeffs1: UnsafePointer<Int32>, pairCount: Int, bothFrom: Int, bothTo: Int, shift: Int,
                          out0: UnsafeMutablePointer<UInt8>, out1: UnsafeMutablePointer<UInt8>, count: Int,
                          paired: Bool, prefetch: UnsafeRawPointer? = nil, prefetchBytes: Int = 0) {
        #if arch(x86_64)
        table.verticalPairs2U8(pairs, coeffs0, coeffs1, pairCount, bothFrom, bothTo, shift, out0, out1,
                               count, paired, prefetch, prefetchBytes)
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    func verticalPairsU8(pairs: UnsafePointer<UnsafePointer<UInt8>>, coeffs: UnsafePointer<Int32>, pairCount: Int,
                         shift: Int, out: UnsafeMutablePointer<UInt8>, count: Int, paired: Bool) {
        #if arch(x86_64)
        table.verticalPairsU8(pairs, coeffs, pairCount, shift, out, count, paired)
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    /// Prepares an intermediate row for the SIMD horizontal kernel (see `pairPixelsU8`).
    func pairPixelsU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        #if arch(x86_64)
        table.pairPixelsU8(src, dst, pixels, channels)
        #else
        preconditionFailure("no SIMD kernels on this CPU")
        #endif
    }

    /// Horizontal pass over `rows` (1...4) consecutive intermediate rows `srcStride` bytes apart
    /// (the SIMD kernels read rows prepared by `pairPixelsU8`, the scalar one plain rows).
    func horizontalU8(src: UnsafePointer<UInt8>, srcStride: Int, dst: UnsafeMutablePointer<UInt8>, dstStride: Int,
                      rows: Int, dstWidth: Int, channels: Int, plan: HorizontalU8Plan, unpremultiply: Bool) {
        #if arch(x86_64)
        if let simd {
            let b = plan.broadcast!
            b.starts.withUnsafeBufferPointer { starts in
                b.groups.withUnsafeBufferPointer { groups in
                    b.coeffs.withUnsafeBufferPointer { coeffs in
                        simd.horizontalU8(src, srcStride, dst, dstStride, rows, dstWidth, channels, starts.baseAddress!,
                                          groups.baseAddress!, coeffs.baseAddress!, b.stride, plan.table.shift)
                    }
                }
            }
            if unpremultiply {
                for j in 0..<rows { unpremultiplyU8(row: dst + j * dstStride, pixels: dstWidth, channels: channels) }
            }
            return
        }
        #endif
        for j in 0..<rows {
            ScalarKernels.horizontalU8(src: src + j * srcStride, dst: dst + j * dstStride, dstWidth: dstWidth,
                                       channels: channels, table: plan.table, unpremultiply: unpremultiply)
        }
    }

    func loadU16(src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<Float>, pixels: Int, channels: Int,
                 premultiply: Bool) {
        #if arch(x86_64)
        if let simd {
            simd.loadU16(src, dst, pixels, channels, premultiply)
            return
        }
        #endif
        ScalarKernels.loadU16(src: src, dst: dst, pixels: pixels, channels: channels, premultiply: premultiply)
    }

    func verticalF32(rows: UnsafePointer<UnsafePointer<Float>>, coeffs: UnsafePointer<Float>, taps: Int,
                     out: UnsafeMutablePointer<Float>, count: Int) {
        #if arch(x86_64)
        if let simd {
            simd.verticalF32(rows, coeffs, taps, out, count)
            return
        }
        #endif
        ScalarKernels.verticalF32(rows: rows, coeffs: coeffs, taps: taps, out: out, count: count)
    }

    func horizontalF32(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt16>, dstWidth: Int, channels: Int,
                       plan: HorizontalF32Plan, unpremultiply: Bool) {
        #if arch(x86_64)
        if let simd {
            plan.starts.withUnsafeBufferPointer { starts in
                plan.counts.withUnsafeBufferPointer { counts in
                    plan.table.coeffs.withUnsafeBufferPointer { coeffs in
                        simd.horizontalF32(src, dst, dstWidth, channels, starts.baseAddress!, counts.baseAddress!,
                                           coeffs.baseAddress!, plan.table.stride, unpremultiply)
                    }
                }
            }
            return
        }
        #endif
        ScalarKernels.horizontalF32(src: src, dst: dst, dstWidth: dstWidth, channels: channels,
                                    table: plan.table, unpremultiply: unpremultiply)
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
