@testable import DarkroomHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /openapi.json` and the document it serves (`Server/Sources/DarkroomHTTP/openapi.json`).
@Suite struct OpenAPITests {
    /// The repository's file, read from the source tree.
    static func repositoryFile() throws -> Data {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/DarkroomHTTP/openapi.json").standardizedFileURL
        return try Data(contentsOf: url)
    }

    static func document() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: repositoryFile()) as? [String: Any])
    }

    @Test func theServedDocumentIsTheRepositoryFile() async throws {
        let file = try Self.repositoryFile()
        let app = Application(router: DarkroomHTTPServer.router(.standard))
        try await app.test(.router) { client in
            try await client.execute(uri: "/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(Data(buffer: response.body) == file)
            }
            try await client.execute(uri: "/openapi.json", method: .post) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
            }
        }
    }

    @Test func everyRouteIsDocumentedWithItsMethods() throws {
        let document = try Self.document()
        #expect(document["openapi"] as? String == "3.0.3")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for route in DarkroomHTTPServer.routes {
            let operations = try #require(paths[route.path], "\(route.path) is not documented")
            #expect(Set(operations.keys) == Set(route.methods.map { $0.rawValue.lowercased() }), "\(route.path)")
        }
        // A documented path is a route, or one of proxy mode's, which answer without an upstream
        // as documented (they are served once proxy mode is merged).
        let routes = Set(DarkroomHTTPServer.routes.map(\.path))
        for (path, operations) in paths where !routes.contains(path) {
            for (_, operation) in operations {
                #expect((operation as? [String: Any])?["x-darkroom-mode"] as? String == "proxy", "\(path) is documented but not served")
            }
        }
    }

    /// Every operation says which statuses it answers; the conversion routes name the limits'
    /// statuses (408, 413, 503 with Retry-After, 504); every `$ref` resolves.
    @Test func statusesAndReferencesAreComplete() throws {
        let document = try Self.document()
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        for (path, operations) in paths {
            for (method, operation) in operations {
                let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
                #expect(!responses.isEmpty)
                if ["/v1/convert", "/v1/references", "/v1/images/convert", "/v1/images/references"].contains(path) {
                    #expect(Set(["200", "400", "408", "413", "503", "504"]).isSubset(of: Set(responses.keys)), "\(path)")
                }
                #expect(responses["499"] == nil, "499 is never sent to a client")
            }
        }
        let responses = try #require((document["components"] as? [String: Any])?["responses"] as? [String: [String: Any]])
        let unavailable = try #require(responses["ServiceUnavailable"]?["headers"] as? [String: Any])
        #expect(unavailable["Retry-After"] != nil)
        let text = try #require(String(data: try Self.repositoryFile(), encoding: .utf8))
        var unresolved: [String] = []
        for match in text.matches(of: /"\$ref": "#\/([^"]+)"/) {
            var node: Any? = document
            for key in match.output.1.split(separator: "/") { node = (node as? [String: Any])?[String(key)] }
            if node == nil { unresolved.append(String(match.output.1)) }
        }
        #expect(unresolved.isEmpty, "\(unresolved)")
    }
}
