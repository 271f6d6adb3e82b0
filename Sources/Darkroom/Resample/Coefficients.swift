#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Filters and per-axis coefficient tables, computed once per output column/row.
// Window placement and normalisation follow Pillow's precompute_coeffs (so Lanczos3 agrees with
// Pillow's LANCZOS): support = filterSupport · max(scale, 1) (anti-aliased when shrinking).

extension ResampleFilter {
    /// Half-width of the kernel at scale 1, in source pixels.
    var support: Double {
        switch self {
        case .nearest, .box: 0.5
        case .bilinear: 1
        case .catmullRom, .mitchell, .lanczos2: 2
        case .lanczos3: 3
        }
    }

    /// The kernel value at `x` (source pixels at scale 1).
    func weight(_ x: Double) -> Double {
        switch self {
        case .nearest, .box:
            return x > -0.5 && x <= 0.5 ? 1 : 0
        case .bilinear:
            let a = abs(x)
            return a < 1 ? 1 - a : 0
        case .catmullRom:  // Keys cubic, a = -0.5 (Pillow's BICUBIC)
            let a = abs(x), k = -0.5
            if a < 1 { return ((k + 2) * a - (k + 3)) * a * a + 1 }
            if a < 2 { return (((a - 5) * a + 8) * a - 4) * k }
            return 0
        case .mitchell:  // Mitchell–Netravali, B = C = 1/3
            let a = abs(x), b = 1.0 / 3, c = 1.0 / 3
            if a < 1 { return ((12 - 9 * b - 6 * c) * a * a * a + (-18 + 12 * b + 6 * c) * a * a + (6 - 2 * b)) / 6 }
            if a < 2 { return ((-b - 6 * c) * a * a * a + (6 * b + 30 * c) * a * a + (-12 * b - 48 * c) * a + (8 * b + 24 * c)) / 6 }
            return 0
        case .lanczos2:
            return x > -2 && x < 2 ? sinc(x) * sinc(x / 2) : 0
        case .lanczos3:
            // sinc(x)·sinc(x/3) with one sine: sin(πx) = 3·sin(πx/3) − 4·sin³(πx/3).
            guard x > -3 && x < 3 else { return 0 }
            if x == 0 { return 1 }
            let s3 = sin(x * Double.pi / 3)
            let s1 = s3 * (3 - 4 * s3 * s3)
            return s1 * s3 * 3 / (Double.pi * Double.pi * x * x)
        }
    }

    private func sinc(_ x: Double) -> Double {
        if x == 0 { return 1 }
        let px = x * Double.pi
        return sin(px) / px
    }
}

/// Normalised Double weights for one axis: output i reads source `starts[i] ..< starts[i] + counts[i]`.
struct AxisWeights {
    let inSize: Int
    let outSize: Int
    var starts: [Int]
    var counts: [Int]
    /// Widest window (row stride of `weights`).
    var stride: Int
    var weights: [Double]

    /// `scale`: source pixels per output pixel, nil for `inSize / outSize` (the two extents
    /// mapped onto each other); output pixel i is centred on source position (i + ½)·scale.
    init(filter: ResampleFilter, inSize: Int, outSize: Int, scale: Double? = nil) {
        precondition(inSize > 0 && outSize > 0)
        self.inSize = inSize
        self.outSize = outSize
        let scale = scale ?? Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        let invScale = 1 / filterScale
        // Pillow's window size bound; windows are written straight into flat storage.
        let window = min(inSize, Int(support.rounded(.up)) * 2 + 1)
        var starts = [Int](repeating: 0, count: outSize), counts = [Int](repeating: 0, count: outSize)
        var flat = [Double](repeating: 0, count: outSize * window)
        flat.withUnsafeMutableBufferPointer { w in
            for i in 0..<outSize {
                let center = (Double(i) + 0.5) * scale
                let lo = max(Int(center - support + 0.5), 0)
                let hi = min(Int(center + support + 0.5), inSize)
                let n = min(max(0, hi - lo), window)
                let row = w.baseAddress! + i * window
                var sum = 0.0
                for k in 0..<n {
                    let v = filter.weight((Double(lo + k) - center + 0.5) * invScale)
                    row[k] = v
                    sum += v
                }
                if sum != 0 { for k in 0..<n { row[k] /= sum } }
                starts[i] = lo
                counts[i] = n
            }
        }
        self.starts = starts
        self.counts = counts
        self.stride = window
        self.weights = flat
    }
}

/// Int16 fixed-point weights with one precision for the axis: the largest `shift` <= 22 with
/// max|w| · 2^(shift+1) < 2^15 (a guard bit, as Pillow-SIMD and fast_image_resize). Zero weights at
/// either end of a window are trimmed.
struct FixedPointTable {
    var starts: [Int]
    var counts: [Int]
    var stride: Int
    var coeffs: [Int16]
    var shift: Int

