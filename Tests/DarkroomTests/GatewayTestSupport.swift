import Foundation
import Testing
@testable import Darkroom

/// Paths, tiny hand-made images and feature checks shared by the Gateway*Tests files.
enum GatewayFixtures {
    /// The package root (this file is Tests/DarkroomTests/GatewayTestSupport.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func response(_ name: String) -> URL {
        packageRoot.appendingPathComponent("testimages/responses/\(name)")
    }

    static func responseData(_ name: String) throws -> Data {
        try Data(contentsOf: response(name))
    }

    /// The shared test corpus (../shared/corpus next to the worktree), nil when absent.
    static let corpus: URL? = {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("MANIFEST.tsv").path) ? url : nil
    }()

    static func corpusFile(_ path: String) throws -> [UInt8] {
        let url = try #require(corpus).appendingPathComponent(path)
        return [UInt8](try Data(contentsOf: url))
    }

    static var hasCorpus: Bool { corpus != nil }

    /// The CLI binary built by `swift build`, nil when missing.
    static let binary: URL? = {
        let url = packageRoot.appendingPathComponent(".build/debug/darkroom")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }()

    /// A 1x1 opaque red RGBA PNG, written by hand (zlib-compressed IDAT, valid CRCs).
    static let redPixelPNG: [UInt8] = [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
        0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
        0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x56, 0xC7, 0x2F, 0x0D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
        0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ]

    /// A 1x1 GIF89a (black pixel).
    static let pixelGIF: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x01, 0x44, 0x00, 0x3B,
    ]

    /// The first bytes of an AVIF file (enough for sniffing).
    static let avifHead: [UInt8] = [0, 0, 0, 0x1C] + Array("ftypavif\0\0\0\0mif1avif".utf8)

    /// True once the real codecs are in: a 1x1 PNG encodes and the hand-made PNG decodes.
    static let codecsAvailable: Bool = {
        let image = Image(width: 1, height: 1, format: .rgba8, pixels: [1, 2, 3, 255])
        guard let png = try? ImageEncoder.encode(image, as: .png),
              (try? ImageDecoder.decode(png)) != nil,
              (try? ImageDecoder.decode(redPixelPNG)) != nil else { return false }
        return true
    }()

    /// True once the real `fitWithin` is in (the stub returns its input).
    static let fitWithinAvailable: Bool = fitWithin(width: 4000, height: 3000, maxPixels: 4_194_304) != (4000, 3000)

    /// A gradient test image, distinct per seed.
    static func gradient(width: Int, height: Int, format: PixelFormat = .rgb8, seed: Int = 0) -> Image {
        let c = format.channels
        var pixels = [UInt8](repeating: 0, count: width * height * c)
        for y in 0..<height {
            for x in 0..<width {
                for ch in 0..<c {
                    pixels[(y * width + x) * c + ch] = ch == 3 ? 255 : UInt8(truncatingIfNeeded: x * 7 + y * 3 + ch * 50 + seed * 11)
                }
            }
        }
        return Image(width: width, height: height, format: format, pixels: pixels)
    }
}

struct GatewayTestError: Error {
    var message: String
}

/// Runs the CLI binary.
struct GatewayCLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum GatewayCLI {
    static func run(_ arguments: [String], stdin: Data? = nil, in directory: URL? = nil) throws -> GatewayCLIResult {
        guard GatewayFixtures.binary != nil else { throw GatewayTestError(message: "no .build/debug/darkroom") }
        let r = try CLI.run(arguments, stdin: stdin, in: directory)
        return GatewayCLIResult(status: r.status, stdout: String(decoding: r.stdoutData, as: UTF8.self), stderr: r.stderr)
    }

    /// A fresh empty temporary directory.
    static func tempDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("darkroom-gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
