@testable import Darkroom
@testable import DarkroomHTTP
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `--max-jpeg-scans` (``DarkroomHTTPServer/Configuration/maxJPEGScans``) bounds every route that
/// decodes: a JPEG with more scans is refused with `image_too_complex` before a row is decoded.
@Suite struct HTTPScanLimitTests {
    /// A progressive JPEG whose last scan is repeated up to `total` scans (the scans after the
    /// first ~10 are refinements of nothing new: libjpeg reads them all).
    static func manyScans(_ total: Int) throws -> [UInt8] {
        var pixels: [UInt8] = []
        for i in 0..<(64 * 48) { pixels += [UInt8(i % 64 * 4), UInt8(i / 64 * 5), 128] }
        let image = Image(unchecked: 64, height: 48, format: .rgb8, pixels: pixels)
        let jpeg = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(progressive: true))
        var starts: [Int] = []
        for i in 0..<(jpeg.count - 1) where jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA { starts.append(i) }
        let last = try #require(starts.last)
        let end = jpeg.count - 2   // before EOI
        #expect(Array(jpeg.suffix(2)) == [0xFF, 0xD9])
        var out = Array(jpeg[..<end])
        for _ in starts.count..<total { out += jpeg[last..<end] }
        return out + [0xFF, 0xD9]
    }

    @Test func everyRouteRefusesOverTheConfiguredLimit() async throws {
        var configuration = try DarkroomHTTPServer.Configuration(maxBodyBytes: 16 << 20)
        #expect(configuration.maxJPEGScans == 500)
        let scans = try Self.manyScans(40)
        let defaults = Application(router: DarkroomHTTPServer.router(configuration))
        try await defaults.test(.router) { client in
            let ok = try await client.post("/v1/images/convert", .images([scans], fields: ["output_format": "png", "fail_on": "none"]))
            #expect(ok.status == .ok)
        }
        configuration.maxJPEGScans = 20
        let app = Application(router: DarkroomHTTPServer.router(configuration))
        try await app.test(.router) { client in
            let convert = try JSONBody.envelope(try await client.post("/v1/images/convert", .images([scans])))
            #expect(convert.status == 400 && convert.code == "image_too_complex" && convert.param == "image")
            let refs = try JSONBody.envelope(try await client.post("/v1/images/references", .images([scans])))
            #expect(refs.status == 400 && refs.code == "image_too_complex" && refs.param == "image", "\(refs)")
            for route in ["/v1/convert?output_format=png", "/v1/references"] {
                try await client.execute(uri: route, method: .post, body: ByteBuffer(bytes: scans)) { response in
                    let envelope = try JSONBody.envelope(response)
                    #expect(envelope.status == 422 && envelope.code == "image_too_complex", "\(route)")
                }
            }
        }
    }
}
