import Dispatch
import Hummingbird

/// Counts every routed request by route and status, times it, tracks the in-flight gauge and the
/// response body bytes. The route label is the matched route pattern (`/v1/convert`), never the raw
/// path, so the number of series stays fixed.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let route = context.endpointPath ?? "unknown"
        metrics.inFlight.increment()
        defer { metrics.inFlight.decrement() }
        do {
            let response = try await next(request, context)
            metrics.recordRequest(route: route, status: response.status.code,
                                  nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            if let length = response.body.contentLength { metrics.recordBytesOut(route: route, length) }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.recordRequest(route: route, status: status, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
            throw error
        }
    }
}
