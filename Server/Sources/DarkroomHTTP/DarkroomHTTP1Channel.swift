import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The sidecar's HTTP/1.1 connection handler: Hummingbird's `HTTP1Channel` (the same pipeline:
/// NIO's HTTP/1 codec, the HTTP-types codec, Hummingbird's idle-connection handler) with three
/// differences:
///
/// - **`Expect: 100-continue`** is answered with `100 Continue` the moment the handler starts
///   reading the body (curl sends the header for bodies over 1 MB and otherwise waits a second
///   for an answer). A request refused before its body is read (a declared length over the
///   limit, overload, shutdown) gets its final answer instead, and no body is waited for.
/// - **Parser errors** (a bad or doubled `Content-Length`, an unknown method, a bad header) are
///   answered `400` with the JSON error envelope (`code` `malformed_request`), not an empty body,
///   and the connection is closed.
/// - **A body the handler did not read** ends the connection after the answer (a request that
///   declared no body keeps it): a lingering close reads and drops at most 8 MiB of it for at
///   most 2 s, so a client that sends its whole body before reading still gets the answer, and
///   one that trickles a large body cannot keep the connection.
///
/// - **A request head must arrive in time**: a connection whose next request head is not complete
///   within `headerTimeout` of the server starting to wait for it (a client that opens a
///   connection and sends nothing, or headers that never end, however slowly they trickle) is
///   closed. The body's own time limits apply once the head is in.
///
/// Adapted from Hummingbird 2.28's `HTTP1Channel` and `HTTPChannelHandler.handleHTTP` (Apache-2.0).
public struct DarkroomHTTP1Channel: ServerChildChannel {
    /// The connection as Hummingbird's own HTTP/1 channel has it: HTTP-types parts in and out.
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// Called for a request the HTTP parser refused (for the request log); the answer is already sent.
    public typealias ParseErrorObserver = @Sendable (_ message: String) -> Void

    let responder: HTTPChannelHandler.Responder
    let idleTimeout: TimeAmount?
    /// The longest wait for a whole request head (the first, and each next one on a kept-alive
    /// connection) before the connection is closed; nil: no limit.
    let headerTimeout: TimeAmount?
    let onParseError: ParseErrorObserver?

    /// - Parameters:
    ///   - responder: the application's responder (``HTTPServerBuilder/darkroomHTTP1(idleTimeout:headerTimeout:onParseError:)`` passes it).
    ///   - idleTimeout: close a connection idle this long between requests; nil: never.
    ///   - headerTimeout: close a connection whose next request head is not complete this long
    ///     after the wait for it began; nil: never.
    ///   - onParseError: told of each request the HTTP parser refused, after its 400 is sent.
    public init(responder: @escaping HTTPChannelHandler.Responder, idleTimeout: TimeAmount? = nil,
                headerTimeout: TimeAmount? = nil, onParseError: ParseErrorObserver? = nil) {
        self.responder = responder
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.onParseError = onParseError
    }

    /// The pipeline: NIO's HTTP/1 codec (without its own error handler), the HTTP-types codec,
    /// Hummingbird's connection-state handler.
    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,  // answered below, with a JSON body
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: NIOHTTPDecoderLimitConfiguration())
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(
                HTTPConnectionStateHandler(idleTimeout: idleTimeout.map { .nanoseconds($0.nanoseconds) }, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel,
                                       configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    /// Serves the connection's requests in order until it closes (see the type's description).
    public func handle(value asyncChannel: Value, logger: Logger) async {
        do {
            try await withTaskCancellationHandler {
                try await asyncChannel.executeThenClose { inbound, outbound in
                    let iterator = IteratorBox(inbound.makeAsyncIterator())
                    let channel = asyncChannel.channel
                    // The next request head, or the connection closed once `headerTimeout` has passed.
                    let headerTimeout = self.headerTimeout
                    func nextHead() async throws -> HTTPRequest? {
                        let closing = headerTimeout.map { timeout in channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) } }
                        defer { closing?.cancel() }
                        return try await iterator.nextHead()
                    }
                    do {
                        guard var head = try await nextHead() else { return }
                        while true {
                            let state = BodyState(expectsContinue: Self.expectsContinue(head))
                            let body = ChannelBody(iterator: iterator, state: state, outbound: outbound)
                            let request = Request(head: head, body: RequestBody(asyncSequence: body))
                            try await responder(request, ResponseWriter(outbound: outbound), asyncChannel.channel)
                            if head.headerFields[.connection]?.lowercased() == "close" { break }
                            if !state.finished {
                                // A declared body nobody read: close rather than wait for it.
                                guard !Self.declaresBody(head), try await iterator.skipEnd() else { break }
                            }
                            guard let next = try await nextHead() else { break }
                            head = next
                        }
                    } catch let error as MalformedRequest {
                        let answer = APIError(.badRequest, message: "malformed HTTP request: \(error.reason)", code: "malformed_request")
                        var fields = answer.response.headers
                        fields[.connection] = "close"
                        let body = ByteBuffer(bytes: answer.json.jsonData())
                        fields[.contentLength] = "\(body.readableBytes)"
                        try await outbound.write(contentsOf: [.head(HTTPResponse(status: .badRequest, headerFields: fields)),
                                                              .body(body), .end(nil)])
                        onParseError?(error.reason)
                    }
                    // A lingering close: half-close, then read and drop what the client still
                    // sends (the rest of a body refused before it was read) until it closes its
                    // side, so its answer is not lost to a reset (a client that sends its whole
                    // body before reading, as Python's http.client does, would see a broken pipe
                    // instead of the 503); at most `lingerBytes`, and 2 s, then close.
                    outbound.finish()
                    // (`channel`: the connection, as above.)
                    let forced = channel.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
                    var dropped = 0
                    while dropped <= Self.lingerBytes, let part = try? await iterator.next() {
                        if case let .body(buffer) = part { dropped += buffer.readableBytes }
                    }
                    channel.close(promise: nil)
                    try? await channel.closeFuture.get()
                    forced.cancel()
                }
            } onCancel: {
                asyncChannel.channel.close(mode: .input, promise: nil)
            }
        } catch {
            logger.trace("connection ended: \(error)")
        }
    }

    /// Bytes of a refused body read and dropped after the answer, at most (8 MiB; and 2 s).
    static let lingerBytes = 8 << 20

    /// `Expect: 100-continue` (case-insensitive), the only expectation HTTP/1.1 defines.
    static func expectsContinue(_ head: HTTPRequest) -> Bool {
        head.headerFields[.expect]?.lowercased() == "100-continue"
    }

    /// Whether the head announces a body: a `Content-Length` other than 0, or a `Transfer-Encoding`.
    static func declaresBody(_ head: HTTPRequest) -> Bool {
        if head.headerFields[.transferEncoding] != nil { return true }
        if let length = head.headerFields[.contentLength] { return length != "0" }
        return false
    }

    /// The HTTP parser (or the HTTP-types conversion) refused what the client sent.
    struct MalformedRequest: Error { var reason: String }

    /// The connection's one inbound iterator, shared by the loop and each request's body (as
    /// Hummingbird's own channel shares it; only one of them reads at any time).
    final class IteratorBox: @unchecked Sendable {
        private var iterator: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator

        init(_ iterator: NIOAsyncChannelInboundStream<HTTPRequestPart>.AsyncIterator) { self.iterator = iterator }

        /// The next part; a parser error becomes ``MalformedRequest``, the connection ending
        /// inside a body ``ClientClosedBody``.
        func next() async throws -> HTTPRequestPart? {
            do {
                return try await iterator.next()
            } catch HTTPParserError.invalidEOFState {
                throw ClientClosedBody()
            } catch let error as HTTPParserError {
                throw MalformedRequest(reason: Self.describe(error))
            }
        }

        /// The next request's head, nil when the connection ends.
        func nextHead() async throws -> HTTPRequest? {
            do {
                guard let part = try await iterator.next() else { return nil }
                guard case let .head(head) = part else { throw MalformedRequest(reason: "a request must begin with its head") }
                return head
            } catch let error as HTTPParserError {
                throw MalformedRequest(reason: Self.describe(error))
            } catch let error as MalformedRequest {
                throw error
            } catch is CancellationError {
                return nil
            } catch is ChannelError {
                return nil
            } catch is IOError {
                return nil  // the connection was reset: nobody to answer
            } catch {
                // The HTTP-types conversion refused the head (e.g. a header it cannot represent).
                throw MalformedRequest(reason: "\(error)")
            }
        }

        /// Reads the end of a request that declared no body; false if something else came.
        func skipEnd() async throws -> Bool {
            guard let part = try await next() else { return false }
            if case .end = part { return true }
            return false
        }

        /// The parser's error in words.
        static func describe(_ error: HTTPParserError) -> String {
            switch error {
            case .invalidMethod: "unknown method"
            case .unexpectedContentLength: "Content-Length given twice or with Transfer-Encoding"
            case .invalidContentLength: "invalid Content-Length"
            case .invalidHeaderToken: "invalid header"
            case .headerOverflow: "headers too large"
            case .invalidURL: "invalid request target"
            case .invalidVersion: "unsupported HTTP version"
            case .invalidChunkSize: "invalid chunk size"
            default: "\(error)"
            }
        }
    }

    /// Where one request's body stands: whether `100 Continue` is still owed, and whether its end
    /// has been read.
    final class BodyState: @unchecked Sendable {
        private let lock = NSLock()
        private var owesContinue: Bool
        private var ended = false

        init(expectsContinue: Bool) { owesContinue = expectsContinue }

        var finished: Bool {
            lock.lock()
            defer { lock.unlock() }
            return ended
        }

        func finish() {
            lock.lock()
            ended = true
            lock.unlock()
        }

        /// True once, for the first read of a body whose client waits for `100 Continue`.
        func takeContinue() -> Bool {
            lock.lock()
            defer { owesContinue = false; lock.unlock() }
            return owesContinue
        }
    }

    /// One request's body: the connection's `.body` parts up to `.end`; `100 Continue` first
    /// when the client asked for it; ``ClientClosedBody`` when the connection ends before `.end`.
    struct ChannelBody: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let iterator: IteratorBox
        let state: BodyState
        let outbound: NIOAsyncChannelOutboundWriter<HTTPResponsePart>

        struct AsyncIterator: AsyncIteratorProtocol {
            let body: ChannelBody

            mutating func next() async throws -> ByteBuffer? {
                if body.state.finished { return nil }
                if body.state.takeContinue() {
                    try await body.outbound.write(.head(HTTPResponse(status: .continue)))
                }
                guard let part = try await body.iterator.next() else { throw ClientClosedBody() }
                switch part {
                case let .body(buffer):
                    return buffer
                case .end:
                    body.state.finish()
                    return nil
                case .head:
                    throw MalformedRequest(reason: "a new request head inside a body")
                }
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with ``DarkroomHTTP1Channel``: `100 Continue` answered at once, parser errors as
    /// JSON, unread bodies not drained.
    public static func darkroomHTTP1(idleTimeout: TimeAmount? = nil, headerTimeout: TimeAmount? = nil,
                                     onParseError: DarkroomHTTP1Channel.ParseErrorObserver? = nil) -> HTTPServerBuilder {
        .init { responder in
            DarkroomHTTP1Channel(responder: responder, idleTimeout: idleTimeout, headerTimeout: headerTimeout, onParseError: onParseError)
        }
    }
}
