import Darkroom
import DarkroomFetch
import Foundation

/// Proxy mode's settings (`darkroom-server --upstream URL`): where `POST /v1/images/generations`
/// and `/v1/images/edits` are forwarded, how long the upstream may take, how large its answer and
/// each result image may be, and whether result URLs on this machine may be fetched (tests only), how many requests may be in flight, the
/// upstream's key and the hosts results may come from.
public struct UpstreamConfiguration: Sendable, Equatable {
    /// The upstream's OpenAI-compatible base URL, without a trailing `/`
    /// (`https://api.openai.com/v1`): `/images/generations` and `/images/edits` are appended.
    public var baseURL: String
    /// Seconds the upstream has to answer (its whole answer, body included), and the longest a
    /// result URL's download may take. Separate from `--request-timeout`, which bounds the body
    /// upload and each conversion.
    public var timeout: Double
    /// Largest upstream answer in bytes (its JSON, `b64_json` images included), and largest image
    /// downloaded from a result `url`.
    public var maxBytes: Int
    /// Result URLs may be fetched from 127.0.0.1 and ::1 (never any other private, link-local or
    /// metadata address). For tests with a stub upstream on loopback only.
    public var allowLoopbackResults: Bool
    /// Result URLs downloaded at once by the whole server (each download blocks a thread: libcurl).
    public var maxConcurrentFetches: Int
    /// Proxied requests in flight at once (from their arrival to their answer: reading the body,
    /// preparing references, waiting on the upstream, converting); one more is answered 503
    /// `upstream_busy` with `Retry-After` before anything is forwarded, so a retry is safe. What
    /// bounds the proxy's memory: each one holds at most its body (`--max-body-bytes`) and the
    /// upstream's answer (``maxBytes``, held about 2.5 times over while its base64 is decoded).
    public var maxInFlight: Int
    /// The key sent to the upstream as `Authorization: Bearer KEY` in place of the client's
    /// (`DARKROOM_UPSTREAM_API_KEY`, from the environment, never a flag: it would show in `ps`).
    /// nil: the client's `Authorization` is forwarded as it came.
    public var apiKey: String?
    /// Hosts result URLs may be downloaded from (`--result-host`): exact names, or `*.example.com`
    /// for every subdomain. Empty: any public host. When set, redirects are not followed (each
    /// hop's host could not be held to the list).
    public var resultHosts: [String]

    /// Seconds: above 0 up to a day.
    public static let maxTimeout = 86_400.0
    /// 300 s: image generation takes tens of seconds to minutes.
    public static let defaultTimeout = 300.0
    /// 128 MiB: ten 4 MP PNGs as base64 JSON fit.
    public static let defaultMaxBytes = 128 << 20
    /// Bytes: 1 KiB to 2^40.
    public static let maxBytesRange = 1024...Limits.maxByteCount
    /// 16: generations take tens of seconds, so a gateway keeps many in flight; 16 × 128 MiB
    /// answers is the worst case, a few hundred MB for real answers (docs/server.md, Proxy mode).
    public static let defaultMaxInFlight = 16
    /// Proxied requests in flight: 1 to 10,000.
    public static let maxInFlightRange = 1...10_000

