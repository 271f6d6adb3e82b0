import Testing
@testable import Darkroom

@Suite struct ImageTests {
    @Test func sniffsFormatsFromBytes() {
        #expect(ImageFormat.sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) == .png)
        #expect(ImageFormat.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageFormat.sniff(Array("GIF89a".utf8)) == .gif)
        #expect(ImageFormat.sniff(Array("RIFF\0\0\0\0WEBPVP8 ".utf8)) == .webp)
        #expect(ImageFormat.sniff([0, 0, 0, 0x1C] + Array("ftypavif\0\0\0\0mif1avif".utf8)) == .avif)
        #expect(ImageFormat.sniff(Array("hello".utf8)) == nil)
    }

    @Test(arguments: Orientation.allCases)
    func orientationMovesCornerPixels(orientation: Orientation) throws {
        // 3x2 gray image with distinct values; check where the stored top-left pixel lands.
        let img = try Image(width: 3, height: 2, format: .gray8, pixels: [1, 2, 3, 4, 5, 6])
        let out = img.applying(orientation)
        #expect(out.width == (orientation.swapsSides ? 2 : 3))
        let expected: [Orientation: [UInt8]] = [
            .up: [1, 2, 3, 4, 5, 6], .upMirrored: [3, 2, 1, 6, 5, 4],
            .down: [6, 5, 4, 3, 2, 1], .downMirrored: [4, 5, 6, 1, 2, 3],
            .leftMirrored: [1, 4, 2, 5, 3, 6], .right: [4, 1, 5, 2, 6, 3],
            .rightMirrored: [6, 3, 5, 2, 4, 1], .left: [3, 6, 2, 5, 1, 4],
        ]
        #expect(out.pixels == expected[orientation])
    }

    @Test func parsesBackgroundColours() throws {
        #expect(try RGBColor(parsing: "#ff8000") == RGBColor(red: 255, green: 128, blue: 0))
        #expect(try RGBColor(parsing: "fff") == .white)
        #expect(throws: DarkroomError.self) { try RGBColor(parsing: "#12") }
    }
}
