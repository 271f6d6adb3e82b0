import Foundation
import Testing
@testable import Darkroom

/// Issue #10: the JPEG encoder fed rows in pieces (as the resampler finishes them) writes the
/// bytes of the whole-image encode.
@Suite struct JPEGRowEncoderTests {
    @Test(arguments: [PixelFormat.gray8, .rgb8])
    func rowsInPiecesGiveTheWholeImageBytes(format: PixelFormat) throws {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image.converted(to: format)
        for (progressive, chroma) in [(false, ChromaSubsampling.yuv420), (true, .yuv444)] {
            let whole = try JPEGCodec.encode(image, settings: JPEGSettings(quality: 80, progressive: progressive, chroma: chroma), icc: [1, 2, 3], exif: nil)
            let encoder = try JPEGRowEncoder(width: image.width, height: image.height, format: format, settings: JPEGSettings(quality: 80, progressive: progressive, chroma: chroma), icc: [1, 2, 3], exif: nil)
            image.pixels.withUnsafeBufferPointer { px in
                for end in stride(from: 7, to: image.height, by: 7) { encoder.write(from: px.baseAddress!, upTo: end) }
                encoder.write(from: px.baseAddress!, upTo: image.height)
            }
            #expect(try encoder.finish() == whole, "\(format) progressive=\(progressive)")
        }
        // Plain Huffman tables: other bytes (larger), the same pixels; streamed or not, the same file.
        var options = ConvertOptions(format: .jpeg, quality: 90, resize: try ResizeGeometry(parsing: "50%"))
        options.encode.optimizeCoding = true
        var rows = Converter(options: options)
        rows.switches.allowsPlanes = false   // the RGB row encoder, not the planar route
        let optimized = try rows.convert(TestImages.bytes("kodim23.jpg"))
        options.encode.optimizeCoding = false
        rows.options = options
        let plain = try rows.convert(TestImages.bytes("kodim23.jpg"))
        var whole = Converter(options: options)
        whole.switches.allowsStreaming = false
        #expect(try whole.convert(TestImages.bytes("kodim23.jpg")).bytes == plain.bytes)
        #expect(plain.bytes != optimized.bytes && plain.bytes.count > optimized.bytes.count)
        #expect(try ImageDecoder.decode(plain.bytes).image == ImageDecoder.decode(optimized.bytes).image)
        // Rows handed over through a ring of 8 rows (the converter's ring output): the same file.
        let ringed = try JPEGRowEncoder(width: image.width, height: image.height, format: format, settings: JPEGSettings(quality: 80, progressive: false, chroma: .yuv420), icc: [1, 2, 3], exif: nil)
        let rowBytes = image.rowBytes
        var ring = [UInt8](repeating: 0, count: 8 * rowBytes)
        for y in 0..<image.height {
            ring.replaceSubrange((y % 8 * rowBytes)..<((y % 8 + 1) * rowBytes), with: image.pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
            if y % 5 == 4 || y == image.height - 1 { ring.withUnsafeBufferPointer { ringed.write(from: $0.baseAddress!, ringRows: 8, upTo: y + 1) } }
        }
        #expect(try ringed.finish() == JPEGCodec.encode(image, settings: JPEGSettings(quality: 80, progressive: false, chroma: .yuv420), icc: [1, 2, 3], exif: nil))
        let short = try JPEGRowEncoder(width: 8, height: 8, format: format, settings: JPEGSettings(quality: 80),
                                       icc: nil, exif: nil)
        #expect(throws: DarkroomError.self) { try short.finish() }   // no rows written: an error, not a file
    }
}
