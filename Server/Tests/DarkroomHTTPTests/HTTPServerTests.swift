import DarkroomHTTP
import HTTPTypes
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Darkroom

/// The HTTP sidecar, driven in process through HummingbirdTesting's router client.
@Suite struct HTTPServerTests {
    let app = Application(router: DarkroomHTTPServer.router(try! .init(maxBodyBytes: 1 << 20)))

    @Test func convertsAnImageWithTheGatewaysFieldNames() async throws {
        let png = try TestImages.bytes("kodim23.jpg")
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/convert?output_format=webp&output_compression=70&resize=50%25",
                                     method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "image/webp")
                #expect(response.headers[HTTPField.Name("Darkroom-Width")!] == "384")
                #expect(response.headers[HTTPField.Name("Darkroom-Height")!] == "256")
                #expect(response.headers[HTTPField.Name("Darkroom-Billed-MP")!] == "1")
                let bytes = Array(response.body.readableBytesView)
                #expect(ImageFormat.sniff(bytes) == .webp)
                let header = try ImageDecoder.readHeader(bytes)
                #expect(header.width == 384)
            }
        }
    }

    @Test func strictModeAnswersWithOpenAIsError() async throws {
        let png = try TestImages.bytes("rgba.png")
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/convert?output_format=png&output_compression=50&strict=true",
                                     method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .badRequest)
                let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
                let json = try #require(object as? [String: Any])
                let error = try #require(json["error"] as? [String: Any])
                #expect(error["code"] as? String == "invalid_png_output_compression")
                #expect(error["message"] as? String == "Compression less than 100 is not supported for PNG output format")
            }
        }
    }

    @Test func badInputsGetClearStatuses() async throws {
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/convert", method: .post, body: ByteBuffer(string: "not an image")) { response in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/convert?output_format=bmp", method: .post,
                                     body: ByteBuffer(bytes: try TestImages.bytes("rgba.png"))) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("png, jpeg, gif, webp, avif"))
            }
            try await client.execute(uri: "/v1/convert", method: .post,
                                     body: ByteBuffer(bytes: [UInt8](repeating: 0, count: 2 << 20))) { response in
                #expect(response.status == .contentTooLarge)
            }
        }
    }

    @Test func preparesReferencesAndResolvesSizes() async throws {
        let gif = Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 20)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/references", method: .post,
                                     body: ByteBuffer(bytes: try TestImages.bytes("kodim23.jpg"))) { response in
                #expect(response.status == .ok)
                #expect(response.headers[HTTPField.Name("Darkroom-Resized")!] == "false")
                #expect(response.headers[HTTPField.Name("Darkroom-Billed-MP")!] == "1")
                // kodim23.jpg needs no change: its own bytes, quality `original` (not `lossless`).
                #expect(response.headers[HTTPField.Name("Darkroom-Passed-Through")!] == "true")
                #expect(response.headers[HTTPField.Name("Darkroom-Quality")!] == "original")
            }
            try await client.execute(uri: "/v1/references?format=webp", method: .post,
                                     body: ByteBuffer(bytes: try TestImages.bytes("kodim23.jpg"))) { response in
                #expect(response.headers[HTTPField.Name("Darkroom-Passed-Through")!] == "false")
                #expect(response.headers[HTTPField.Name("Darkroom-Quality")!] == "95")
            }
            try await client.execute(uri: "/v1/references", method: .post, body: ByteBuffer(bytes: gif)) { response in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/size?profile=flux2", method: .post,
                                     body: ByteBuffer(string: #"{"size":"1024x1024"}"#)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"height":1024,"width":1024}"#)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(String(buffer: response.body) == "ok")
            }
        }
    }
}

/// The server's --max-pixels bounds every route that decodes: /v1/references as /v1/convert
/// (new-user report: a reference was decoded under the library default).
@Suite struct ServerPixelLimitTests {
    @Test func referencesAndConversionsShareThePixelLimit() async throws {
        let app = Application(router: DarkroomHTTPServer.router(try .init(maxBodyBytes: 1 << 20, maxPixels: 1000)))
        let jpeg = try TestImages.bytes("kodim23.jpg")   // 768x512
        try await app.test(.router) { client in
            for route in ["/v1/references", "/v1/references?format=jpg", "/v1/convert?output_format=png"] {
                try await client.execute(uri: route, method: .post, body: ByteBuffer(bytes: jpeg)) { response in
                    #expect(response.status == .contentTooLarge, "\(route)")
                    #expect(String(buffer: response.body).contains("set by darkroom-server --max-pixels"), "\(route)")
                }
            }
        }
    }
}
