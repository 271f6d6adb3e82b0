import Foundation
import Testing
@testable import Darkroom

/// Issue #20: the JPEG encoder's luminance table is mozjpeg's MS-SSIM-tuned one (its
/// `-quant-table 2`), scaled by libjpeg's quality curve; chrominance keeps JPEG Annex K's. Read
/// back from the DQT segments of the files each encode route writes.
@Suite struct JPEGQuantTableTests {
    /// mozjpeg's table 2, natural order.
    static let tunedLuma: [Int] = [
        12, 17, 20, 21, 30, 34, 56, 63, 18, 20, 20, 26, 28, 51, 61, 55, 19, 20, 21, 26, 33, 58, 69, 55,
        26, 26, 26, 30, 46, 87, 86, 66, 31, 33, 36, 40, 46, 96, 100, 73, 40, 35, 46, 62, 81, 100, 111, 91,
        46, 66, 76, 86, 102, 121, 120, 101, 68, 90, 90, 96, 113, 102, 105, 103,
    ]
    /// JPEG Annex K, table K.2 (chrominance), natural order.
    static let annexKChroma: [Int] = [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99,
    ] + [Int](repeating: 99, count: 32)
    /// The zig-zag scan: entry k of a DQT segment is coefficient `zigzag[k]` in natural order.
    static let zigzag: [Int] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
        28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
        54, 47, 55, 62, 63,
    ]

    /// libjpeg's `jpeg_quality_scaling` and `jpeg_add_quant_table` with baseline limits.
    static func scaled(_ table: [Int], quality: Int) -> [Int] {
        let scale = quality < 50 ? 5000 / quality : 200 - 2 * quality
        return table.map { min(255, max(1, ($0 * scale + 50) / 100)) }
    }

    /// The tables of a file's DQT segments, by slot, in natural order (8-bit precision only).
    static func tables(_ jpeg: [UInt8]) -> [Int: [Int]] {
        var out: [Int: [Int]] = [:]
        var i = 2
        while i + 4 <= jpeg.count, jpeg[i] == 0xFF {
            let marker = jpeg[i + 1]
            let length = Int(jpeg[i + 2]) << 8 | Int(jpeg[i + 3])
            if marker == 0xDA { break }
            if marker == 0xDB {
                var p = i + 4
                while p < i + 2 + length {
                    let slot = Int(jpeg[p] & 0x0F)
                    #expect(jpeg[p] >> 4 == 0, "8-bit table")
                    var natural = [Int](repeating: 0, count: 64)
                    for k in 0..<64 { natural[zigzag[k]] = Int(jpeg[p + 1 + k]) }
                    out[slot] = natural
                    p += 65
                }
            }
            i += 2 + length
        }
        return out
    }

    @Test(arguments: [1, 20, 50, 85, 95, 100])
    func lumaIsTheTunedTableAndChromaAnnexK(quality: Int) throws {
        let image = try ImageDecoder.decode(TestImages.bytes("kodim23.jpg")).image
        for settings in [JPEGSettings(quality: quality), JPEGSettings(quality: quality, progressive: true, chroma: .yuv444, optimizeCoding: true)] {
            let file = try JPEGCodec.encode(image, settings: settings, icc: nil, exif: nil)
            let tables = Self.tables(file)
            #expect(tables[0] == Self.scaled(Self.tunedLuma, quality: quality), "quality \(quality)")
            #expect(tables[1] == Self.scaled(Self.annexKChroma, quality: quality), "quality \(quality)")
        }
        let gray = try JPEGCodec.encode(image.converted(to: .gray8), settings: JPEGSettings(quality: quality), icc: nil, exif: nil)
        #expect(Self.tables(gray) == [0: Self.scaled(Self.tunedLuma, quality: quality)])
    }

    /// The streamed row encoder and the planar JPEG → JPEG route set up libjpeg the same way.
    @Test func everyEncodeRouteWritesTheSameTables() throws {
        let source = try TestImages.bytes("kodim23.jpg")
        let expected = [0: Self.scaled(Self.tunedLuma, quality: 85), 1: Self.scaled(Self.annexKChroma, quality: 85)]
        var options = ConvertOptions(format: .jpeg, quality: 85, resize: try ResizeGeometry(parsing: "50%"))
        var planar = Converter(options: options)
        planar.switches.allowsPlanes = true
        var rows = Converter(options: options)
        rows.switches.allowsPlanes = false
        var whole = Converter(options: options)
        whole.switches.allowsStreaming = false
        for converter in [planar, rows, whole] {
            #expect(Self.tables(try converter.convert(source).bytes) == expected)
        }
        options.encode.quality = 100   // OpenAI's default: every entry 1, as with Annex K
        #expect(Self.tables(try Converter(options: options).convert(source).bytes)[0] == [Int](repeating: 1, count: 64))
    }
}
