import Foundation
import Testing
@testable import Darkroom

/// Raw references made by testimages/resample/make_refs.py (Pillow, and Go x/image/draw / image-rs
/// outputs from /work/shared/corpus/resize decoded to raw).
enum ResampleRefs {
    static let dir = TestImages.root.appendingPathComponent("resample")

    static func load(_ name: String, _ w: Int, _ h: Int, _ format: PixelFormat) throws -> Image {
        let data = try Data(contentsOf: dir.appendingPathComponent(name))
        return try Image(width: w, height: h, format: format, pixels: [UInt8](data))
    }
}

@Suite struct ResampleReferenceTests {
    static let cases: [(String, ResampleFilter, Int, Int)] = [
        ("lanczos3", .lanczos3, 27, 20), ("lanczos3", .lanczos3, 101, 75),
        ("catmull-rom", .catmullRom, 27, 20), ("bilinear", .bilinear, 27, 20), ("box", .box, 27, 20),
    ]

    @Test(arguments: [PixelFormat.rgb8, .rgba8])
    func agreesWithPillow(format: PixelFormat) throws {
        let ext = format == .rgb8 ? "rgb" : "rgba"
        let src = try ResampleRefs.load("src-64x48.\(ext)", 64, 48, format)
        for (name, filter, w, h) in Self.cases {
            let reference = try ResampleRefs.load("pil-\(name)-\(w)x\(h).\(ext)", w, h, format)
            for kernel in [ResampleKernel.scalar] + simdKernels {
                let out = src.resized(width: w, height: h, options: ResizeOptions(filter: filter), kernel: kernel)
                let db = psnrPremultiplied(out, reference)
                #expect(db >= 50, "\(name) \(w)x\(h) \(format) \(kernel): \(db) dB")
            }
        }
    }

    @Test func sixteenBitAgreesWithEightBitPillowReference() throws {
        // 16-bit path (Float32 weights) on the same picture scaled by 257 must land on Pillow's 8-bit
        // result to within its rounding.
        let src8 = try ResampleRefs.load("src-64x48.rgb", 64, 48, .rgb8)
        var src16 = try Image(width: 64, height: 48, format: .rgb16)
        src16.pixels.withUnsafeMutableBytes { raw in
            let s = raw.bindMemory(to: UInt16.self)
            for i in 0..<src8.pixels.count { s[i] = UInt16(src8.pixels[i]) * 257 }
        }
        let out16 = try src16.resized(width: 27, height: 20, options: ResizeOptions(filter: .lanczos3))
        var as8 = try Image(width: 27, height: 20, format: .rgb8)
        for i in 0..<as8.pixels.count {
            let v = out16.pixels.withUnsafeBytes { $0.load(fromByteOffset: i * 2, as: UInt16.self) }
            as8.pixels[i] = UInt8((Double(v) / 257).rounded())
        }
        let reference = try ResampleRefs.load("pil-lanczos3-27x20.rgb", 27, 20, .rgb8)
        #expect(psnrPremultiplied(as8, reference) >= 50)
    }

    @Test func agreesWithGoXImageDrawUpscale() throws {
        // Go's CatmullRom and BiLinear kernels are the same functions; sampling differs in rounding only.
        let src = try ResampleRefs.load("go-src-14x18.rgb", 14, 18, .rgb8)
        for (file, filter) in [("go-up-cr-75x100.rgb", ResampleFilter.catmullRom), ("go-up-bl-75x100.rgb", .bilinear)] {
            let reference = try ResampleRefs.load(file, 75, 100, .rgb8)
            let out = try src.resized(width: 75, height: 100, options: ResizeOptions(filter: filter))
            #expect(psnrPremultiplied(out, reference) >= 40, "\(file)")
        }
    }

    @Test func agreesWithImageRsPremultipliedHalfSize() throws {
        // image-rs's regression image: colour next to transparent pixels must not darken.
        let src = try ResampleRefs.load("irs-src-129x66.rgba", 129, 66, .rgba8)
        let reference = try ResampleRefs.load("irs-half-65x33.rgba", 65, 33, .rgba8)
        let out = try src.resized(width: 65, height: 33, options: ResizeOptions(filter: .lanczos3))
        #expect(psnrPremultiplied(out, reference) >= 30)
    }
}
