import CDarkroomFetch
import Darkroom
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads images over http(s) under a ``FetchPolicy``, with libcurl.
///
/// Every socket libcurl opens, for every address of the first URL and of every redirect, is
/// checked first: the address checked is the one connected to, resolved once (no second lookup,
/// so no DNS-rebinding window). The body must start like an image Darkroom reads
/// (``ImageFormat/sniff(_:)``) and is refused from its first bytes otherwise.
///
/// libcurl is loaded on the first download (not linked): a program that uses this module pays
/// nothing for it at start.
public struct Fetcher: Sendable {
    /// The rules every download of this fetcher follows.
    public var policy: FetchPolicy

    /// A fetcher that follows `policy`.
    public init(policy: FetchPolicy) {
        self.policy = policy
    }

    /// How many bytes are read before the body must look like an image (``ImageFormat/sniff(_:)``
    /// looks at no more than these).
    static let sniffBytes = 256

    /// Downloads `url`; blocks the calling thread until it is done or a limit passes (at most
    /// ``FetchPolicy/totalTimeout`` seconds). Safe to call from several threads at once.
    /// - Returns: the body and its image format.
    /// - Throws: ``FetchError``: a URL that is not http(s), an address the policy refuses (for the
    ///   URL or any redirect), a body over ``FetchPolicy/maxBytes`` bytes, a body that is no
    ///   image, HTTP status 400 or more, a time limit, too many redirects, or libcurl's failure.
    public func fetch(_ url: String) throws(FetchError) -> FetchResult {
        _ = try FetchPolicy.checkURL(url)
        let transfer = Transfer(policy: policy)
        var outcome = dr_fetch_outcome()
        let context = Unmanaged.passRetained(transfer)
        defer { context.release() }
        url.withCString { urlText in
            withOptionalCString(policy.proxy) { proxyText in
                var request = dr_fetch_request()
                request.url = urlText
                request.max_declared_bytes = Int64(policy.maxBytes)
                request.connect_timeout_ms = Self.milliseconds(policy.connectTimeout)
                request.total_timeout_ms = Self.milliseconds(policy.totalTimeout)
                request.stall_timeout_ms = Self.milliseconds(policy.stallTimeout)
                request.max_redirects = max(0, policy.maxRedirects)
                request.proxy = proxyText
                request.context = context.toOpaque()
                request.allow_address = { context, address, length in
                    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
                    return transfer.allow(address, length: Int(length)) ? 1 : 0
                }
                request.write = { context, data, length in
                    let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
                    return transfer.write(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
                }
                dr_fetch_perform(&request, &outcome)
            }
        }
        return try result(of: outcome, transfer: transfer, url: url)
    }

    private func result(of outcome: dr_fetch_outcome, transfer: Transfer, url: String) throws(FetchError) -> FetchResult {
        let message = Self.text(outcome.message)
        let lastURL = Self.text(outcome.last_url)
        let hop = outcome.redirects > 0 && !lastURL.isEmpty ? lastURL : nil
        // A refused address explains a failed connection better than curl's "Could not connect"
        // (only then: a host with a refused and an allowed address may still have answered).
        if outcome.status == DR_FETCH_COULD_NOT_CONNECT, let (address, kind) = transfer.refused {
            throw .addressRefused(url: url, hop: hop, address: address, kind: kind)
        }
        switch outcome.status {
        case DR_FETCH_OK:
            guard let format = ImageFormat.sniff(transfer.body) else { throw .notAnImage(url: url) }
            return FetchResult(bytes: transfer.body, format: format, redirects: outcome.redirects)
        case DR_FETCH_ABORTED:
            switch transfer.stopped {
            case .tooLarge?: throw .tooLarge(url: url, limit: policy.maxBytes, declared: nil)
            case .notAnImage?: throw .notAnImage(url: url)
            case nil: throw .failed(url: url, reason: message)
            }
        case DR_FETCH_DECLARED_TOO_LARGE:
            throw .tooLarge(url: url, limit: policy.maxBytes, declared: outcome.declared_length > policy.maxBytes
                            ? Int(outcome.declared_length) : nil)
        case DR_FETCH_HTTP_ERROR: throw .httpStatus(url: url, status: outcome.http_status)
        case DR_FETCH_TOO_MANY_REDIRECTS: throw .tooManyRedirects(url: url, limit: policy.maxRedirects)
        case DR_FETCH_BAD_PROTOCOL: throw .redirectSchemeNotAllowed(url: url, hop: hop ?? message)
        case DR_FETCH_CONNECT_TIMEOUT: throw .timedOut(url: url, limit: .connect, seconds: policy.connectTimeout)
        case DR_FETCH_STALLED: throw .timedOut(url: url, limit: .stall, seconds: policy.stallTimeout)
        case DR_FETCH_TOTAL_TIMEOUT: throw .timedOut(url: url, limit: .total, seconds: policy.totalTimeout)
        case DR_FETCH_UNAVAILABLE: throw .unavailable(reason: message)
        default: throw .failed(url: url, reason: message)
        }
    }

    /// Seconds to libcurl's milliseconds: at least 1 (0 would mean no limit).
    static func milliseconds(_ seconds: Double) -> Int {
        guard seconds.isFinite else { return Int(Int32.max) }
        return Int(max(1, min((seconds * 1000).rounded(.up), Double(Int32.max))))
    }

    static func text<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The loaded libcurl's version ("7.88.1"), or nil when it cannot be loaded.
    public static var curlVersion: String? {
        dr_fetch_curl_version().map { String(cString: $0) }
    }
}

/// What a download brought.
public struct FetchResult: Sendable, Equatable {
    /// The body, at most ``FetchPolicy/maxBytes`` bytes.
    public var bytes: [UInt8]
    /// The image format its first bytes show.
    public var format: ImageFormat
    /// How many redirects were followed.
    public var redirects: Int
}

private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let text else { return body(nil) }
    return text.withCString { body($0) }
}

/// One download's state, shared with the C callbacks (which run on the calling thread, inside
/// `dr_fetch_perform`).
final class Transfer {
    enum Stop { case tooLarge, notAnImage }

    let policy: FetchPolicy
    var body: [UInt8] = []
    var stopped: Stop?
    /// The last address refused, and why; nil again once an address is allowed after it (then
    /// that connection's own failure, if any, is the one to report).
    var refused: (IPAddress, AddressKind)?

    init(policy: FetchPolicy) {
        self.policy = policy
    }

    func allow(_ address: UnsafePointer<sockaddr>?, length: Int) -> Bool {
        // Not IPv4 or IPv6 (curl opens no other kind for http): refused.
        guard let address, let ip = IPAddress(socketAddress: address, length: length) else { return false }
        if let kind = policy.refusal(of: ip) {
            refused = (ip, kind)
            return false
        }
        refused = nil
        return true
    }

    func write(_ data: UnsafeRawBufferPointer) -> Bool {
        if data.count > policy.maxBytes - body.count {
            stopped = .tooLarge
            return false
        }
        let before = body.count
        body.append(contentsOf: data)
        if before < Fetcher.sniffBytes && body.count >= Fetcher.sniffBytes && ImageFormat.sniff(body) == nil {
            stopped = .notAnImage
            return false
        }
        return true
    }
}
