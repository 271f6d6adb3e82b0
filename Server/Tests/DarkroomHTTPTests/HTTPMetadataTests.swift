@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Darkroom

/// Metadata through the sidecar: `keep` on both doors with the library's default (the provenance
/// label only), a C2PA manifest reported in `Darkroom-Warning` and the JSON's `warnings`, a bad
/// `keep` refused naming it. (The bytes each format carries are read back with exiftool in the
/// root package's MetadataFidelityTests.)
@Suite struct HTTPMetadataTests {
    let app = Application(router: DarkroomHTTPServer.router(try! .init(maxBodyBytes: 16 << 20)))
    static let label = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

    /// testimages/hopper.jpg with the label in an XMP APP1 segment and a C2PA manifest store in an
    /// APP11 segment (`JP`, box instance 1, packet 1, a `jumb` box whose `jumd` is C2PA's); the
    /// APP11 segment's size in bytes.
    static let input: (bytes: [UInt8], manifest: Int) = {
        let jpeg = MetadataEmbedding.jpeg(try! TestImages.bytes("hopper.jpg"), xmp: XMPProvenance.packet(digitalSourceType: label),
                                          iptc: nil)
        func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        let uuid: [UInt8] = [0x63, 0x32, 0x70, 0x61, 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        let jumd = Array("jumd".utf8) + uuid + [0x03] + Array("c2pa\0".utf8)
        let jumb = be32(jumd.count + 12) + Array("jumb".utf8) + be32(jumd.count + 4) + jumd
        let body: [UInt8] = [0x4A, 0x50, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01] + jumb
        var bytes = jpeg
        bytes.insert(contentsOf: [0xFF, 0xEB, UInt8((body.count + 2) >> 8), UInt8((body.count + 2) & 0xFF)] + body, at: 2)
        return (bytes, body.count + 4)
    }()

    static var c2paWarning: String {
        "metadata: C2PA manifest (JPEG APP11, \(input.manifest) bytes) dropped: its signature covers the input's bytes,"
            + " which a conversion changes (re-sign the output to keep a manifest)"
    }

    static func header(_ response: TestResponse, _ name: String) -> String? { response.headers[HTTPField.Name(name)!] }

    @Test func theDefaultKeepsTheLabelAndSaysTheManifestIsGone() async throws {
        #expect(GatewayConversion().keep == .provenance && GatewayConversion().convertOptions.encode.keep == .provenance)
        try await app.test(.router) { client in
            let raw = try await client.execute(uri: "/v1/convert?output_format=webp", method: .post,
                                               body: ByteBuffer(bytes: Self.input.bytes))
            #expect(raw.status == .ok, "\(String(buffer: raw.body))")
            let out = Array(buffer: raw.body)
            #expect(try ImageInspection.inspect(out).provenance == Provenance(digitalSourceType: Self.label))
            #expect(Self.header(raw, "Darkroom-Warnings") == "1")
            #expect(Self.header(raw, "Darkroom-Warning") == Self.c2paWarning)

            let none = try await client.execute(uri: "/v1/convert?output_format=png&keep=none", method: .post,
                                                body: ByteBuffer(bytes: Self.input.bytes))
            #expect(none.status == .ok)
            #expect(try ImageInspection.inspect(Array(buffer: none.body)).provenance == Provenance())
            #expect(Self.header(none, "Darkroom-Warning") == Self.c2paWarning)
        }
    }

    @Test func theFormRouteTakesKeepAndListsTheWarnings() async throws {
        try await app.test(.router) { client in
            let json = try await client.post("/v1/images/convert", .images([Self.input.bytes],
                                                                         fields: ["output_format": "png", "keep": "icc,exif"]))
            #expect(json.status == .ok, "\(String(buffer: json.body))")
            let object = try JSONBody.object(json)
            let image = try #require(((object["darkroom"] as? [String: Any])?["images"] as? [[String: Any]])?.first)
            let warnings = try #require(image["warnings"] as? [[String: Any]])
            #expect(warnings.map { $0["kind"] as? String } == ["metadata", "metadata"])
            #expect(warnings.map { $0["block"] as? String } == ["c2pa", "provenance"])
            #expect(warnings.map { $0["reason"] as? String } == ["invalidated", "not_kept"])
            let data = try #require((object["data"] as? [[String: Any]])?.first?["b64_json"] as? String)
            let png = [UInt8](try #require(Data(base64Encoded: data)))
            #expect(try ImageInspection.inspect(png).provenance == Provenance())

            let all = try await client.post("/v1/images/convert", .images([Self.input.bytes],
                                                                        fields: ["output_format": "jpeg", "keep": "all", "response_format": "binary"]))
            #expect(all.status == .ok)
            #expect(try ImageInspection.inspect(Array(buffer: all.body)).provenance.digitalSourceType == Self.label)
        }
    }

    @Test func aBadKeepIsRefusedNamingIt() async throws {
        try await app.test(.router) { client in
            for r in [try await client.execute(uri: "/v1/convert?output_format=png&keep=gps", method: .post,
                                               body: ByteBuffer(bytes: Self.input.bytes)),
                      try await client.post("/v1/images/convert", .images([Self.input.bytes], fields: ["keep": "none,icc"]))] {
                let e = try JSONBody.envelope(r)
                #expect(e.status == 400 && e.param == "keep", "\(String(buffer: r.body))")
            }
        }
    }
}
