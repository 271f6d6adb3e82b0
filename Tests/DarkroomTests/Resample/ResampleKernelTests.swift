import Foundation
import Testing
@testable import Darkroom

/// Deterministic pseudo-random images (xorshift), with alpha that hits 0, 255 and everything between.
func randomImage(width: Int, height: Int, format: PixelFormat, seed: UInt64) -> Image {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    func next() -> UInt64 {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return state
    }
    var img = Image(unchecked: width, height: height, format: format)
    let n = width * height * format.channels
    if format.bitDepth == 8 {
        for i in 0..<n { img.pixels[i] = UInt8(truncatingIfNeeded: next() >> 24) }
        if format.hasAlpha {
            for i in stride(from: format.channels - 1, to: n, by: format.channels) {
                switch next() % 4 { case 0: img.pixels[i] = 0; case 1: img.pixels[i] = 255; default: break }
            }
        }
    } else {
        img.pixels.withUnsafeMutableBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            for i in 0..<n { s[i] = UInt16(truncatingIfNeeded: next() >> 20) }
            if format.hasAlpha {
                for i in stride(from: format.channels - 1, to: n, by: format.channels) {
                    switch next() % 4 { case 0: s[i] = 0; case 1: s[i] = 65535; default: break }
                }
            }
        }
    }
    return img
}

/// The SIMD kernels available on this machine (avx2 and avxvnni only when the CPU has them).
let simdKernels: [ResampleKernel] = [.baseline, .avx2, .avxvnni].filter(\.isAvailable)

@Suite struct ResampleKernelTests {
    /// (source, target) sizes: degenerate sides, odd and prime widths, extreme ratios.
    static let sizes: [((Int, Int), (Int, Int))] = [
        ((1, 1), (3, 2)), ((1, 9), (1, 4)), ((9, 1), (4, 1)), ((1, 1), (1, 1 + 1)),
        ((37, 23), (11, 13)), ((31, 29), (67, 59)), ((101, 7), (19, 3)),
        ((1000, 2), (1, 2)), ((3, 1000), (2, 1)),  // 1000:1 down
        ((3, 2), (51, 34)),  // 1:17 up
        ((61, 5), (29, 5)),  // one axis only
        // Wide enough for the one-channel kernel's four-pixel blocks: one weight group per pixel,
        // several (down 8.5x, windows of 4-5 groups), groups that differ within a block (the
        // clipped edge windows) and every tail length 1-3.
        ((90, 3), (87, 3)), ((203, 4), (23, 4)), ((517, 6), (61, 5)), ((70, 2), (42, 3)),
    ]

