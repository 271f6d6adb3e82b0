import Hummingbird

/// Gives the router's own errors (an unknown path: 404, a known path with another method: 405)
/// the same OpenAI-style JSON body as every other error, instead of an empty one.
struct HTTPErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let message = switch error.status {
            case .notFound: "no route \(request.method) \(request.uri.path); routes: GET /healthz, /readyz, /metrics; POST /v1/convert, /v1/references, /v1/size"
            case .methodNotAllowed: "\(request.method) is not allowed on \(request.uri.path)"
            default: error.body ?? error.status.reasonPhrase
            }
            return DarkroomHTTPServer.errorResponse(error.status, message: message, code: error.status == .notFound ? "not_found" : nil)
        }
    }
}
