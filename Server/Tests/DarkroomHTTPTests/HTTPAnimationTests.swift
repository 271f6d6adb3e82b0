@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Darkroom

/// Animations through the sidecar: an animated input stays animated when `output_format` can
/// hold it, `frames` chooses, and an answer that is the first frame only says so in
/// `Darkroom-Warning` and in the JSON's `warnings` (issue #19: no header said frames were dropped).
@Suite struct HTTPAnimationTests {
    let app = Application(router: DarkroomHTTPServer.router(try! .init(maxBodyBytes: 16 << 20)))
    /// Two 4 × 4 frames (testimages/animated.gif).
    static let gif = try! TestImages.bytes("animated.gif")

    static func header(_ response: TestResponse, _ name: String) -> String? { response.headers[HTTPField.Name(name)!] }

    /// Frames of an animated answer, as the library reads them back.
    static func frames(_ bytes: [UInt8]) throws -> Int { try AnimationReader(bytes).frameCount }

    @Test func anAnimatedGIFStaysAnimatedInWebPAndGIF() async throws {
        try await app.test(.router) { client in
            for format in ["webp", "gif", "png", "avif"] {
                let r = try await client.execute(uri: "/v1/convert?output_format=\(format)", method: .post,
                                                 body: ByteBuffer(bytes: Self.gif))
                #expect(r.status == .ok, "\(String(buffer: r.body))")
                #expect(Self.header(r, "Darkroom-Frames") == "2" && Self.header(r, "Darkroom-Source-Frames") == "2")
                #expect(Self.header(r, "Darkroom-Warning") == nil && Self.header(r, "Darkroom-Warnings") == nil)
                #expect(try Self.frames(Array(buffer: r.body)) == 2, "\(format)")
            }
        }
    }

    @Test func theFirstFrameOnlyIsAWarningInTheHeadersAndTheJSON() async throws {
        try await app.test(.router) { client in
            let raw = try await client.execute(uri: "/v1/convert?output_format=jpeg", method: .post, body: ByteBuffer(bytes: Self.gif))
            #expect(raw.status == .ok)
            #expect(Self.header(raw, "Darkroom-Frames") == "1" && Self.header(raw, "Darkroom-Source-Frames") == "2")
            #expect(Self.header(raw, "Darkroom-Warnings") == "1")
            #expect(Self.header(raw, "Darkroom-Warning")
                    == "animation: animated (2 frames): only the first frame was converted (jpeg cannot animate; webp, gif, png and avif can)")

            let json = try await client.post("/v1/images/convert", .images([Self.gif], fields: ["output_format": "jpeg"]))
            #expect(json.status == .ok)
            let object = try JSONBody.object(json)
            let image = try #require(((object["darkroom"] as? [String: Any])?["images"] as? [[String: Any]])?.first)
            #expect(image["frames"] as? Int == 1 && image["source_frames"] as? Int == 2)
            let warnings = try #require(image["warnings"] as? [[String: Any]])
            #expect(warnings.count == 1)
            #expect(warnings.first?["kind"] as? String == "animation")
            #expect((warnings.first?["message"] as? String)?.contains("jpeg cannot animate") == true)
        }
    }

    @Test func framesChoosesAndIsCheckedOnEveryDoor() async throws {
        try await app.test(.router) { client in
            // Asked for: no warning.
            let first = try await client.execute(uri: "/v1/convert?output_format=jpeg&frames=first", method: .post,
                                                 body: ByteBuffer(bytes: Self.gif))
            #expect(first.status == .ok && Self.header(first, "Darkroom-Warning") == nil)
            let one = try await client.execute(uri: "/v1/convert?output_format=webp&frames=1", method: .post,
                                               body: ByteBuffer(bytes: Self.gif))
            #expect(one.status == .ok && Self.header(one, "Darkroom-Frames") == "1")
            #expect(try Self.frames(Array(buffer: one.body)) == 1)
            let binary = try await client.post("/v1/images/convert", .images([Self.gif], fields: [
                "output_format": "gif", "frames": "0-1", "response_format": "binary",
            ]))
            #expect(binary.status == .ok && Self.header(binary, "Darkroom-Frames") == "2")
            #expect(try Self.frames(Array(buffer: binary.body)) == 2)

            for (uri, body) in [("/v1/convert?output_format=webp&frames=3-1", nil),
                                ("/v1/convert?output_format=webp&frames=%2B1", nil),
                                ("/v1/images/convert", ["output_format": "webp", "frames": "every"])] as [(String, [String: String]?)] {
                let r = body == nil
                    ? try await client.execute(uri: uri, method: .post, body: ByteBuffer(bytes: Self.gif))
                    : try await client.post(uri, .images([Self.gif], fields: body!))
                let e = try JSONBody.envelope(r)
                #expect(e.status == 400 && e.param == "frames", "\(uri): \(String(buffer: r.body))")
            }
            // Every frame into a format that holds one: refused, naming frames.
            let all = try await client.execute(uri: "/v1/convert?output_format=jpeg&frames=all", method: .post,
                                               body: ByteBuffer(bytes: Self.gif))
            #expect(try JSONBody.envelope(all).status == 400, "\(String(buffer: all.body))")
            // A range that starts past the last frame.
            let past = try await client.execute(uri: "/v1/convert?output_format=webp&frames=5", method: .post,
                                                body: ByteBuffer(bytes: Self.gif))
            #expect(try JSONBody.envelope(past).status == 400, "\(String(buffer: past.body))")
        }
    }
}
