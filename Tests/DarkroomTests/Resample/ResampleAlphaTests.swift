import Testing
@testable import Darkroom

@Suite struct ResampleAlphaTests {
    /// Left part opaque pure red (or black gray), right part fully transparent with garbage colour.
    static func edgeImage(_ format: PixelFormat) -> Image {
        var img = Image(unchecked: 23, height: 9, format: format)
        let c = format.channels
        let maxV = format.bitDepth == 8 ? 255 : 65535
        func set(_ i: Int, _ v: Int) {
            if format.bitDepth == 8 { img.pixels[i] = UInt8(v) } else {
                img.pixels.withUnsafeMutableBytes { $0.storeBytes(of: UInt16(v), toByteOffset: i * 2, as: UInt16.self) }
            }
        }
        for y in 0..<9 {
            for x in 0..<23 {
                let base = (y * 23 + x) * c
                let opaque = x < 11
                if c == 4 {
                    set(base, opaque ? maxV : 0); set(base + 1, opaque ? 0 : maxV); set(base + 2, opaque ? 0 : maxV)
                } else {
                    set(base, opaque ? 0 : maxV)
                }
                set(base + c - 1, opaque ? maxV : 0)
            }
        }
        return img
    }

    @Test(arguments: [PixelFormat.rgba8, .grayAlpha8, .rgba16, .grayAlpha16])
    func transparentGarbageNeverBleeds(format: PixelFormat) {
        let img = Self.edgeImage(format)
        for filter in ResampleFilter.allCases {
            for (w, h) in [(7, 4), (40, 13), (12, 9)] {
                for kernel in [ResampleKernel.scalar] + simdKernels {
                    let out = img.resized(width: w, height: h, options: ResizeOptions(filter: filter, alpha: .premultiplied),
                                          kernel: kernel)
                    let c = format.channels
                    // The garbage sits in G and B (RGBA) or gray (GA); the opaque side has 0 there. Only
                    // visible pixels matter (nearest copies transparent pixels with their garbage).
                    for i in 0..<(w * h) where out.sample(x: i % w, y: i / w, channel: c - 1) > 0 {
                        for ch in (c == 4 ? [1, 2] : [0]) {
                            #expect(out.sample(x: i % w, y: i / w, channel: ch) == 0,
                                    "\(format) \(filter) \(w)x\(h) \(kernel) pixel \(i)")
                        }
                        if c == 4, format.bitDepth == 8 {
                            #expect(out.sample(x: i % w, y: i / w, channel: 0) == 255)
                        }
                    }
                }
            }
        }
    }

    @Test func ignoringAlphaDoesBleed() throws {
        // The control: without premultiplication the garbage leaks (so the test above can fail).
        let out = try Self.edgeImage(.rgba8).resized(width: 7, height: 4, options: ResizeOptions(filter: .lanczos3, alpha: .ignore))
        #expect((0..<7).contains { out.sample(x: $0, y: 1, channel: 1) > 0 && out.sample(x: $0, y: 1, channel: 3) > 0 })
    }

    @Test func opaqueImagesGiveTheSameResultEitherWay() throws {
        var img = randomImage(width: 31, height: 17, format: .rgba8, seed: 5)
        for i in stride(from: 3, to: img.pixels.count, by: 4) { img.pixels[i] = 255 }
        let a = try img.resized(width: 13, height: 8, options: ResizeOptions(alpha: .premultiplied))
        let b = try img.resized(width: 13, height: 8, options: ResizeOptions(alpha: .ignore))
        #expect(a.pixels == b.pixels)
    }

    @Test func sameSizeAndIdentityUpscaleKeepPixels() throws {
        let img = randomImage(width: 9, height: 5, format: .rgba8, seed: 9)
        #expect(try img.resized(width: 9, height: 5).pixels == img.pixels)
        // A constant image stays constant under every filter (weights sum to one).
        let flat = try Image(width: 13, height: 7, format: .rgb8, pixels: [UInt8](repeating: 77, count: 13 * 7 * 3))
        for filter in ResampleFilter.allCases {
            for kernel in [ResampleKernel.scalar] + simdKernels {
                let out = flat.resized(width: 29, height: 3, options: ResizeOptions(filter: filter), kernel: kernel)
                #expect(out.pixels.allSatisfy { $0 == 77 }, "\(filter) \(kernel)")
            }
        }
    }

    @Test func resizeIntoAReusedDestinationEqualsResized() throws {
        var destination = try Image(width: 23, height: 11, format: .rgba8)
        for seed in [UInt64(3), 4] {  // the second call overwrites the first result completely
            let img = randomImage(width: 61, height: 37, format: .rgba8, seed: seed)
            try img.resize(into: &destination)
            #expect(try destination.pixels == img.resized(width: 23, height: 11).pixels)
        }
        let same = randomImage(width: 23, height: 11, format: .rgba8, seed: 5)
        try same.resize(into: &destination)
        #expect(destination.pixels == same.pixels)
        var gray16 = try Image(width: 5, height: 40, format: .gray16)
        let tall = randomImage(width: 9, height: 77, format: .gray16, seed: 6)
        try tall.resize(into: &gray16, options: ResizeOptions(filter: .mitchell))
        #expect(try gray16.pixels == tall.resized(width: 5, height: 40, options: ResizeOptions(filter: .mitchell)).pixels)
    }
}
