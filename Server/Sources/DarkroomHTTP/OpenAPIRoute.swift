import Hummingbird
import NIOCore

/// `GET /openapi.json`: the OpenAPI 3.0 document of every route (its statuses, fields and their
/// bounds, the error envelope), served byte for byte as it is in the repository.
///
/// The one source is `openapi.json` beside this file, embedded at build time (SwiftPM's
/// `.embedInCode` resource rule, so the binary needs no bundle beside it); `OpenAPITests` checks
/// that the served document is that file and that it names every route with its methods, and
/// `scripts/check-openapi.sh` (CI) runs schemathesis against a live server with it.
enum OpenAPIRoute {
    /// The document's bytes.
    static var document: [UInt8] { PackageResources.openapi_json }

    static func add(to router: Router<BasicRequestContext>) {
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