    /// Throws ``DarkroomError/option(_:)`` for a URL that is not an absolute http(s) URL with a
    /// host (no user info, query or fragment), a timeout outside (0, 86400] or a byte count
    /// outside ``maxBytesRange``.
    public init(url: String, timeout: Double = UpstreamConfiguration.defaultTimeout,
                maxBytes: Int = UpstreamConfiguration.defaultMaxBytes, allowLoopbackResults: Bool = false,
                maxConcurrentFetches: Int = 8, maxInFlight: Int = UpstreamConfiguration.defaultMaxInFlight,
                apiKey: String? = nil, resultHosts: [String] = []) throws(DarkroomError) {
        baseURL = try Self.parseURL(url)
        guard timeout.isFinite, timeout > 0, timeout <= Self.maxTimeout else {
            throw .option(OptionError(name: "upstream-timeout", value: "\(timeout)",
                                      expected: "a number above 0 up to \(Int(Self.maxTimeout)) seconds"))
        }
        try ValueParser.check(maxBytes, name: "upstream-max-bytes", in: Self.maxBytesRange)
        try ValueParser.check(maxInFlight, name: "max-upstream-requests", in: Self.maxInFlightRange)
        if let apiKey {
            guard !apiKey.isEmpty, apiKey.utf8.count <= 4096, !apiKey.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else {
                throw .option(OptionError(name: "DARKROOM_UPSTREAM_API_KEY", value: "(\(apiKey.utf8.count) bytes, not shown)",
                                          expected: "1 to 4096 printable ASCII characters without spaces"))
            }
        }
        self.resultHosts = try resultHosts.map { (host) throws(DarkroomError) in try Self.parseResultHost(host) }
        self.maxInFlight = maxInFlight
        self.apiKey = apiKey
        self.timeout = timeout
        self.maxBytes = maxBytes
        self.allowLoopbackResults = allowLoopbackResults
        self.maxConcurrentFetches = max(1, maxConcurrentFetches)
    }

    /// The one parser of `--upstream`: an absolute `http` or `https` URL with a host and an
    /// optional port and path; no user info (send credentials in the client's `Authorization`),
    /// query or fragment. Returns it without a trailing `/`.
    public static func parseURL(_ text: String) throws(DarkroomError) -> String {
        func refuse(_ why: String) -> DarkroomError {
            .option(OptionError(name: "upstream", value: ValueParser.printable(text, maxLength: 200),
                                expected: "an http or https base URL such as https://api.openai.com/v1 (\(why))"))
        }
        guard !text.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7f }) else { throw refuse("no spaces or control characters") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else { throw refuse("the scheme must be http or https") }
        guard let host = components.host, !host.isEmpty else { throw refuse("no host") }
        guard components.user == nil, components.password == nil else { throw refuse("no user info: the client's Authorization is forwarded") }
        guard components.query == nil, components.fragment == nil else { throw refuse("no query or fragment") }
        if let port = components.port, !(1...65_535).contains(port) { throw refuse("port 1 to 65535") }
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    /// The one parser of `--result-host`: a host name (letters, digits, `-`, `.`), optionally
    /// starting with `*.` for its subdomains, or an IP literal; returned lowercased.
    public static func parseResultHost(_ text: String) throws(DarkroomError) -> String {
        let host = text.lowercased()
        let name = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
        let ok = !name.isEmpty && name.utf8.count <= 253 && !name.hasPrefix(".") && !name.hasSuffix(".")
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e || $0 == 0x3a }
        guard ok else {
            throw .option(OptionError(name: "result-host", value: ValueParser.printable(text, maxLength: 100),
                                      expected: "a host name such as cdn.example.com, *.example.com for its subdomains, or an IP address"))
        }
        return host
    }

    /// Whether a result URL's host may be downloaded from: always with no ``resultHosts``; else
    /// when it equals one of them, or ends in `.example.com` for a `*.example.com` entry
    /// (which does not match `example.com` itself). Hosts compare without case.
    func allowsResult(host: String) -> Bool {
        guard !resultHosts.isEmpty else { return true }
        let host = host.lowercased()
        return resultHosts.contains { entry in
            entry.hasPrefix("*.") ? host.hasSuffix(String(entry.dropFirst(1))) && host.count > entry.count - 1 : host == entry
        }
    }

    /// The policy result URLs are downloaded under: at most ``maxBytes``, 10 s to connect, 30 s
    /// without data, ``timeout`` in all, 5 redirects each checked, no proxy, loopback only with
    /// ``allowLoopbackResults``; no redirects with ``resultHosts``.
    var fetchPolicy: FetchPolicy {
        FetchPolicy(maxBytes: maxBytes, connectTimeout: min(10, timeout), stallTimeout: min(30, timeout), totalTimeout: timeout,
                    maxRedirects: resultHosts.isEmpty ? 5 : 0, proxy: nil,
                    allowedPrivateAddresses: allowLoopbackResults ? [IPAddress("127.0.0.1")!, IPAddress("::1")!] : [])
    }
}