    init(_ w: AxisWeights) {
        let maxAbs = w.weights.reduce(0) { max($0, abs($1)) }
        var shift = 22
        while shift > 1 && maxAbs * Double(1 << (shift + 1)) >= 32768 { shift -= 1 }
        self.shift = shift
        let scale = Double(1 << shift)
        starts = w.starts
        counts = w.counts
        stride = w.stride
        coeffs = [Int16](repeating: 0, count: w.outSize * w.stride)
        for i in 0..<w.outSize {
            let base = i * w.stride
            func fixed(_ k: Int) -> Int16 {
                let v = w.weights[base + k] * scale
                return Int16(v < 0 ? (v - 0.5).rounded(.towardZero) : (v + 0.5).rounded(.towardZero))
            }
            var lo = 0, hi = w.counts[i]
            while lo < hi && fixed(lo) == 0 { lo += 1 }
            while hi > lo && fixed(hi - 1) == 0 { hi -= 1 }
            starts[i] = lo < hi ? w.starts[i] + lo : 0
            counts[i] = hi - lo
            for k in lo..<hi { coeffs[i * stride + k - lo] = fixed(k) }
        }
    }

    /// The widest trimmed window.
    var maxCount: Int { counts.max() ?? 0 }
}

/// The vertical Int16 coefficients regrouped by source row pairs (2m, 2m+1), the layout of the
/// pair-interleaved rows the SIMD vertical kernel reads: output row y uses pairs
/// `firstPair[y] ..< firstPair[y] + pairCounts[y]`, each weight pair packed in one Int32
/// (low half: row 2m). Rows outside the window get weight 0.
struct PairTable {
    var firstPair: [Int]
    var pairCounts: [Int]
    var stride: Int
    var coeffs: [Int32]
    var shift: Int

    init(_ t: FixedPointTable) {
        shift = t.shift
        let n = t.counts.count
        firstPair = (0..<n).map { t.starts[$0] / 2 }
        pairCounts = (0..<n).map { t.counts[$0] == 0 ? 0 : (t.starts[$0] + t.counts[$0] + 1) / 2 - t.starts[$0] / 2 }
        stride = max(1, pairCounts.max() ?? 1)
        coeffs = [Int32](repeating: 0, count: n * stride)
        for i in 0..<n {
            for k in 0..<t.counts[i] {
                let row = t.starts[i] + k
                let j = row / 2 - firstPair[i]
                let c = UInt32(UInt16(bitPattern: t.coeffs[i * t.stride + k]))
                let packed = UInt32(bitPattern: coeffs[i * stride + j]) | (row % 2 == 0 ? c : c << 16)
                coeffs[i * stride + j] = Int32(bitPattern: packed)
            }
        }
    }

    var maxPairs: Int { pairCounts.max() ?? 0 }
}

/// The same Int16 coefficients laid out for the SIMD horizontal kernel, which reads rows prepared
/// by `pairPixelsU8` (pixels in pairs, each channel's two samples adjacent; `lanes` bytes per pixel:
/// 4 for RGB and RGBA, 2 for gray+alpha, 1 for gray). Windows start at an even pixel (a leading zero
/// weight when needed); per output pixel, `groups[i]` SIMD16<Int16> vectors of 16 / lanes taps,
/// lane l of a group holding tap 2·(l / (2·lanes)) + l % 2, so one `pmaddwd` sums two taps per channel.
struct BroadcastTable {
    var starts: [Int32]
    var groups: [Int32]
    var stride: Int  // Int16 elements per output pixel
    var coeffs: [Int16]
    var lanes: Int

    init(_ t: FixedPointTable, channels: Int) {
        lanes = [1, 2, 4, 4][channels - 1]
        let tapsPerGroup = 16 / lanes
        let n = t.counts.count
        starts = t.starts.map { Int32($0 & ~1) }
        groups = (0..<n).map { i in
            let taps = t.counts[i] == 0 ? 0 : t.counts[i] + (t.starts[i] & 1)
            return Int32((taps + tapsPerGroup - 1) / tapsPerGroup)
        }
        stride = max(1, Int(groups.max() ?? 0)) * 16
        coeffs = [Int16](repeating: 0, count: n * stride)
        let (stride, lanes) = (stride, lanes)
        coeffs.withUnsafeMutableBufferPointer { out in
            t.coeffs.withUnsafeBufferPointer { src in
                for i in 0..<n {
                    let lead = t.starts[i] & 1
                    for k in 0..<t.counts[i] {
                        // Tap k sits at position k + lead of the pair-aligned window.
                        let pos = k + lead
                        let within = pos % tapsPerGroup
                        let lane0 = (pos / tapsPerGroup) * 16 + (within / 2) * 2 * lanes + within % 2
                        let c = src[i * t.stride + k]
                        for ch in 0..<lanes { out[i * stride + lane0 + 2 * ch] = c }
                    }
                }
            }
        }
    }
}

/// Float32 weights for the 16-bit path, zero weights trimmed at the window ends.
struct FloatTable {
    var starts: [Int]
    var counts: [Int]
    var stride: Int
    var coeffs: [Float]

    init(_ w: AxisWeights) {
        starts = w.starts
        counts = w.counts
        stride = w.stride
        coeffs = [Float](repeating: 0, count: w.outSize * w.stride)
        for i in 0..<w.outSize {
            let base = i * w.stride
            var lo = 0, hi = w.counts[i]
            while lo < hi && Float(w.weights[base + lo]) == 0 { lo += 1 }
            while hi > lo && Float(w.weights[base + hi - 1]) == 0 { hi -= 1 }
            starts[i] = lo < hi ? w.starts[i] + lo : 0
            counts[i] = hi - lo
            for k in lo..<hi { coeffs[i * stride + k - lo] = Float(w.weights[base + k]) }
        }
    }

    var maxCount: Int { counts.max() ?? 0 }
}
