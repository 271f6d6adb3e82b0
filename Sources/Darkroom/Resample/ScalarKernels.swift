// The scalar reference: the readable definition of what every SIMD kernel in
// Sources/CDarkroomKernels/kernels_body.h must compute, bit for bit. Tests compare them.

enum ScalarKernels {
    /// Premultiplied 8-bit sample, Pillow's MULDIV255: round(c · a / 255) computed as (t + t/256) / 256, t = c·a + 128.
    @inline(__always) static func premultiply(_ c: UInt8, _ a: UInt8) -> UInt8 {
        let t = Int(c) * Int(a) + 128
        return UInt8((t + (t >> 8)) >> 8)
    }

    /// Straight 8-bit sample from premultiplied (Pillow's RGBa -> RGBA): kept when a is 0, else min(255, 255·c / a).
    @inline(__always) static func unpremultiply(_ c: UInt8, _ a: UInt8) -> UInt8 {
        a == 0 ? c : UInt8(min(255, 255 * Int(c) / Int(a)))
    }

    static func premultiplyU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, pixels: Int, channels: Int) {
        for i in 0..<pixels {
            let base = i * channels
            let a = src[base + channels - 1]
            for c in 0..<(channels - 1) { dst[base + c] = premultiply(src[base + c], a) }
            dst[base + channels - 1] = a
        }
    }

    /// One output row of the 8-bit vertical pass: a fixed-point dot product down each byte column.
    static func verticalU8(rows: UnsafePointer<UnsafePointer<UInt8>>, coeffs: UnsafePointer<Int16>, taps: Int,
                           shift: Int, out: UnsafeMutablePointer<UInt8>, count: Int) {
        for x in 0..<count {
            var acc = 1 << (shift - 1)
            for k in 0..<taps { acc += Int(coeffs[k]) * Int(rows[k][x]) }
            out[x] = UInt8(clamping: acc >> shift)
        }
    }

    /// One output row of the 8-bit horizontal pass, unpremultiplying on the way out when asked.
    static func horizontalU8(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<UInt8>, dstWidth: Int, channels: Int,
                             table: FixedPointTable, unpremultiply: Bool) {
        for i in 0..<dstWidth {
            let start = table.starts[i], n = table.counts[i]
            var px = [UInt8](repeating: 0, count: channels)
            for ch in 0..<channels {
                var acc = 1 << (table.shift - 1)
                for k in 0..<n {
                    acc += Int(table.coeffs[i * table.stride + k]) * Int(src[(start + k) * channels + ch])
                }
                px[ch] = UInt8(clamping: acc >> table.shift)
            }
            if unpremultiply {
                let a = px[channels - 1]
                for ch in 0..<(channels - 1) { px[ch] = Self.unpremultiply(px[ch], a) }
            }
            for ch in 0..<channels { dst[i * channels + ch] = px[ch] }
        }
    }

    /// 16-bit samples to Float; with `premultiply` colour becomes Float(c) · (Float(a) · (1/65535)).
    static func loadU16(src: UnsafePointer<UInt16>, dst: UnsafeMutablePointer<Float>, pixels: Int, channels: Int,
                        premultiply: Bool) {
        let inv: Float = 1 / 65535
        for i in 0..<pixels {
            let base = i * channels
            let m: Float = premultiply ? Float(src[base + channels - 1]) * inv : 1
            for c in 0..<channels {
                let v = Float(src[base + c])
                dst[base + c] = (premultiply && c < channels - 1) ? v * m : v
            }
        }
    }

    static func verticalF32(rows: UnsafePointer<UnsafePointer<Float>>, coeffs: UnsafePointer<Float>, taps: Int,
                            out: UnsafeMutablePointer<Float>, count: Int) {
        for x in 0..<count {
            var acc: Float = 0
            for k in 0..<taps { acc = acc + coeffs[k] * rows[k][x] }
            out[x] = acc
        }
    }

    /// Float to UInt16: clamp to 0...65535, round half to even (the magic-number addition the SIMD kernels use).
    @inline(__always) static func roundToU16(_ v: Float) -> UInt16 {
        UInt16(truncatingIfNeeded: (min(max(v, 0), 65535) + 12_582_912).bitPattern)
    }

    static func horizontalF32(src: UnsafePointer<Float>, dst: UnsafeMutablePointer<UInt16>, dstWidth: Int, channels: Int,
                              table: FloatTable, unpremultiply: Bool) {
        for i in 0..<dstWidth {
            let start = table.starts[i], n = table.counts[i]
            var px = [Float](repeating: 0, count: channels)
            for ch in 0..<channels {
                var acc: Float = 0
                for k in 0..<n { acc = acc + table.coeffs[i * table.stride + k] * src[(start + k) * channels + ch] }
                px[ch] = min(max(acc, 0), 65535)
            }
            if unpremultiply, px[channels - 1] >= 0.5 {
                let f = 65535 / px[channels - 1]
                for ch in 0..<(channels - 1) { px[ch] = min(px[ch] * f, 65535) }
            }
            for ch in 0..<channels { dst[i * channels + ch] = roundToU16(px[ch]) }
        }
    }
}
