import Foundation
import Testing
@testable import Darkroom
import CLibWebP

/// Issue #20: VP8 keeps every macroblock's prediction modes in a first partition of at most 512 KB.
/// A 16383×16383 picture of random 16×16 colour blocks needs about 5.3 bits of modes per macroblock
/// at quality 80 even with i16 modes only (4.7 with 1 segment): 1,048,576 macroblocks overflow it
/// whatever libwebp is told. The encode is retried once with cwebp's advice and then fails with
/// the reason in words, not "encoder error 6".
@Suite struct WebPPartitionTests {
    /// Random colours, one per 16×16 block, from a fixed seed.
    static func colourBlocks(width: Int, height: Int) -> Image {
        var image = Image(unchecked: width, height: height, format: .rgb8)
        var state: UInt64 = 0x5EED_0F_B10C
        let rowBytes = width * 3
        image.pixels.withUnsafeMutableBufferPointer { px in
            for top in stride(from: 0, to: height, by: 16) {
                let row = px.baseAddress! + top * rowBytes
                for x0 in stride(from: 0, to: width, by: 16) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let (r, g, b) = (UInt8(truncatingIfNeeded: state >> 40), UInt8(truncatingIfNeeded: state >> 48), UInt8(truncatingIfNeeded: state >> 56))
                    for x in x0..<min(x0 + 16, width) { row[x * 3] = r; row[x * 3 + 1] = g; row[x * 3 + 2] = b }
                }
                for y in (top + 1)..<min(top + 16, height) { (px.baseAddress! + y * rowBytes).update(from: row, count: rowBytes) }
            }
        }
        return image
    }

    @Test func partitionZeroOverflowIsRetriedThenNamed() throws {
        let image = Self.colourBlocks(width: 16383, height: 16383)
        var attempts = 0
        let expected = DarkroomError.encoding(.codec(.webp, message: WebPCodec.encoderMessage(VP8_ENC_ERROR_PARTITION0_OVERFLOW)))
        #expect(throws: expected) {
            try WebPCodec.encode(image, quality: 80, lossless: false, icc: nil, exif: nil, attempts: &attempts)
        }
        #expect(attempts == 2, "the first encode and one retry with i16 modes only and 1 segment")
        #expect(WebPCodec.encoderMessage(VP8_ENC_ERROR_PARTITION0_OVERFLOW)
                == "the prediction modes overflow VP8's 512 KB first partition even with i16 modes only and 1 segment (too many macroblocks of this content for lossy WebP: use fewer pixels, lossless WebP, AVIF or PNG)")
        // A smaller picture of the same kind (16,384 macroblocks) fits at the first try.
        attempts = 0
        let small = Self.colourBlocks(width: 2048, height: 2048)
        let bytes = try WebPCodec.encode(small, quality: 80, lossless: false, icc: nil, exif: nil, attempts: &attempts)
        #expect(attempts == 1)
        #expect(try ImageDecoder.decode(bytes).image.width == 2048)
    }
}
