import Foundation
import Testing
@testable import Darkroom

/// The response fixtures and tiny hand-made images shared by the Gateway*Tests files.
enum GatewayFixtures {
    static func response(_ name: String) -> URL {
        TestImages.root.appendingPathComponent("responses/\(name)")
    }

    static func responseData(_ name: String) throws -> Data {
        try Data(contentsOf: response(name))
    }

    static func corpusFile(_ path: String) throws -> [UInt8] {
        let url = TestSupport.corpus.appendingPathComponent(path)
        return [UInt8](try Data(contentsOf: url))
    }

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
        guard CLI.binaryExists else { throw GatewayTestError(message: "no .build/debug/darkroom") }
        let r = try CLI.run(arguments, stdin: stdin, in: directory)
        return GatewayCLIResult(status: r.status, stdout: String(decoding: r.stdoutData, as: UTF8.self), stderr: r.stderr)
    }
}
