import AsyncHTTPClient
import Darkroom
import DarkroomFetch
import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Proxy mode's connection to the upstream (async-http-client, redirects not followed, no
/// retries: a POST there may be a paid generation) and its guarded downloads of result URLs
/// (``Fetcher`` from DarkroomFetch, run on a dispatch thread: it is blocking libcurl, so never on
/// an event loop or Swift's cooperative pool; at most ``UpstreamConfiguration/maxConcurrentFetches``
/// at once server-wide).
final class Upstream: Sendable {
    let configuration: UpstreamConfiguration
    let client: HTTPClient
    let fetcher: Fetcher
    let fetchSlots: AsyncSlots
    let metrics: ServerMetrics
    private let inFlight: NIOLockedValueBox<Int>

    init(_ configuration: UpstreamConfiguration, metrics: ServerMetrics) {
        self.configuration = configuration
        self.metrics = metrics
        inFlight = NIOLockedValueBox(0)
        var http = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                            timeout: .init(connect: .seconds(10),
                                                           read: .milliseconds(Int64(configuration.timeout * 1000))),
                                            proxy: nil, decompression: .disabled)
        http.httpVersion = .automatic
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        fetcher = Fetcher(policy: configuration.fetchPolicy)
        fetchSlots = AsyncSlots(configuration.maxConcurrentFetches)
    }

    deinit {
        // Non-blocking (deinit may run on an event loop); the client keeps itself alive until shut down.
        client.shutdown { _ in }
    }

    /// Takes one of ``UpstreamConfiguration/maxInFlight`` places for a proxied request, or throws
    /// 503 `upstream_busy` (with `Retry-After`; nothing was forwarded, so the SDK's retry is
    /// safe). Give it back with ``leave()``.
    func admit(retryAfter: Int) throws(APIError) {
        let admitted: Int? = inFlight.withLockedValue { count in
            guard count < configuration.maxInFlight else { return nil }
            count += 1
            return count
        }
        guard let admitted else {
            metrics.recordRejection(reason: "upstream_saturated")
            throw APIError(.serviceUnavailable,
                           message: "darkroom-server has \(configuration.maxInFlight) proxied requests in flight"
                               + " (--max-upstream-requests); nothing was forwarded: retry after \(retryAfter) s",
                           type: APIError.serverError, code: "upstream_busy", headers: ["Retry-After": "\(retryAfter)"])
        }
        metrics.upstreamInFlight.record(admitted)
    }

    /// Gives back the place ``admit(retryAfter:)`` took.
    func leave() {
        let now = inFlight.withLockedValue { count in
            count -= 1
            return count
        }
        metrics.upstreamInFlight.record(now)
    }

    /// The request headers passed to the upstream: the client's credentials (replaced by
    /// ``UpstreamConfiguration/apiKey`` when one is set) and OpenAI's organisation and project
    /// headers. Nothing else (no cookies, no hop-by-hop headers); the result URLs get none of them.
    static let forwardedHeaders: [HTTPField.Name] = [
        .authorization, HTTPField.Name("OpenAI-Organization")!, HTTPField.Name("OpenAI-Project")!,
    ]

    /// The upstream's answer: its status, JSON object, request id and time.
    struct Answer: Sendable {
        var json: [String: JSONValue]
        var requestID: String?
        var milliseconds: Int
    }

    /// POSTs `body` to the base URL + `path` and returns the 2xx JSON object. Throws the answer
    /// to give the client otherwise: the upstream's 4xx as it is (its envelope, with the four
    /// keys, `Retry-After` kept); its 5xx as 502 `upstream_error` (504 `upstream_timeout` for its
    /// 504); no answer within the timeout as 504 `upstream_timeout`; a connection failure, a
    /// redirect, an answer over the byte limit or not JSON as 502. Every 5xx carries
    /// `x-should-retry: false`: the upstream may have generated (and billed) already.
    func post(path: String, body: [UInt8], contentType: String, from request: Request) async throws(APIError) -> Answer {
        var outbound = HTTPClientRequest(url: configuration.baseURL + path)
        outbound.method = .POST
        outbound.headers.add(name: "Content-Type", value: contentType)
        outbound.headers.add(name: "Accept", value: "application/json")
        for name in Self.forwardedHeaders where !(name == .authorization && configuration.apiKey != nil) {
            for value in request.headers[values: name] { outbound.headers.add(name: name.canonicalName, value: value) }
        }
        if let key = configuration.apiKey { outbound.headers.add(name: "Authorization", value: "Bearer \(key)") }
        outbound.body = .bytes(ByteBuffer(bytes: body))
        let started = ContinuousClock.now
        let deadline = NIODeadline.now() + .milliseconds(Int64(configuration.timeout * 1000))
        let status: Int
        let headers: HTTPHeaders
        let bytes: ByteBuffer
        do {
            let response = try await client.execute(outbound, deadline: deadline)
            status = Int(response.status.code)
            headers = response.headers
            bytes = try await response.body.collect(upTo: configuration.maxBytes)
        } catch {
            let answer = Self.transportError(error, timeout: configuration.timeout, maxBytes: configuration.maxBytes)
            let outcome = switch answer.code {
            case "upstream_response_too_large": "too_large"
            case "upstream_timeout": "timeout"
            default: "unreachable"
            }
            metrics.recordUpstream(route: path, outcome: outcome, nanoseconds: Self.nanoseconds(since: started))
            throw answer
        }
        let elapsed = started.duration(to: .now)
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let requestID = headers.first(name: "x-request-id")
        let json = try? JSONValue(parsing: Data(buffer: bytes))
        let object = json?.objectValue
        metrics.recordUpstream(route: path, outcome: (200..<300).contains(status) && object == nil ? "invalid" : "\(status)",
                               nanoseconds: Self.nanoseconds(since: started))
        guard (200..<300).contains(status) else {
            throw Self.statusError(status, json: json, body: bytes, headers: headers)
        }
        guard let object else {
            throw Self.badGateway("the upstream answered HTTP \(status) without a JSON object", code: "upstream_invalid_response")
        }
        return Answer(json: object, requestID: requestID, milliseconds: milliseconds)
    }

    static func nanoseconds(since start: ContinuousClock.Instant) -> UInt64 {
        let elapsed = start.duration(to: .now)
        return UInt64(max(0, elapsed.components.seconds)) &* 1_000_000_000 &+ UInt64(max(0, elapsed.components.attoseconds / 1_000_000_000))
    }

    /// 502 (or `status`) with `x-should-retry: false`, type `server_error`.
    static func badGateway(_ message: String, code: String, status: HTTPResponse.Status = .badGateway,
                           param: String? = nil) -> APIError {
        APIError(status, message: message, type: APIError.serverError, param: param, code: code, headers: ["x-should-retry": "false"])
    }

    static func transportError(_ error: any Error, timeout: Double, maxBytes: Int) -> APIError {
        if error is NIOTooManyBytesError {
            return badGateway("the upstream's answer is over \(maxBytes) bytes (darkroom-server --upstream-max-bytes)",
                              code: "upstream_response_too_large")
        }
        if let error = error as? HTTPClientError,
           error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            let what = error == .connectTimeout ? "no connection to the upstream within 10 s"
                : "the upstream did not answer within \(RouteSupport.OutputLimits.text(timeout)) s (darkroom-server --upstream-timeout)"
            return badGateway(what + "; it may have generated already, so this is not retried",
                              code: "upstream_timeout", status: .gatewayTimeout)
        }
        return badGateway("the upstream could not be reached or closed the connection: \(ValueParser.printable("\(error)", maxLength: 200))",
                          code: "upstream_unreachable")
    }

    /// The client's answer for an upstream status other than 2xx.
    static func statusError(_ status: Int, json: JSONValue?, body: ByteBuffer, headers: HTTPHeaders) -> APIError {
        let envelope = json?.objectValue?["error"]?.objectValue
        let upstreamMessage = envelope?["message"]?.stringValue
            ?? ValueParser.printable(String(decoding: body.readableBytesView.prefix(300), as: UTF8.self), maxLength: 300)
        if (400..<500).contains(status) {
            // As it is: the SDK raises the same class with the same code.
            var passed: [String: String] = [:]
            for name in ["retry-after", "retry-after-ms", "x-should-retry"] { if let v = headers.first(name: name) { passed[name] = v } }
            return APIError(HTTPResponse.Status(code: status), message: upstreamMessage,
                            type: envelope?["type"]?.stringValue ?? APIError.invalidRequest,
                            param: envelope?["param"]?.stringValue, code: envelope?["code"]?.stringValue ?? "upstream_error",
                            headers: passed)
        }
        let code = envelope?["code"]?.stringValue.map { " (\($0))" } ?? ""
        if status == 504 {
            return badGateway("the upstream timed out (HTTP 504)\(code): \(upstreamMessage)", code: "upstream_timeout", status: .gatewayTimeout)
        }
        return badGateway("the upstream answered HTTP \(status)\(code): \(upstreamMessage)", code: "upstream_error")
    }

    /// Downloads a result URL under the fetch policy, on a dispatch thread, at most
    /// ``UpstreamConfiguration/maxConcurrentFetches`` at once. Throws 502 (504 for a time
    /// limit) `upstream_result_refused` or `upstream_result_failed`, naming `param` (`data[i]`);
    /// `upstream_result_refused` also for a host not in ``UpstreamConfiguration/resultHosts``.
    func fetch(_ url: String, param: String) async throws(APIError) -> FetchResult {
        if !configuration.resultHosts.isEmpty {
            let host = URLComponents(string: url)?.host ?? ""
            guard configuration.allowsResult(host: host) else {
                metrics.recordResultFetch(outcome: "refused")
                throw Self.badGateway("the upstream's result URL was not downloaded: its host \(ValueParser.printable(host, maxLength: 100))"
                                          + " is not one of --result-host \(configuration.resultHosts.joined(separator: ", "))",
                                      code: "upstream_result_refused", param: param)
            }
        }
        await fetchSlots.acquire()
        defer { fetchSlots.release() }
        let fetcher = self.fetcher
        let result: Result<FetchResult, FetchError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Result { () throws(FetchError) in try fetcher.fetch(url) })
            }
        }
        switch result {
        case let .success(fetched):
            metrics.recordResultFetch(outcome: "ok")
            return fetched
        case let .failure(error):
            var message = "the upstream's result URL was not downloaded: \(error.message)"
            if case .tooManyRedirects = error, !configuration.resultHosts.isEmpty {
                message += " (with --result-host, redirects are not followed)"
            }
            switch error {
            case .addressRefused, .schemeNotAllowed, .redirectSchemeNotAllowed, .invalidURL, .tooLarge, .notAnImage, .tooManyRedirects:
                metrics.recordResultFetch(outcome: "refused")
                throw Self.badGateway(message, code: "upstream_result_refused", param: param)
            case .timedOut:
                metrics.recordResultFetch(outcome: "timeout")
                throw Self.badGateway(message, code: "upstream_result_timeout", status: .gatewayTimeout, param: param)
            default:
                metrics.recordResultFetch(outcome: "failed")
                throw Self.badGateway(message, code: "upstream_result_failed", param: param)
            }
        }
    }
}

/// A counting semaphore for async code: `acquire` waits (without blocking a thread) for one of
/// `count` slots.
final class AsyncSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = max(1, count) }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if free > 0 {
                free -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            free += 1
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }
}
