import Darkroom
import Hummingbird

/// Gives every error that escapes a route the JSON envelope (``APIError``) instead of
/// Hummingbird's empty body: an unknown path is 404 `not_found`; a known path with a method it does
/// not take is 405 `method_not_allowed` with `Allow` listing the methods it takes (the router
/// itself answers both with 404); anything else unexpected is 500 `internal_error`.
struct HTTPErrorBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound {
                if let route = DarkroomHTTPServer.routes.first(where: { $0.path == request.uri.path }) {
                    let allowed = route.methods.map(\.rawValue).joined(separator: ", ")
                    return APIError(.methodNotAllowed, message: "\(request.method) is not allowed on \(route.path); it takes \(allowed)",
                                    code: "method_not_allowed", headers: ["Allow": allowed]).response
                }
                let routes = DarkroomHTTPServer.routes.map { "\($0.methods.map(\.rawValue).joined(separator: ",")) \($0.path)" }
                return APIError(.notFound, message: "no route \(request.method) \(ValueParser.printable(request.uri.path, maxLength: 100)); routes: "
                                    + routes.joined(separator: "; "),
                                code: "not_found").response
            }
            return APIError(error.status, message: error.body ?? error.status.reasonPhrase,
                            type: error.status.code >= 500 ? APIError.serverError : APIError.invalidRequest,
                            code: nil).response
        } catch let error as APIError {
            return error.response
        } catch {
            return APIError.internalError("\(error)").response
        }
    }
}
