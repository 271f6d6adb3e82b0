import Foundation
import Testing
@testable import Darkroom

@Suite struct PipelineTests {
    @Test func keepsTheInputFormatWhenNoneIsGiven() throws {
        let result = try Converter(options: ConvertOptions()).convert(TestImages.bytes("rgba.png"))
        #expect(result.format == .png)
        #expect(ImageFormat.sniff(result.bytes) == .png)
        #expect(result.resized == false)
    }

    @Test func outputIsUprightAndStripped() throws {
        let result = try Converter(options: ConvertOptions(format: .png)).convert(TestImages.bytes("hopper-orientation-6.jpg"))
        #expect(result.source.orientation == .right)
        let back = try ImageDecoder.decode(result.bytes)
        #expect(back.metadata.exif == nil)
        let upright = try TestImages.decode("hopper.jpg").image
        #expect(psnr(back.image, upright) > 25)
    }

    @Test func shrinkOnLoadGivesTheSameSizeAndNearlyTheSamePicture() throws {
        let jpeg = try TestImages.bytes("kodim23.jpg")
        var options = ConvertOptions(format: .png, resize: try ResizeGeometry(parsing: "25%"))
        let fast = try Converter(options: options).convert(jpeg)
        options.shrinkOnLoad = false
        let full = try Converter(options: options).convert(jpeg)
        #expect((fast.width, fast.height) == (192, 128))
        #expect((full.width, full.height) == (192, 128))
        let a = try ImageDecoder.decode(fast.bytes).image, b = try ImageDecoder.decode(full.bytes).image
        #expect(a != b, "the DCT-scaled path really ran")
        #expect(psnr(a, b) > 35)
    }

    @Test func outputFilesAreWrittenAtomicallyAndNeverOverwrittenByAccident() throws {
        let dir = try TestSupport.tempDir().path
        let path = dir + "/a.bin"
        try OutputFile.write([1, 2, 3], to: path, overwrite: false)
        #expect(throws: DarkroomError.file(.outputExists(path: path))) { try OutputFile.write([4], to: path, overwrite: false) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
        try OutputFile.write([4], to: path, overwrite: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([4]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.bin"], "no temporary files left")
        #expect(throws: DarkroomError.self) { try OutputFile.write([1], to: dir + "/missing/b.bin", overwrite: false) }
    }
}
