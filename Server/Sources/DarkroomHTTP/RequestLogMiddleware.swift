import Darkroom
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The request log: one line per answered request through swift-log, at `info`, with the
/// request's method, path (without the query), status, body bytes read (`bytes_in`), body bytes
/// answered (`bytes_out`), milliseconds and request id as metadata:
///
/// ```
/// 2026-12-07T10:00:00+0000 info darkroom-server: bytes_in=48213 bytes_out=10342 method=POST ms=212 path=/v1/images/convert request_id=req_5f0c…  status=200 request
/// ```
///
/// The request id is the client's `X-Request-Id` when it sends one (visible ASCII, up to 128
/// characters), else a new one; the answer carries it in `x-request-id` (which the OpenAI SDKs
/// expose as `request_id`), with the request log or without it (`logger` nil: `--no-request-log`).
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let id = Self.requestID(request.headers[.xRequestID])
        let counter = ByteCounter()
        var request = request
        request.body = RequestBody(asyncSequence: CountingBody(base: request.body, counter: counter))
        var status = 500
        var bytesOut = 0
        defer {
            logger?.info("request", metadata: [
                "method": "\(request.method)", "path": "\(ValueParser.printable(request.uri.path, maxLength: 200))",
                "status": "\(status)", "bytes_in": "\(counter.count)", "bytes_out": "\(bytesOut)",
                "ms": "\((DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)", "request_id": "\(id)",
            ])
        }
        do {
            var response = try await next(request, context)
            response.headers[.xRequestID] = id
            status = response.status.code
            bytesOut = response.body.contentLength ?? 0
            return response
        } catch {
            status = (error as? any HTTPResponseError)?.status.code ?? 500
            throw error
        }
    }

    /// The client's id when it is printable ASCII of 1 to 128 characters, else `req_` and 24 hex digits.
    static func requestID(_ given: String?) -> String {
        if let given, (1...128).contains(given.utf8.count), given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) { return given }
        return "req_" + (0..<3).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max)) }.joined()
    }

    final class ByteCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var total = 0
        func add(_ n: Int) { lock.lock(); total += n; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return total }
    }

    /// The request body, counted as the route reads it.
    struct CountingBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let base: RequestBody
        let counter: ByteCounter

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: RequestBody.AsyncIterator
            let counter: ByteCounter

            mutating func next() async throws -> ByteBuffer? {
                let chunk = try await base.next()
                if let chunk { counter.add(chunk.readableBytes) }
                return chunk
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), counter: counter) }
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("x-request-id")!
}
