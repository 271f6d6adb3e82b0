@testable import Darkroom
@testable import DarkroomHTTP
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// An input over `--max-pixels` is 413 `image_too_large` on every route, checked from its header
/// before the output limits (it is not an output too large), also where a codec's own limit
/// refuses the header (libavif parses nothing over 16384² px).
@Suite struct HTTPInputLimitTests {
    /// A small JPEG whose SOF0 declares `width` × `height`.
    static func jpeg(declaring width: Int, _ height: Int) throws -> [UInt8] {
        var pixels: [UInt8] = []
        for i in 0..<(16 * 16) { pixels += [UInt8(i), 128, 64] }
        var jpeg = try ImageEncoder.encode(Image(unchecked: 16, height: 16, format: .rgb8, pixels: pixels), as: .jpeg)
        let sof = try #require((0..<(jpeg.count - 1)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF)])
        return jpeg
    }

    /// A small AVIF whose `ispe` declares `width` × `height`.
    static func avif(declaring width: Int, _ height: Int) throws -> [UInt8] {
        var pixels: [UInt8] = []
        for i in 0..<(16 * 16) { pixels += [UInt8(i), 128, 64] }
        var avif = try ImageEncoder.encode(Image(unchecked: 16, height: 16, format: .rgb8, pixels: pixels), as: .avif)
        let ispe = try #require((4..<(avif.count - 4)).first { Array(avif[$0..<($0 + 4)]) == Array("ispe".utf8) })
        let be32 = { (v: Int) -> [UInt8] in [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        avif.replaceSubrange((ispe + 8)..<(ispe + 16), with: be32(width) + be32(height))
        return avif
    }

    @Test func anInputOverMaxPixelsIs413BeforeTheOutputLimits() async throws {
        let app = Application(router: DarkroomHTTPServer.router(try .init(maxBodyBytes: 16 << 20)))
        let large = try Self.jpeg(declaring: 20000, 20000)   // 400 MP: over --max-pixels (16383²) and --max-output-pixels
        let huge = try Self.avif(declaring: 17000, 17000)    // over libavif's 16384² px too
        try await app.test(.router) { client in
            for (name, bytes) in [("jpeg", large), ("avif", huge)] {
                let side = name == "jpeg" ? 20000 : 17000
                let envelope = try JSONBody.envelope(try await client.post("/v1/images/convert", .images([bytes])))
                #expect(envelope.status == 413 && envelope.code == "image_too_large" && envelope.param == "image", "\(name): \(envelope)")
                let message = try JSONBody.message(try await client.post("/v1/images/convert", .images([bytes])))
                #expect(message.contains("\(side)x\(side) = ") && message.contains("over the limit of 268402689 px"), "\(message)")
                try await client.execute(uri: "/v1/convert?output_format=png", method: .post, body: ByteBuffer(bytes: bytes)) { response in
                    let raw = try JSONBody.envelope(response)
                    #expect(raw.status == 413 && raw.code == "image_too_large", "\(name) raw: \(raw)")
                }
            }
        }
    }
}