    @Test(arguments: PixelFormat.allCases)
    func simdMatchesScalarForEveryFilterAndSize(format: PixelFormat) {
        var seed: UInt64 = 1
        for filter in ResampleFilter.allCases {
            for (src, dst) in Self.sizes {
                seed += 1
                let img = randomImage(width: src.0, height: src.1, format: format, seed: seed)
                for alpha in format.hasAlpha ? AlphaHandling.allCases : [.ignore] {
                    let options = ResizeOptions(filter: filter, alpha: alpha)
                    let reference = img.resized(width: dst.0, height: dst.1, options: options, kernel: .scalar)
                    #expect(reference.width == dst.0 && reference.height == dst.1)
                    for kernel in simdKernels {
                        let out = img.resized(width: dst.0, height: dst.1, options: options, kernel: kernel)
                        #expect(out.pixels == reference.pixels,
                                "\(format) \(filter) \(alpha) \(src)->\(dst) \(kernel)")
                    }
                }
            }
        }
    }

    @Test(arguments: [PixelFormat.rgba8, .rgb8, .grayAlpha16])
    func threadsGiveIdenticalOutput(format: PixelFormat) {
        let img = randomImage(width: 83, height: 97, format: format, seed: 77)
        for kernel in [ResampleKernel.selected] {
            let one = img.resized(width: 40, height: 31, options: ResizeOptions(threads: 1), kernel: kernel)
            for t in [2, 3, 7, 64] {
                let many = img.resized(width: 40, height: 31, options: ResizeOptions(threads: t), kernel: kernel)
                #expect(many.pixels == one.pixels, "threads \(t)")
            }
        }
    }

    @Test func unpremultiplyReciprocalsAreExact() {
        for a in 0..<256 {
            for c in 0..<256 {
                let viaRecip = min(255, (UInt32(c) * unpremultiplyReciprocals[a]) >> 16)
                #expect(UInt8(viaRecip) == ScalarKernels.unpremultiply(UInt8(c), UInt8(a)))
            }
        }
    }

    @Test func unpremultiplyKernelMatchesPillowFormulaOnMixedBlocks() {
        // 8-pixel blocks: all opaque, all transparent, 0/255 mixed (skipped), and general alphas.
        var row = [UInt8]()
        var seed: UInt32 = 3
        for block in 0..<64 {
            for p in 0..<8 {
                seed = seed &* 1_103_515_245 &+ 12345
                let c = UInt8(truncatingIfNeeded: seed >> 8), a: UInt8
                switch block % 4 {
                case 0: a = 255
                case 1: a = 0
                case 2: a = p % 2 == 0 ? 0 : 255
                default: a = UInt8(truncatingIfNeeded: seed >> 20)
                }
                row += [c, c &+ 77, c / 3, a]
            }
        }
        row += [200, 100, 50, 128, 9, 9, 9, 1]  // a tail shorter than a block
        let pixels = row.count / 4
        var expected = row
        for i in 0..<pixels {
            for ch in 0..<3 { expected[i * 4 + ch] = ScalarKernels.unpremultiply(row[i * 4 + ch], row[i * 4 + 3]) }
        }
        for kernel in simdKernels {
            var out = row
            out.withUnsafeMutableBufferPointer { KernelFunctions(kernel).unpremultiplyU8(row: $0.baseAddress!, pixels: pixels, channels: 4) }
            #expect(out == expected, "\(kernel)")
            var ga = [UInt8](), gaExpected = [UInt8]()
            for i in 0..<pixels { ga += [row[i * 4], row[i * 4 + 3]]; gaExpected += [expected[i * 4], row[i * 4 + 3]] }
            ga.withUnsafeMutableBufferPointer { KernelFunctions(kernel).unpremultiplyU8(row: $0.baseAddress!, pixels: pixels, channels: 2) }
            #expect(ga == gaExpected, "\(kernel) gray+alpha")
        }
    }

    @Test func premultiplyKernelsMatchMulDiv255Exhaustively() {
        // Every (colour, alpha) pair as RGBA and as gray+alpha pixels, through every kernel.
        var rgba = [UInt8](), ga = [UInt8]()
        for a in 0..<256 { for c in 0..<256 { rgba += [UInt8(c), UInt8(255 - c), UInt8(c / 2), UInt8(a)]; ga += [UInt8(c), UInt8(a)] } }
        for (src, channels) in [(rgba, 4), (ga, 2)] {
            let pixels = src.count / channels
            var expected = [UInt8](repeating: 0, count: src.count)
            for i in 0..<pixels {
                let a = src[i * channels + channels - 1]
                for ch in 0..<(channels - 1) {
                    let exact = (Double(src[i * channels + ch]) * Double(a) / 255).rounded()
                    expected[i * channels + ch] = UInt8(exact)
                }
                expected[i * channels + channels - 1] = a
            }
            var out = [UInt8](repeating: 0, count: src.count)
            out.withUnsafeMutableBufferPointer { o in
                src.withUnsafeBufferPointer { s in
                    ScalarKernels.premultiplyU8(src: s.baseAddress!, dst: o.baseAddress!, pixels: pixels, channels: channels)
                }
            }
            #expect(out == expected, "scalar \(channels)")
            // The SIMD kernels premultiply two rows and interleave them in one pass: row b is row a
            // shifted by 7 pixels, and 3 pixels fewer leave a tail shorter than a block.
            let b = Array(src[(7 * channels)...] + src[..<(7 * channels)])
            for count in [pixels, pixels - 3] {
                var interleaved = [UInt8]()
                for j in 0..<(count * channels) { interleaved += [expected[j], expected[(j + 7 * channels) % src.count]] }
                for kernel in simdKernels {
                    var out = [UInt8](repeating: 0, count: 2 * count * channels)
                    out.withUnsafeMutableBufferPointer { o in
                        src.withUnsafeBufferPointer { sa in
                            b.withUnsafeBufferPointer { sb in
                                KernelFunctions(kernel).premultiplyInterleaveRowsU8(a: sa.baseAddress!, b: sb.baseAddress!, dst: o.baseAddress!,
                                                                   pixels: count, channels: channels)
                            }
                        }
                    }
                    #expect(out == interleaved, "\(kernel) \(channels) \(count)")
                }
            }
        }
    }

    @Test func coefficientTablesSumToOneAndUseGuardBits() {
        for filter in ResampleFilter.allCases where filter != .nearest {
            for (inSize, outSize) in [(6000, 2508), (7, 100), (1000, 1), (1, 5)] {
                let t = FixedPointTable(AxisWeights(filter: filter, inSize: inSize, outSize: outSize))
                #expect(t.shift >= 13 && t.shift <= 22)
                for i in 0..<outSize {
                    let sum = (0..<t.counts[i]).reduce(0) { $0 + Int(t.coeffs[i * t.stride + $1]) }
                    // Rounding each tap can move the sum by at most half a unit per tap.
                    #expect(abs(sum - (1 << t.shift)) <= t.counts[i], "\(filter) \(inSize)->\(outSize) #\(i)")
                    #expect(t.coeffs[(i * t.stride)..<(i * t.stride + t.counts[i])].allSatisfy { abs(Int($0)) < 16384 })
                }
            }
        }
        // 6000 -> 2508 Lanczos3 windows hold 14 or 15 taps.
        let l3 = FixedPointTable(AxisWeights(filter: .lanczos3, inSize: 6000, outSize: 2508))
        #expect(l3.maxCount == 15)
    }

    @Test func kernelSelectionHonoursTheCPU() {
        #expect(ResampleKernel.selected.isAvailable)
        #expect(ResampleKernel.avx2.isAvailable == ResampleKernel.cpuHasAVX2)
        #expect(ResampleKernel.avxvnni.isAvailable == ResampleKernel.cpuHasAVXVNNI)
        #expect(!ResampleKernel.cpuHasAVXVNNI || ResampleKernel.cpuHasAVX2)
        if ProcessInfo.processInfo.environment["DARKROOM_KERNEL"] == nil {
            #expect(ResampleKernel.selected == (ResampleKernel.cpuHasAVXVNNI ? .avxvnni : ResampleKernel.cpuHasAVX2 ? .avx2 : .baseline))
        }
    }
}
