import Foundation
@testable import Darkroom

/// The bundled `testimages/` folder and small synthetic images.
enum TestImages {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("testimages")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(name)))
    }

    static func decode(_ name: String) throws -> DecodedImage {
        try ImageDecoder.decode(bytes(name))
    }

    /// A smooth RGBA gradient with a transparent hole whose hidden colour is garbage.
    static func gradient(width: Int = 64, height: Int = 48, alpha: Bool = true) -> Image {
        let format: PixelFormat = alpha ? .rgba8 : .rgb8
        var image = Image(width: width, height: height, format: format)
        for y in 0..<height {
            for x in 0..<width {
                let o = (y * width + x) * format.channels
                image.pixels[o] = UInt8(x * 255 / max(1, width - 1))
                image.pixels[o + 1] = UInt8(y * 255 / max(1, height - 1))
                image.pixels[o + 2] = UInt8((x + y) * 255 / max(1, width + height - 2))
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
