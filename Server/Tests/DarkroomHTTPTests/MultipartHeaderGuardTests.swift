@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A non-ASCII byte in a multipart part's header name crashed the whole server (multipart-kit
/// 4.7.1 indexes a 128-entry table with it); found by schemathesis (scripts/check-openapi.sh).
@Suite struct MultipartHeaderGuardTests {
    static func body(_ headerName: [UInt8], boundary: String = "b0undary") -> [UInt8] {
        Array("--\(boundary)\r\n".utf8) + headerName + Array(": form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n".utf8)
            + (try! TestImages.bytes("rgba.png")) + Array("\r\n--\(boundary)--\r\n".utf8)
    }

    @Test func aNonASCIIHeaderNameIsA400NotACrash() async throws {
        let app = Application(router: DarkroomHTTPServer.router(.standard))
        try await app.test(.router) { client in
            for route in ["/v1/images/convert", "/v1/images/references"] {
                for name in [Array("Cont\u{E9}nt-Disposition".utf8), [0xFF], Array("Content-Disposition".utf8) + [0x80]] {
                    try await client.execute(uri: route, method: .post,
                                             headers: [.contentType: "multipart/form-data; boundary=b0undary"],
                                             body: ByteBuffer(bytes: Self.body(name))) { response in
                        #expect(response.status == .badRequest)
                        let error = try JSONBody.error(response)
                        #expect(error["param"] as? String == "multipart")
                        #expect(error["code"] as? String == "invalid_value")
                    }
                }
            }
            // Still serving, and a UTF-8 filename (a header value) is fine.
            let utf8Name = Array("--b0undary\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\u{E9}t\u{E9}.png\"\r\n\r\n".utf8)
                + (try TestImages.bytes("rgba.png")) + Array("\r\n--b0undary--\r\n".utf8)
            try await client.execute(uri: "/v1/images/convert", method: .post,
                                     headers: [.contentType: "multipart/form-data; boundary=b0undary"],
                                     body: ByteBuffer(bytes: utf8Name)) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func theScanLooksOnlyWhereTheParserReadsHeaderNames() {
        let guardScan = MultipartHeaderGuard.firstNonASCIIHeaderName
        // Non-ASCII in a body, a value, a preamble: fine.
        let fine = Array("pre\u{E9}amble\r\n--b\r\nContent-Disposition: form-data; name=\"x\"; filename=\"\u{E9}\"\r\nX-A: \u{E9}\r\n\r\n\u{E9}\u{E9}\r\n--b--\r\n".utf8)
        #expect(guardScan(fine, "b") == nil)
        // The second header line's name.
        let second = Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\nX-\u{E9}: 1\r\n\r\nv\r\n--b--\r\n".utf8)
        #expect(guardScan(second, "b") != nil)
        // A delimiter inside a part's body counts too (the parser would take it as one).
        let inner = Array("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--b\r\n\u{E9}: 1\r\n\r\nw\r\n--b--\r\n".utf8)
        #expect(guardScan(inner, "b") != nil)
        #expect(guardScan([], "b") == nil)
        #expect(guardScan(Array("--b".utf8), "b") == nil)
    }
}
