import Foundation
@testable import Darkroom

/// What every suite shares, each helper once: where the package, its test images and the shared
/// corpus are, a fresh temporary folder, a synthetic gradient (``TestImages/gradient(width:height:alpha:seed:)``)
/// and PSNR (``psnr(_:_:)``, ``psnrPremultiplied(_:_:)``).
///
/// The suites live in one folder per library folder (`Codecs/`, `Pipeline/`, …); this file stays at
/// the top of the test target, because the package root is computed from its own path.
enum TestSupport {
    /// The package root (this file is `Tests/DarkroomTests/TestSupport.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shared public test corpus, `../shared/corpus` beside the package, described by its
    /// MANIFEST.tsv (``Corpus``).
    static let corpus = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")

    /// False when the corpus is absent: the tests that need it are skipped.
    static var hasCorpus: Bool {
        FileManager.default.fileExists(atPath: corpus.appendingPathComponent("MANIFEST.tsv").path)
    }

    /// A fresh empty folder under the system's temporary folder.
    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("darkroom-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The bundled `testimages/` folder and small synthetic images.
enum TestImages {
    static let root = TestSupport.packageRoot.appendingPathComponent("testimages")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(name)))
    }

    static func decode(_ name: String) throws -> DecodedImage {
        try ImageDecoder.decode(bytes(name))
    }

    /// A smooth 8-bit gradient (red across, green down, blue along the diagonal), every sample
    /// shifted by `seed` × 11 (so that images of one size differ per seed); with `alpha`, RGBA,
    /// opaque but for a transparent hole whose hidden colour is garbage (magenta).
    static func gradient(width: Int = 64, height: Int = 48, alpha: Bool = true, seed: Int = 0) -> Image {
        let format: PixelFormat = alpha ? .rgba8 : .rgb8
        let shift = seed * 11
        var image = Image(unchecked: width, height: height, format: format)
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * format.channels
                image.pixels[o] = UInt8(truncatingIfNeeded: x * 255 / max(1, width - 1) + shift)
                image.pixels[o + 1] = UInt8(truncatingIfNeeded: y * 255 / max(1, height - 1) + shift)
                image.pixels[o + 2] = UInt8(truncatingIfNeeded: (x + y) * 255 / max(1, width + height - 2) + shift)
                if alpha {
                    let hole = x > width / 4 && x < width / 2 && y > height / 4 && y < height / 2
                    image.pixels[o + 3] = hole ? 0 : 255
                    if hole { image.pixels[o] = 255; image.pixels[o + 1] = 0; image.pixels[o + 2] = 255 }
                }
            }
        }
        return image
    }
}

/// Peak signal-to-noise ratio in dB of two 8-bit images of the same size and layout, over every
/// sample as stored (alpha included; the colour under transparent pixels counts).
func psnr(_ a: Image, _ b: Image) -> Double {
    precondition(a.width == b.width && a.height == b.height && a.format == b.format)
    var sum = 0.0
    for i in a.pixels.indices { let d = Double(a.pixels[i]) - Double(b.pixels[i]); sum += d * d }
    let mse = sum / Double(a.pixels.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

/// PSNR in dB of two 8-bit images of the same size and layout with the colour premultiplied by
/// alpha (as the resampling peers' harness compares), so the colour of fully transparent pixels
/// does not count; for images without alpha it is ``psnr(_:_:)``.
func psnrPremultiplied(_ a: Image, _ b: Image) -> Double {
    precondition(a.width == b.width && a.height == b.height && a.format == b.format)
    let c = a.format.channels
    var se = 0.0
    for i in 0..<(a.width * a.height) {
        let aa = a.format.hasAlpha ? Double(a.pixels[i * c + c - 1]) / 255 : 1
        let ba = b.format.hasAlpha ? Double(b.pixels[i * c + c - 1]) / 255 : 1
        for ch in 0..<c {
            let isAlpha = a.format.hasAlpha && ch == c - 1
            let x = Double(a.pixels[i * c + ch]) * (isAlpha ? 1 : aa)
            let y = Double(b.pixels[i * c + ch]) * (isAlpha ? 1 : ba)
            se += (x - y) * (x - y)
        }
    }
    let mse = se / Double(a.pixels.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}
